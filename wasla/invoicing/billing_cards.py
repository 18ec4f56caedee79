"""The merchant's billing card on Wasla's own Stripe account: saved through setup-mode Checkout.

`billing_card_setup_start` makes (or reuses) the tenant's Stripe Customer and a setup session,
and answers its hosted page URL. The card itself is saved only from the signed
`checkout.session.completed` event (`billing_webhooks.py`), which reads it back from Stripe
(`billing_card_save`). One row per tenant (unique): a new card replaces the old one.
"""

from __future__ import annotations

from datetime import datetime

from django.db import IntegrityError, transaction

from wasla.tenants.models import Tenant

from . import billing_stripe
from .models import BillingCard


def _customer_row(*, tenant: Tenant) -> BillingCard:
    row = BillingCard.objects.filter(tenant=tenant).first()
    if row is not None:
        return row
    # No lock across the call: concurrent set-ups get the same Customer (tenant's idempotency
    # key) and the unique row decides who stores it.
    customer_id = billing_stripe.customer_ensure(
        tenant_id=tenant.pk, name=tenant.legal_name_en or tenant.name
    )
    try:
        with transaction.atomic():
            return BillingCard.objects.create(tenant=tenant, stripe_customer_id=customer_id)
    except IntegrityError:
        return BillingCard.objects.get(tenant=tenant)


def billing_card_setup_start(*, tenant: Tenant, currency: str, return_url: str) -> str:
    """The hosted page where the merchant saves a card (raises billing_stripe errors)."""
    row = _customer_row(tenant=tenant)
    return billing_stripe.setup_session_create(
        customer_id=row.stripe_customer_id,
        tenant_id=tenant.pk,
        currency=currency,
        success_url=return_url,
        cancel_url=return_url,
    )


def billing_card_save(*, tenant_id: int, card: billing_stripe.SavedCard, now: datetime) -> None:
    """Store the card a completed setup session saved, in the tenant's scope."""
    with transaction.atomic():
        row = BillingCard.objects.select_for_update().filter(tenant_id=tenant_id).first()
        if row is None:
            row = BillingCard(tenant_id=tenant_id)
        row.stripe_customer_id = card.customer_id or row.stripe_customer_id
        row.payment_method_id = card.payment_method_id
        row.brand, row.last4 = card.brand[:20], card.last4[:4]
        row.exp_month, row.exp_year = card.exp_month, card.exp_year
        row.saved_at = now
        row.save()


def billing_card_attach(*, tenant: Tenant, payment_method_id: str, now: datetime) -> None:
    """Save a PaymentMethod Wasla already holds (attached by the API, no Checkout page) as the
    tenant's card: the demo's test card. Raises billing_stripe errors."""
    row = _customer_row(tenant=tenant)
    card = billing_stripe.payment_method_attach(
        customer_id=row.stripe_customer_id, payment_method_id=payment_method_id
    )
    billing_card_save(tenant_id=tenant.pk, card=card, now=now)


def billing_card_get(*, tenant: Tenant) -> BillingCard | None:
    """The tenant's saved card, or None when none was saved yet."""
    row = BillingCard.objects.filter(tenant=tenant).first()
    return row if row is not None and row.is_saved else None
