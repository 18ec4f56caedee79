"""The demo's collection by card: one demo tenant pays its invoices by card, the other leaves
them outstanding.

`demo_collection_run` saves the card tenant's billing card — Stripe's test card that succeeds
(`pm_card_visa`), attached to its Customer on Wasla's own Stripe account by the real API calls
(the sandbox, already serving) — then runs the daily collection (`invoices_collect`) as of the
seeding clock. Each charge's `payment_intent.succeeded` reaches the billing webhook, which the
sandbox's pre-configured endpoint calls inline, and the webhook records the payment: the
invoices end `paid`. A second run finds the card saved and nothing due, and changes nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

from wasla.invoicing import billing_stripe
from wasla.invoicing.billing_cards import billing_card_attach, billing_card_get
from wasla.invoicing.collection import CollectResult, invoices_collect
from wasla.tenants.context import tenant_context
from wasla.tenants.models import Tenant

TEST_CARD: Final = "pm_card_visa"  # Stripe's test PaymentMethod that always succeeds


class DemoCollectionFailed(Exception):
    """The card could not be saved or an invoice could not be charged."""


def demo_collection_run(*, card_tenant: Tenant, now: datetime) -> list[CollectResult]:
    """Save `card_tenant`'s test card (once) and collect every invoice that is due now."""
    with tenant_context(card_tenant.pk):
        if billing_card_get(tenant=card_tenant) is None:
            try:
                billing_card_attach(tenant=card_tenant, payment_method_id=TEST_CARD, now=now)
            except (
                billing_stripe.BillingStripeUnavailable,
                billing_stripe.BillingStripeRefused,
            ) as error:
                raise DemoCollectionFailed(f"{card_tenant.slug}'s card: {error}") from error
    results = invoices_collect(now=now)
    failed = [r for r in results if r.outcome not in ("charged", "skipped")]
    if failed:
        raise DemoCollectionFailed(
            "; ".join(f"{r.invoice}: {r.outcome} {r.detail}" for r in failed)
        )
    return results
