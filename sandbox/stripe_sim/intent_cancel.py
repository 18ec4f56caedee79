"""`POST /v1/payment_intents/{id}/cancel`: cancel a PaymentIntent that has not been paid.

As Stripe documents it: an intent in `requires_payment_method`, `requires_confirmation` or
`requires_action` becomes `canceled` (final), with `canceled_at` and the `cancellation_reason`
given (`abandoned`, `duplicate`, `fraudulent`, `requested_by_customer`), and a
`payment_intent.canceled` event. Any other status (`succeeded`, `canceled`) is a 400
`payment_intent_unexpected_state` whose error carries the intent as it is, so the caller learns
it was paid. The sandbox has no `processing` or `requires_capture` intents. A Checkout Session's
intent is canceled by expiring the session, not here. Once canceled, the 3-D Secure page can no
longer pay it (`intents.payment_intent_authenticate` only moves `requires_action`).
"""

from __future__ import annotations

from typing import Final

from django.db import transaction

from sandbox.stripe_sim import errors
from sandbox.stripe_sim.intents import CONFIRMABLE, Confirmed
from sandbox.stripe_sim.models import StripeAccount, StripeCheckoutSession, StripePaymentIntent
from sandbox.stripe_sim.serializers import payment_intent_to_dict
from sandbox.stripe_sim.services import RequestRef, event_record
from sandbox.stripe_sim.validation import Params, _optional_string, reject_unknown

CANCEL_PARAMS: Final = frozenset({"cancellation_reason"})
CANCELABLE: Final = CONFIRMABLE  # requires_payment_method, requires_confirmation, requires_action


def cancellation_reason_parse(data: Params) -> str:
    """Validate the cancel request's parameters; the reason, or "" when none was given."""
    reject_unknown(data, CANCEL_PARAMS)
    reason = _optional_string(data, "cancellation_reason", "cancellation_reason")
    reasons = StripePaymentIntent.CancellationReason.values
    if reason and reason not in reasons:
        raise errors.invalid(
            f"Invalid cancellation_reason: must be one of {', '.join(reasons)}",
            param="cancellation_reason",
        )
    return reason


def _not_cancelable(intent: StripePaymentIntent) -> errors.StripeApiError:
    return errors.StripeApiError(
        400,
        f"You cannot cancel this PaymentIntent because it has a status of {intent.status}. Only "
        "a PaymentIntent with one of the following statuses may be canceled: "
        "requires_payment_method, requires_capture, requires_confirmation, requires_action, "
        "processing.",
        code="payment_intent_unexpected_state",
        extra={"payment_intent": payment_intent_to_dict(intent)},
    )


def payment_intent_cancel(
    *, account: StripeAccount, intent_id: str, reason: str, now: int, request_ref: RequestRef
) -> Confirmed:
    """Cancel the intent under its row lock (the 3-D Secure page takes the same lock)."""
    with transaction.atomic(durable=True):
        intent = (
            StripePaymentIntent.objects.select_for_update()
            .filter(pk=intent_id, account=account)
            .first()
        )
        if intent is None:
            raise errors.no_such("payment_intent", intent_id)
        if StripeCheckoutSession.objects.filter(payment_intent=intent).exists():
            raise errors.invalid(
                "This PaymentIntent was created by a Checkout Session; expire the Checkout "
                "Session instead.",
                code="payment_intent_unexpected_state",
            )
        if intent.status not in CANCELABLE:
            raise _not_cancelable(intent)
        intent.status = StripePaymentIntent.Status.CANCELED
        intent.canceled_at = now
        intent.cancellation_reason = reason
        intent.next_action = None
        intent.save()
        event = event_record(
            account_id=account.id,
            type="payment_intent.canceled",
            data_object=payment_intent_to_dict(intent),
            now=now,
            request=request_ref,
        )
    return Confirmed(intent, [event.id])
