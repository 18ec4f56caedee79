"""A card PaymentIntent of an invoice that succeeded at Stripe: recorded as the invoice's payment,
or, when the invoice cannot take it, refunded whole — never only logged.

`card_payment_apply` runs with the invoice locked, in the caller's transaction (the billing
webhook's, or the collection's when canceling the merchant's on-session PaymentIntent finds it
paid). A PaymentIntent is either recorded whole (`invoice_payment_record`, once per
PaymentIntent, its try `succeeded`) or, when the invoice no longer owes that much (paid meanwhile
by another PaymentIntent, or reduced by a credit note), refunded whole: a `BillingRefund` row,
one per PaymentIntent, written in the same transaction; Stripe is asked after the commit, with
no lock held (`billing_refund_send`, idempotency key `wasla-refund-<pi>`). A refund Stripe did
not answer stays `pending` and the daily collection asks again (`billing_refunds_retry`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Final

from django.db import transaction

from wasla.tenants.context import platform_access, tenant_context

from . import billing_intents, billing_stripe
from .collection_tries import collection_try_settle
from .models import BillingRefund, CollectionTry, Invoice, InvoicePayment
from .payments import PaymentRefused, invoice_payment_record
from .services import RIYADH

logger = logging.getLogger(__name__)

REFUND_RETRY_AFTER: Final = timedelta(minutes=10)


@dataclass(frozen=True)
class CardPaymentApplied:
    outcome: str  # recorded | already recorded | refunding | refunded already
    detail: str = ""


def card_payment_apply(
    *,
    invoice: Invoice,
    attempt: CollectionTry | None,
    intent_id: str,
    amount: Decimal,
    actor: str,
    now: datetime,
) -> CardPaymentApplied:
    """Record or refund the succeeded PaymentIntent `intent_id` of the locked `invoice` (see the
    module docstring); `attempt` is the try it was made for, locked, when known."""
    if BillingRefund.objects.filter(payment_intent_id=intent_id).exists():
        return CardPaymentApplied("refunded already")
    try:
        with transaction.atomic():  # a refusal writes nothing
            recorded = invoice_payment_record(
                invoice=invoice,
                amount=amount,
                paid_on=now.astimezone(RIYADH).date(),
                reference=intent_id,
                method=InvoicePayment.Method.CARD,
                actor=actor,
                now=now,
            )
    except PaymentRefused as refused:
        refund = BillingRefund.objects.create(
            tenant_id=invoice.tenant_id,
            invoice=invoice,
            payment_intent_id=intent_id,
            amount=amount,
            currency=invoice.currency,
            reason=str(refused)[:500],
            created_at=now,
        )
        tenant_id = invoice.tenant_id
        transaction.on_commit(lambda: _send_in_scope(tenant_id, refund.pk))
        logger.warning("card payment %s refunded: %s", intent_id, refused)
        return CardPaymentApplied("refunding", str(refused))
    if attempt is not None:
        collection_try_settle(attempt=attempt, status=CollectionTry.Status.SUCCEEDED)
    return CardPaymentApplied("recorded" if recorded.created else "already recorded")


def _send_in_scope(tenant_id: int, refund_id: int) -> None:
    with tenant_context(tenant_id):
        billing_refund_send(refund_id=refund_id)


def billing_refund_send(*, refund_id: int) -> BillingRefund:
    """Ask Stripe for a pending refund (in its tenant's scope) and record the answer; Stripe
    unreachable leaves it pending for the next try."""
    refund = BillingRefund.objects.get(pk=refund_id)
    if refund.status != BillingRefund.Status.PENDING:
        return refund
    try:
        outcome = billing_intents.refund(
            intent_id=refund.payment_intent_id,
            idempotency_key=refund.idempotency_key,
            metadata={"invoice_id": str(refund.invoice_id), "tenant_id": str(refund.tenant_id)},
        )
    except billing_stripe.BillingStripeUnavailable as error:
        logger.warning("refund of %s not sent yet: %s", refund.payment_intent_id, error)
        return refund
    except billing_stripe.BillingStripeRefused as refused:
        status, at_stripe, failure = BillingRefund.Status.FAILED, "", refused.message
    else:
        # Accepted by Stripe (succeeded, or pending at the card network) unless it says otherwise.
        failed = outcome.status in ("failed", "canceled")
        status = BillingRefund.Status.FAILED if failed else BillingRefund.Status.SUCCEEDED
        at_stripe, failure = outcome.refund_id, f"Stripe: {outcome.status}" if failed else ""
    with transaction.atomic():
        locked = BillingRefund.objects.select_for_update().get(pk=refund.pk)
        if locked.status == BillingRefund.Status.PENDING:
            locked.status, locked.failure_message = status, failure[:500]
            locked.stripe_refund_id = at_stripe[:100]
            locked.save()
    if status == BillingRefund.Status.FAILED:
        logger.error("refund of %s refused by Stripe: %s", refund.payment_intent_id, failure)
    return locked


def billing_refunds_retry(*, now: datetime) -> list[BillingRefund]:
    """Send again every refund left pending for a while (the daily collection runs this)."""
    with platform_access(reason="card refunds left pending"):
        pending = list(
            BillingRefund.objects.filter(
                status=BillingRefund.Status.PENDING, created_at__lte=now - REFUND_RETRY_AFTER
            ).values_list("pk", "tenant_id")
        )
    sent = []
    for refund_id, tenant_id in pending:
        with tenant_context(tenant_id):
            sent.append(billing_refund_send(refund_id=refund_id))
    return sent
