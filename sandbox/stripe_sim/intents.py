"""PaymentIntents made through the API: charge a saved card, usually off-session.

Confirming (at creation with `confirm=true`, or by `POST …/confirm`) charges the card at once, with
the outcome its Stripe test card has (`testcards.py`):
- success: a succeeded charge, the intent `succeeded`, `payment_intent.succeeded`;
- decline: a failed charge, the intent back to `requires_payment_method` with
  `last_payment_error`, `payment_intent.payment_failed`, and a 402 `card_error` answer;
- authentication required: off-session, a decline with `authentication_required`; on-session,
  the intent `requires_action` with a `next_action` that opens the simulator's 3-D Secure page
  (`payment_intent.requires_action`); passing it there succeeds the intent.

A decline is an answer, not a refused request: its state change is committed (and its 402 kept
for `Idempotency-Key` replays). Locks: PaymentMethod, then intent at creation; intent, then
PaymentMethod on a confirmation; nothing locks them the other way round.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from django.db import transaction

from sandbox.stripe_sim import errors
from sandbox.stripe_sim.billing_serializers import card_payment_method_to_dict
from sandbox.stripe_sim.billing_validation import IntentConfirmRequest, IntentCreateRequest
from sandbox.stripe_sim.customers import (
    DETACHED_MESSAGE,
    customer_get_param,
    payment_method_for_param,
)
from sandbox.stripe_sim.models import (
    StripeAccount,
    StripeCharge,
    StripeCheckoutSession,
    StripeCustomer,
    StripePaymentIntent,
    StripePaymentMethod,
)
from sandbox.stripe_sim.serializers import CARD_DECLINED_MESSAGE, payment_intent_to_dict
from sandbox.stripe_sim.services import RequestRef, event_record, new_id
from sandbox.stripe_sim.testcards import Charge, card_named

AUTHENTICATION_REQUIRED_MESSAGE: Final = (
    "Your card was declined. This transaction requires authentication."
)
AUTHENTICATION_FAILED_MESSAGE: Final = (
    "The provided PaymentMethod has failed authentication. You can provide payment_method_data "
    "or a new PaymentMethod to attempt to fulfill this PaymentIntent again."
)
CONFIRMABLE: Final = frozenset(
    {
        StripePaymentIntent.Status.REQUIRES_PAYMENT_METHOD,
        StripePaymentIntent.Status.REQUIRES_CONFIRMATION,
        StripePaymentIntent.Status.REQUIRES_ACTION,
    }
)

UrlFor = Callable[[str], str]


@dataclass(frozen=True)
class Confirmed:
    """The intent after a request, the events to deliver, and the 402 to answer with if any."""

    intent: StripePaymentIntent
    events: list[str]
    card_error: errors.StripeApiError | None = None


def _method_usable(method: StripePaymentMethod, customer: StripeCustomer | None) -> None:
    if method.detached:
        raise errors.invalid(DETACHED_MESSAGE, param="payment_method")
    if method.customer_id is None:
        return
    if customer is None:
        raise errors.invalid(
            f"The provided PaymentMethod is attached to a Customer ({method.customer_id}). Pass "
            "that Customer's ID as `customer` to use it.",
            param="payment_method",
        )
    if method.customer_id != customer.id:
        raise errors.invalid(
            f"The provided PaymentMethod {method.id} belongs to another Customer and cannot be "
            f"used with {customer.id}.",
            param="payment_method",
        )


def _event(intent: StripePaymentIntent, type: str, now: int, request: RequestRef | None) -> str:
    return event_record(
        account_id=intent.account_id,
        type=type,
        data_object=payment_intent_to_dict(intent),
        now=now,
        request=request,
    ).id


def _charge_create(
    intent: StripePaymentIntent,
    method: StripePaymentMethod,
    now: int,
    *,
    authenticated: bool,
    failure: tuple[str, str, str] | None = None,
) -> StripeCharge:
    """A charge of the whole amount; `failure` is (code, decline_code, message) for a decline."""
    paid = failure is None
    code, decline_code, message = failure or ("", "", "")
    return StripeCharge.objects.create(
        id=new_id("ch_3"),
        account_id=intent.account_id,
        payment_intent=intent,
        amount=intent.amount,
        amount_captured=intent.amount if paid else 0,
        currency=intent.currency,
        status=StripeCharge.Status.SUCCEEDED if paid else StripeCharge.Status.FAILED,
        failure_code=code,
        failure_message=message,
        decline_code=decline_code,
        payment_method=method.id,
        customer_id=intent.customer_id,
        card={**card_named(method.test_card).summary(), "three_d_secure": authenticated},
        balance_transaction=new_id("txn_3") if paid else "",
        billing_email=method.billing_email,
        description=intent.description,
        created=now,
    )


def _succeed_locked(
    intent: StripePaymentIntent,
    method: StripePaymentMethod,
    now: int,
    request: RequestRef | None,
    *,
    authenticated: bool,
) -> Confirmed:
    charge = _charge_create(intent, method, now, authenticated=authenticated)
    intent.status = StripePaymentIntent.Status.SUCCEEDED
    intent.amount_received = intent.amount
    intent.payment_method = method
    intent.latest_charge = charge
    intent.last_payment_error = None
    intent.next_action = None
    intent.save()
    return Confirmed(intent, [_event(intent, "payment_intent.succeeded", now, request)])


def _decline_locked(
    intent: StripePaymentIntent,
    method: StripePaymentMethod,
    now: int,
    request: RequestRef | None,
    *,
    code: str,
    decline_code: str,
    message: str,
) -> Confirmed:
    """The card is declined: a failed charge, the intent wants another payment method."""
    charge = _charge_create(
        intent, method, now, authenticated=False, failure=(code, decline_code, message)
    )
    method_dict = card_payment_method_to_dict(method)
    intent.status = StripePaymentIntent.Status.REQUIRES_PAYMENT_METHOD
    intent.payment_method = None  # Stripe detaches a declined card from the intent
    intent.latest_charge = charge
    intent.next_action = None
    intent.last_payment_error = {
        "charge": charge.id,
        "code": code,
        "decline_code": charge.decline_code,
        "doc_url": f"https://stripe.com/docs/error-codes/{code.replace('_', '-')}",
        "message": message,
        "payment_method": method_dict,
        "type": "card_error",
    }
    intent.save()
    event = _event(intent, "payment_intent.payment_failed", now, request)
    error = errors.card_error(
        message,
        code=code,
        decline_code=charge.decline_code,
        extra={
            "charge": charge.id,
            "payment_intent": payment_intent_to_dict(intent),
            "payment_method": method_dict,
        },
    )
    return Confirmed(intent, [event], error)


def _next_action(url: str, return_url: str) -> dict[str, Any]:
    """How the customer reaches the 3-D Secure page: a redirect back to `return_url` when one
    was given, else the URL Stripe.js would open itself (`use_stripe_sdk`)."""
    if return_url:
        return {
            "type": "redirect_to_url",
            "redirect_to_url": {"return_url": return_url, "url": url},
        }
    return {
        "type": "use_stripe_sdk",
        "use_stripe_sdk": {"type": "three_d_secure_redirect", "stripe_js": url},
    }


def _confirm_locked(
    intent: StripePaymentIntent,
    method: StripePaymentMethod,
    confirm: IntentConfirmRequest,
    now: int,
    request: RequestRef,
    authenticate_url_for: UrlFor,
) -> Confirmed:
    card = card_named(method.test_card)
    if card.charge == Charge.SUCCEED:
        return _succeed_locked(intent, method, now, request, authenticated=False)
    if card.charge == Charge.DECLINE:
        return _decline_locked(
            intent,
            method,
            now,
            request,
            code="card_declined",
            decline_code="generic_decline",
            message=CARD_DECLINED_MESSAGE,
        )
    if confirm.off_session:
        # Nobody is there to authenticate: the issuer's soft decline is final for this attempt.
        return _decline_locked(
            intent,
            method,
            now,
            request,
            code="authentication_required",
            decline_code="authentication_required",
            message=AUTHENTICATION_REQUIRED_MESSAGE,
        )
    intent.status = StripePaymentIntent.Status.REQUIRES_ACTION
    intent.payment_method = method
    intent.last_payment_error = None
    intent.return_url = confirm.return_url
    intent.next_action = _next_action(authenticate_url_for(intent.id), confirm.return_url)
    intent.save()
    return Confirmed(intent, [_event(intent, "payment_intent.requires_action", now, request)])


def payment_intent_create(
    *,
    account: StripeAccount,
    request: IntentCreateRequest,
    now: int,
    request_ref: RequestRef,
    authenticate_url_for: UrlFor,
) -> Confirmed:
    """`POST /v1/payment_intents`, confirmed at once when `confirm=true`."""
    with transaction.atomic(durable=True):
        customer = None
        if request.customer:
            customer = customer_get_param(account, request.customer, "customer")
        method = None
        if request.payment_method:
            method = payment_method_for_param(account, request.payment_method, now)
            _method_usable(method, customer)
        if request.confirm is not None and method is None:
            raise errors.invalid(
                "You cannot confirm this PaymentIntent because it's missing a payment method. "
                "To confirm it, pass `payment_method`.",
                param="payment_method",
                code="payment_intent_unexpected_state",
            )
        intent_id = new_id("pi_3")
        intent = StripePaymentIntent.objects.create(
            id=intent_id,
            account=account,
            amount=request.amount,
            currency=request.currency,
            status=(
                StripePaymentIntent.Status.REQUIRES_CONFIRMATION
                if method is not None
                else StripePaymentIntent.Status.REQUIRES_PAYMENT_METHOD
            ),
            customer=customer,
            payment_method=method,
            description=request.description,
            receipt_email=request.receipt_email,
            metadata=request.metadata,
            client_secret=f"{intent_id}_secret_{new_id('', 25)}",
            created=now,
        )
        if request.confirm is None or method is None:
            return Confirmed(intent, [])
        return _confirm_locked(
            intent, method, request.confirm, now, request_ref, authenticate_url_for
        )


def _unexpected_state(intent: StripePaymentIntent) -> errors.StripeApiError:
    return errors.invalid(
        f"You cannot confirm this PaymentIntent because it has a status of {intent.status}. "
        "Only a PaymentIntent with one of the following statuses may be confirmed: "
        "requires_confirmation, requires_payment_method, requires_action.",
        code="payment_intent_unexpected_state",
    )


def payment_intent_confirm(
    *,
    account: StripeAccount,
    intent_id: str,
    request: IntentConfirmRequest,
    now: int,
    request_ref: RequestRef,
    authenticate_url_for: UrlFor,
) -> Confirmed:
    """`POST /v1/payment_intents/{id}/confirm`, e.g. on-session with a new payment method after
    an off-session decline."""
    with transaction.atomic(durable=True):
        intent = (
            StripePaymentIntent.objects.select_for_update()
            .filter(pk=intent_id, account=account)
            .first()
        )
        if intent is None:
            raise errors.no_such("payment_intent", intent_id)
        if intent.status not in CONFIRMABLE:
            raise _unexpected_state(intent)
        if StripeCheckoutSession.objects.filter(payment_intent=intent).exists():
            raise errors.invalid(
                "This PaymentIntent belongs to a Checkout Session; the customer pays it on the "
                "session's page.",
                code="payment_intent_unexpected_state",
            )
        method = intent.payment_method
        if request.payment_method:
            method = payment_method_for_param(account, request.payment_method, now)
        if method is None:
            raise errors.invalid(
                "You cannot confirm this PaymentIntent because it's missing a payment method. "
                "You can either update the PaymentIntent with a payment method and then confirm "
                "it again, or confirm it again directly with a payment method.",
                code="payment_intent_unexpected_state",
            )
        _method_usable(method, intent.customer)
        return _confirm_locked(intent, method, request, now, request_ref, authenticate_url_for)


def payment_intent_authenticate(*, intent_id: str, passed: bool, now: int) -> Confirmed | None:
    """The customer passes (or fails) 3-D Secure on the simulator's page; None for an unknown
    intent. Only an intent that `requires_action` changes; anything else is left as it is."""
    with transaction.atomic(durable=True):
        intent = StripePaymentIntent.objects.select_for_update().filter(pk=intent_id).first()
        if intent is None:
            return None
        method = intent.payment_method
        if intent.status != StripePaymentIntent.Status.REQUIRES_ACTION or method is None:
            return Confirmed(intent, [])
        if passed:
            return _succeed_locked(intent, method, now, None, authenticated=True)
        intent.status = StripePaymentIntent.Status.REQUIRES_PAYMENT_METHOD
        intent.payment_method = None
        intent.next_action = None
        intent.last_payment_error = {
            "code": "payment_intent_authentication_failure",
            "doc_url": "https://stripe.com/docs/error-codes/payment-intent-authentication-failure",
            "message": AUTHENTICATION_FAILED_MESSAGE,
            "payment_method": card_payment_method_to_dict(method),
            "type": "invalid_request_error",
        }
        intent.save()
        return Confirmed(intent, [_event(intent, "payment_intent.payment_failed", now, None)])
