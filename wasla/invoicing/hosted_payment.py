"""The merchant pays an invoice on-session, when the off-session charge needed authentication.

`invoice_pay_on_session` charges the saved card with the merchant present: an on-session
PaymentIntent whose idempotency key derives from the invoice, the try and the card, so clicking
twice is one charge; Stripe answers with its 3-D Secure page (`next_action.redirect_to_url`),
which comes back to `return_url`. As for every card payment, only the billing webhook marks the
invoice paid.

No double charge with the collection's later off-session tries (invariant 1): the page starts a
PaymentIntent only for the latest try while it waits for authentication on an invoice that still
owes (checked under the invoice's lock), and records it on the try under the same lock after
Stripe answered; if the invoice was paid or a new try made meanwhile, it cancels the intent it
just made before the merchant is sent to 3-D Secure. Before every new try, the collection
cancels the on-session intents recorded (`invoice_on_session_close`); one that Stripe says
succeeded is recorded as the invoice's payment instead (`card_payments.card_payment_apply`: a
refund if the invoice cannot take it).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction

from . import billing_intents, billing_stripe
from .card_payments import card_payment_apply
from .models import BillingCard, CollectionTry, Invoice

logger = logging.getLogger(__name__)

NOTHING_WAITING = "This invoice has no payment waiting for you."


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


def _cancel_quietly(intent_id: str) -> None:
    """Cancel an intent nobody may pay; if that fails, its success is refunded (card_payments)."""
    try:
        billing_intents.intent_cancel(intent_id=intent_id)
    except (billing_stripe.BillingStripeUnavailable, billing_stripe.BillingStripeRefused) as error:
        logger.warning("on-session PaymentIntent %s not canceled: %s", intent_id, error)


def invoice_pay_on_session(*, invoice: Invoice, return_url: str) -> PayStart:
    """Start the on-session payment of `invoice` (in its tenant's scope)."""
    with transaction.atomic():
        locked = Invoice.objects.select_for_update().get(pk=invoice.pk)
        attempt = payable_try(locked)
        card = BillingCard.objects.filter(tenant_id=locked.tenant_id).first()
    if attempt is None or card is None or not card.is_saved:
        return PayStart(refusal=NOTHING_WAITING)
    request = billing_stripe.Charge(
        customer_id=card.stripe_customer_id,
        payment_method_id=card.payment_method_id,
        amount=locked.amount_due,
        currency=locked.currency,
        metadata={
            "invoice_id": str(locked.pk),
            "tenant_id": str(locked.tenant_id),
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
    replaced, still_payable = "", True
    if outcome.intent_id:
        with transaction.atomic():
            now_invoice = Invoice.objects.select_for_update().get(pk=locked.pk)
            row = CollectionTry.objects.select_for_update().get(pk=attempt.pk)
            still = payable_try(now_invoice)
            still_payable = still is not None and still.pk == row.pk
            if row.action_intent_id != outcome.intent_id:
                replaced = row.action_intent_id
                row.action_intent_id = outcome.intent_id[:100]
                row.save(update_fields=["action_intent_id", "updated_at"])
    if replaced:  # the merchant's earlier intent for this try (another card): nobody pays it now
        _cancel_quietly(replaced)
    if outcome.status == "requires_action" and not still_payable:
        _cancel_quietly(outcome.intent_id)  # paid or charged again meanwhile
        return PayStart(refusal=NOTHING_WAITING)
    if outcome.status == "requires_action" and outcome.redirect_url:
        return PayStart(redirect_url=outcome.redirect_url)
    if outcome.status == "succeeded":
        return PayStart(redirect_url=return_url)
    return PayStart(refusal=outcome.message or "The card was declined.")


@dataclass(frozen=True)
class OnSessionClosed:
    paid: bool = False  # one of them was paid: recorded (or refunded), nothing more to charge
    closed: frozenset[str] = field(default_factory=frozenset)  # canceled, for good
    detail: str = ""


def invoice_on_session_close(*, invoice_id: int, now: datetime) -> OnSessionClosed:
    """Cancel every on-session PaymentIntent recorded on the invoice's tries (in its tenant's
    scope, no lock held across the calls); one already paid is applied to the invoice instead.
    Raises billing_stripe.BillingStripeUnavailable when Stripe cannot be asked."""
    open_tries = (
        CollectionTry.objects.filter(invoice_id=invoice_id)
        .exclude(action_intent_id="")
        .exclude(status=CollectionTry.Status.SUCCEEDED)
        .order_by("number")
    )
    closed: set[str] = set()
    for attempt_id, intent_id in open_tries.values_list("pk", "action_intent_id"):
        state = billing_intents.intent_cancel(intent_id=intent_id)
        if state.status == "canceled":
            closed.add(intent_id)
        elif state.status == "succeeded":
            with transaction.atomic():
                invoice = Invoice.objects.select_for_update().get(pk=invoice_id)
                attempt = CollectionTry.objects.select_for_update().get(pk=attempt_id)
                applied = card_payment_apply(
                    invoice=invoice,
                    attempt=attempt,
                    intent_id=intent_id,
                    amount=state.amount_received,
                    actor="collection",
                    now=now,
                )
            return OnSessionClosed(paid=True, detail=f"{intent_id}: {applied.outcome}")
    return OnSessionClosed(closed=frozenset(closed))
