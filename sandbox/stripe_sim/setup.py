"""Checkout Sessions in `setup` mode: save a card for later off-session charges.

Creating the session creates its SetupIntent, as Checkout does. On the hosted page the customer
picks a Stripe test card; saving it attaches a new PaymentMethod to the session's customer,
succeeds the SetupIntent and completes the session (`payment_method.attached`,
`setup_intent.succeeded`, `checkout.session.completed`). A card that needs 3-D Secure to be saved
first puts the SetupIntent in `requires_action`; one that is declined leaves it wanting another
card (`setup_intent.setup_failed`) and the session open. Locks: session, then SetupIntent.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import Any, Final

from django.db import transaction

from sandbox.stripe_sim.billing_serializers import card_payment_method_to_dict, setup_intent_to_dict
from sandbox.stripe_sim.billing_validation import SetupSessionRequest
from sandbox.stripe_sim.customers import customer_get_param, payment_method_create
from sandbox.stripe_sim.models import (
    StripeAccount,
    StripeCheckoutSession,
    StripePaymentMethod,
    StripeSetupIntent,
)
from sandbox.stripe_sim.serializers import CARD_DECLINED_MESSAGE, checkout_session_to_dict
from sandbox.stripe_sim.services import (
    SESSION_ID_LENGTH,
    SESSION_LIFETIME,
    event_record,
    new_id,
    session_expire_locked,
    session_is_due,
    session_locked,
)
from sandbox.stripe_sim.testcards import Card

AUTHENTICATION_FAILED_MESSAGE: Final = (
    "The latest attempt to set up the payment method has failed because authentication failed."
)


class Outcome(StrEnum):
    """What the customer's choice did, for the page to answer with."""

    SAVED = "saved"  # session complete: back to success_url
    AUTHENTICATE = "authenticate"  # off to the 3-D Secure page
    DECLINED = "declined"  # the session is still open: show why, let them pick another card
    CLOSED = "closed"  # the session was already finished (or just expired): back to the merchant
    UNCHANGED = "unchanged"  # nothing to authenticate: back to the card choice


def setup_session_create(
    *,
    account: StripeAccount,
    request: SetupSessionRequest,
    setup_url_for: Callable[[str], str],
    now: int,
) -> StripeCheckoutSession:
    """An open session and its SetupIntent (`requires_payment_method`)."""
    with transaction.atomic(durable=True):
        customer = None
        if request.customer:
            customer = customer_get_param(account, request.customer, "customer")
        intent_id = new_id("seti_1")
        intent = StripeSetupIntent.objects.create(
            id=intent_id,
            account=account,
            customer=customer,
            description=request.intent_description,
            metadata=request.intent_metadata,
            client_secret=f"{intent_id}_secret_{new_id('', 32)}",
            created=now,
        )
        session_id = new_id("cs_test_c1", SESSION_ID_LENGTH - 2)
        return StripeCheckoutSession.objects.create(
            id=session_id,
            account=account,
            mode=StripeCheckoutSession.Mode.SETUP,
            payment_status=StripeCheckoutSession.PaymentStatus.NO_PAYMENT_REQUIRED,
            currency=request.currency,
            amount_subtotal=0,
            amount_total=0,
            line_items=[],
            success_url=request.success_url,
            cancel_url=request.cancel_url,
            client_reference_id=request.client_reference_id,
            customer_email=request.customer_email,
            locale=request.locale,
            metadata=request.metadata,
            customer=customer,
            setup_intent=intent,
            url=setup_url_for(session_id),
            created=now,
            expires_at=request.expires_at or now + SESSION_LIFETIME,
        )


def _setup_error(
    method: StripePaymentMethod, *, code: str, message: str, decline_code: str | None
) -> dict[str, Any]:
    error: dict[str, Any] = {
        "code": code,
        "doc_url": f"https://stripe.com/docs/error-codes/{code.replace('_', '-')}",
        "message": message,
        "payment_method": card_payment_method_to_dict(method),
        "type": "card_error" if decline_code else "invalid_request_error",
    }
    if decline_code:
        error["decline_code"] = decline_code
    return error


def _open_setup_locked(session_id: str, now: int) -> tuple[StripeCheckoutSession | None, list[str]]:
    """The session locked if it is an open setup session; else None and the events of expiring
    it if its time just ran out."""
    session = session_locked(session_id)
    if not session.is_open or session.mode != StripeCheckoutSession.Mode.SETUP:
        return None, []
    if session_is_due(session, now):
        return None, [session_expire_locked(session, now).id]
    return session, []


def _intent_locked(session: StripeCheckoutSession) -> StripeSetupIntent:
    return StripeSetupIntent.objects.select_for_update().get(pk=session.setup_intent_id)


def _complete_locked(
    session: StripeCheckoutSession,
    intent: StripeSetupIntent,
    method: StripePaymentMethod,
    now: int,
) -> list[str]:
    events = []
    customer = session.customer
    if customer is not None:
        method.customer = customer
        method.billing_email = customer.email
        method.billing_name = customer.name
        method.save()
        attached = event_record(
            account_id=session.account_id,
            type="payment_method.attached",
            data_object=card_payment_method_to_dict(method),
            now=now,
        )
        events.append(attached.id)
    intent.status = StripeSetupIntent.Status.SUCCEEDED
    intent.payment_method = method
    intent.last_setup_error = None
    intent.save()
    session.status = StripeCheckoutSession.Status.COMPLETE
    session.save(update_fields=["status"])
    for type, data_object in (
        ("setup_intent.succeeded", setup_intent_to_dict(intent)),
        ("checkout.session.completed", checkout_session_to_dict(session)),
    ):
        events.append(
            event_record(
                account_id=session.account_id, type=type, data_object=data_object, now=now
            ).id
        )
    return events


def _fail_locked(
    session: StripeCheckoutSession, intent: StripeSetupIntent, error: dict[str, Any], now: int
) -> list[str]:
    intent.status = StripeSetupIntent.Status.REQUIRES_PAYMENT_METHOD
    intent.payment_method = None
    intent.last_setup_error = error
    intent.save()
    event = event_record(
        account_id=session.account_id,
        type="setup_intent.setup_failed",
        data_object=setup_intent_to_dict(intent),
        now=now,
    )
    return [event.id]


def setup_session_save(*, session_id: str, card: Card, now: int) -> tuple[Outcome, list[str]]:
    """The customer saves `card` on the hosted page; returns what happened and the events."""
    with transaction.atomic(durable=True):
        session, events = _open_setup_locked(session_id, now)
        if session is None:
            return Outcome.CLOSED, events
        intent = _intent_locked(session)
        method = payment_method_create(session.account, card, now)
        if card.declines_setup:
            error = _setup_error(
                method,
                code="card_declined",
                message=CARD_DECLINED_MESSAGE,
                decline_code="generic_decline",
            )
            return Outcome.DECLINED, _fail_locked(session, intent, error, now)
        if card.setup_authenticates:
            intent.status = StripeSetupIntent.Status.REQUIRES_ACTION
            intent.payment_method = method
            intent.last_setup_error = None
            intent.save()
            event = event_record(
                account_id=session.account_id,
                type="setup_intent.requires_action",
                data_object=setup_intent_to_dict(intent),
                now=now,
            )
            return Outcome.AUTHENTICATE, [event.id]
        return Outcome.SAVED, _complete_locked(session, intent, method, now)


def setup_session_authenticate(
    *, session_id: str, passed: bool, now: int
) -> tuple[Outcome, list[str]]:
    """The customer passes (or fails) 3-D Secure for the card being saved."""
    with transaction.atomic(durable=True):
        session, events = _open_setup_locked(session_id, now)
        if session is None:
            return Outcome.CLOSED, events
        intent = _intent_locked(session)
        method = intent.payment_method
        if intent.status != StripeSetupIntent.Status.REQUIRES_ACTION or method is None:
            return Outcome.UNCHANGED, []
        if passed:
            return Outcome.SAVED, _complete_locked(session, intent, method, now)
        error = _setup_error(
            method,
            code="setup_intent_authentication_failure",
            message=AUTHENTICATION_FAILED_MESSAGE,
            decline_code=None,
        )
        return Outcome.DECLINED, _fail_locked(session, intent, error, now)
