"""Wasla's own Stripe account: what becomes of a PaymentIntent once made — its status, its
cancellation when nobody should pay it any more, and the refund of one that was paid but cannot
be recorded. Plain values in, frozen dataclasses out, errors as `billing_stripe`'s."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from wasla.common.money import from_minor_units

from . import billing_stripe


def intent_status(*, intent_id: str) -> str:
    return str(
        billing_stripe.api_call(lambda c: c.v1.payment_intents.retrieve(intent_id)).get("status")
    )


@dataclass(frozen=True)
class IntentState:
    """A PaymentIntent as Stripe holds it: `canceled`, `succeeded`, or still open."""

    id: str
    status: str
    amount_received: Decimal
    currency: str


def intent_cancel(*, intent_id: str) -> IntentState:
    """Cancel a PaymentIntent nobody should pay any more; when Stripe refuses because it is no
    longer open (succeeded, or canceled already), the intent as it stands."""
    try:
        intent = billing_stripe.api_call(
            lambda c: c.v1.payment_intents.cancel(
                intent_id, params={"cancellation_reason": "abandoned"}
            )
        )
    except billing_stripe.BillingStripeRefused as refused:
        if refused.code != "payment_intent_unexpected_state":
            raise
        intent = billing_stripe.api_call(lambda c: c.v1.payment_intents.retrieve(intent_id))
    currency = str(intent.get("currency") or "").upper()
    units = intent.get("amount_received")
    return IntentState(
        id=str(intent.get("id") or intent_id),
        status=str(intent.get("status")),
        amount_received=from_minor_units(units if isinstance(units, int) else 0, currency),
        currency=currency,
    )


@dataclass(frozen=True)
class RefundOutcome:
    refund_id: str
    status: str  # Stripe's: succeeded, pending, requires_action, failed, canceled


def refund(*, intent_id: str, idempotency_key: str, metadata: dict[str, str]) -> RefundOutcome:
    """Refund the whole of a PaymentIntent (`reason=duplicate`); the key makes a retry the same
    refund."""
    answer = billing_stripe.api_call(
        lambda c: c.v1.refunds.create(
            params={"payment_intent": intent_id, "reason": "duplicate", "metadata": metadata},
            options={"idempotency_key": idempotency_key},
        )
    )
    return RefundOutcome(str(answer.get("id") or ""), str(answer.get("status") or ""))
