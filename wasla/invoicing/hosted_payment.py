"""The merchant pays an invoice on-session, when the off-session charge needed authentication.

`invoice_pay_on_session` charges the saved card with the merchant present: an on-session
PaymentIntent whose idempotency key derives from the invoice, the try and the card, so clicking
twice is one charge; Stripe answers with its 3-D Secure page (`next_action.redirect_to_url`),
which comes back to `return_url`. As for every card payment, only the billing webhook marks the
invoice paid.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from . import billing_stripe
from .models import BillingCard, CollectionTry, Invoice


@dataclass(frozen=True)
class PayStart:
    redirect_url: str = ""  # where the merchant goes next (3-D Secure, or back to return_url)
    refusal: str = ""  # why not, for the page to say


def payable_try(invoice: Invoice) -> CollectionTry | None:
    """The try the merchant may complete on the hosted page, if the invoice still owes."""
    if invoice.status != Invoice.Status.ISSUED or invoice.amount_due <= 0:
        return None
    latest = invoice.collection_tries.order_by("-number").first()
    if latest is None or latest.status != CollectionTry.Status.REQUIRES_AUTHENTICATION:
        return None
    return latest


def invoice_pay_on_session(*, invoice: Invoice, return_url: str) -> PayStart:
    """Start the on-session payment of `invoice` (in its tenant's scope)."""
    attempt = payable_try(invoice)
    card = BillingCard.objects.filter(tenant_id=invoice.tenant_id).first()
    if attempt is None or card is None or not card.is_saved:
        return PayStart(refusal="This invoice has no payment waiting for you.")
    request = billing_stripe.Charge(
        customer_id=card.stripe_customer_id,
        payment_method_id=card.payment_method_id,
        amount=invoice.amount_due,
        currency=invoice.currency,
        metadata={
            "invoice_id": str(invoice.pk),
            "tenant_id": str(invoice.tenant_id),
            "try": str(attempt.number),
            "on_session": "1",
        },
        idempotency_key=f"{attempt.idempotency_key}-on-session-{card.payment_method_id}",
        return_url=return_url,
    )
    try:
        outcome = billing_stripe.charge(request)
    except billing_stripe.BillingStripeUnavailable:
        return PayStart(refusal="The card network is not answering; please try again shortly.")
    except billing_stripe.BillingStripeRefused as refused:
        return PayStart(refusal=refused.message)
    if outcome.intent_id:
        with transaction.atomic():
            locked = CollectionTry.objects.select_for_update().get(pk=attempt.pk)
            locked.action_intent_id = outcome.intent_id[:100]
            locked.save(update_fields=["action_intent_id", "updated_at"])
    if outcome.status == "requires_action" and outcome.redirect_url:
        return PayStart(redirect_url=outcome.redirect_url)
    if outcome.status == "succeeded":
        return PayStart(redirect_url=return_url)
    return PayStart(refusal=outcome.message or "The card was declined.")
