"""Writes of the Stripe simulator: accounts, sessions and their payment, refunds, endpoints.

Every state change happens in one `transaction.atomic(durable=True)` block under row locks taken
in a fixed order (session, then intent, then charge), and records its events in that same block.
`durable=True` guarantees the change is committed when the function returns, because the webhook
receiver fetches the objects back over HTTP from another connection. The callers deliver the
returned events afterwards (`webhooks.events_deliver`), never while a lock is held; the one
exception is `dashboard_refund`, an entry point of its own that delivers what it caused.
"""

from __future__ import annotations

import secrets
import string
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final

from django.db import IntegrityError, transaction

from sandbox.stripe_sim import errors
from sandbox.stripe_sim.currencies import amount_display, currency_exponent
from sandbox.stripe_sim.keys import account_id_for_digest, key_digest, secret_encrypt
from sandbox.stripe_sim.models import (
    StripeAccount,
    StripeCharge,
    StripeCheckoutSession,
    StripeEvent,
    StripePaymentIntent,
    StripeRefund,
    StripeWebhookEndpoint,
)
from sandbox.stripe_sim.serializers import (
    API_VERSION,
    CARD_DECLINED_MESSAGE,
    charge_to_dict,
    checkout_session_to_dict,
    last_payment_error_for,
    payment_intent_to_dict,
    refund_to_dict,
)
from sandbox.stripe_sim.validation import (
    EndpointRequest,
    RefundCreateRequest,
    SessionCreateRequest,
)
from sandbox.stripe_sim.webhooks import events_deliver
from sandbox.stripe_sim.webhooks import flush as flush  # the test controls live together here

ID_ALPHABET: Final = string.ascii_letters + string.digits
SESSION_LIFETIME: Final = 24 * 60 * 60
SESSION_ID_LENGTH: Final = 58


@dataclass(frozen=True)
class RequestRef:
    """The API request that caused an event (`event.request`); absent for hosted-page actions."""

    id: str = ""
    idempotency_key: str = ""


def now_unix() -> int:
    return int(time.time())


def new_id(prefix: str, length: int = 24) -> str:
    return prefix + "".join(secrets.choice(ID_ALPHABET) for _ in range(length))


# Accounts --------------------------------------------------------------------------------------


def account_for_key(*, api_key: str) -> StripeAccount:
    """The account of a test secret key, created on its first use; the key itself is not kept."""
    digest = key_digest(api_key)
    account = StripeAccount.objects.filter(key_digest=digest).first()
    if account is not None:
        return account
    try:
        with transaction.atomic():
            return StripeAccount.objects.create(id=account_id_for_digest(digest), key_digest=digest)
    except IntegrityError:
        # A concurrent first request of the same key created it.
        return StripeAccount.objects.get(key_digest=digest)


# Events ----------------------------------------------------------------------------------------


def event_record(
    *,
    account_id: str,
    type: str,
    data_object: dict[str, Any],
    now: int,
    request: RequestRef | None = None,
) -> StripeEvent:
    """Store an event for every endpoint listening now; call inside the state change's atomic."""
    endpoints = StripeWebhookEndpoint.objects.filter(
        account_id=account_id, status=StripeWebhookEndpoint.Status.ENABLED
    ).order_by("created_at", "id")
    endpoint_ids = [endpoint.id for endpoint in endpoints if endpoint.listens_to(type)]
    request = request or RequestRef()
    return StripeEvent.objects.create(
        id=new_id("evt_"),
        account_id=account_id,
        type=type,
        api_version=API_VERSION,
        data_object=data_object,
        request_id=request.id,
        request_idempotency_key=request.idempotency_key,
        endpoint_ids=endpoint_ids,
        pending_webhooks=len(endpoint_ids),
        created=now,
    )


# Checkout Sessions -----------------------------------------------------------------------------


def _line_items_stored(request: SessionCreateRequest) -> list[dict[str, Any]]:
    return [
        {
            "id": new_id("li_"),
            "price": new_id("price_"),
            "product": new_id("prod_", 14),
            "name": item.name,
            "description": item.description,
            "unit_amount": item.unit_amount,
            "quantity": item.quantity,
            "amount": item.amount,
        }
        for item in request.line_items
    ]


def checkout_session_create(
    *,
    account: StripeAccount,
    request: SessionCreateRequest,
    pay_url_for: Callable[[str], str],
    now: int,
) -> StripeCheckoutSession:
    """An open, unpaid session; its PaymentIntent is created when the customer tries to pay."""
    session_id = new_id("cs_test_a1", SESSION_ID_LENGTH - 2)
    return StripeCheckoutSession.objects.create(
        id=session_id,
        account=account,
        currency=request.currency,
        amount_subtotal=request.amount_total,
        amount_total=request.amount_total,
        line_items=_line_items_stored(request),
        success_url=request.success_url,
        cancel_url=request.cancel_url,
        client_reference_id=request.client_reference_id,
        customer_email=request.customer_email,
        locale=request.locale,
        metadata=request.metadata,
        intent_metadata=request.intent_metadata,
        intent_description=request.intent_description,
        url=pay_url_for(session_id),
        created=now,
        expires_at=request.expires_at or now + SESSION_LIFETIME,
    )


def session_locked(session_id: str) -> StripeCheckoutSession:
    return StripeCheckoutSession.objects.select_for_update().get(pk=session_id)


def session_expire_locked(
    session: StripeCheckoutSession, now: int, request: RequestRef | None = None
) -> StripeEvent:
    session.status = StripeCheckoutSession.Status.EXPIRED
    session.save(update_fields=["status"])
    return event_record(
        account_id=session.account_id,
        type="checkout.session.expired",
        data_object=checkout_session_to_dict(session),
        now=now,
        request=request,
    )


def session_is_due(session: StripeCheckoutSession, now: int) -> bool:
    return session.is_open and now >= session.expires_at


def checkout_session_expire_if_due(*, session_id: str, now: int) -> list[str]:
    """Expire an open session whose `expires_at` has passed; returns the events to deliver.

    Stripe expires sessions on its own clock; the sandbox does it when a session is next read.
    """
    with transaction.atomic(durable=True):
        session = session_locked(session_id)
        if not session_is_due(session, now):
            return []
        return [session_expire_locked(session, now).id]


def checkout_session_expire(
    *, session: StripeCheckoutSession, now: int, request: RequestRef
) -> tuple[StripeCheckoutSession, list[str]]:
    """`POST /v1/checkout/sessions/{id}/expire`: only an open session can be expired."""
    with transaction.atomic(durable=True):
        locked = session_locked(session.id)
        if not locked.is_open:
            raise errors.invalid(
                'Only Checkout Sessions with a status in ["open"] can be expired. This Checkout '
                f'Session has a status of "{locked.status}".'
            )
        event = session_expire_locked(locked, now, request)
    return locked, [event.id]


def checkout_session_cancel(*, session_id: str, now: int) -> list[str]:
    """The customer cancels on the hosted page: the session expires. Nothing if not open."""
    with transaction.atomic(durable=True):
        session = session_locked(session_id)
        if not session.is_open:
            return []
        return [session_expire_locked(session, now).id]


def _intent_for_session_locked(session: StripeCheckoutSession, now: int) -> StripePaymentIntent:
    """The session's PaymentIntent, created at the first payment attempt like Checkout does."""
    if session.payment_intent_id is not None:
        return StripePaymentIntent.objects.select_for_update().get(pk=session.payment_intent_id)
    intent_id = new_id("pi_3")
    intent = StripePaymentIntent.objects.create(
        id=intent_id,
        account_id=session.account_id,
        amount=session.amount_total,
        currency=session.currency,
        description=session.intent_description,
        metadata=session.intent_metadata,
        client_secret=f"{intent_id}_secret_{new_id('', 25)}",
        created=now,
    )
    session.payment_intent = intent
    session.save(update_fields=["payment_intent"])
    return intent


def _charge_create(
    intent: StripePaymentIntent, session: StripeCheckoutSession, now: int, *, paid: bool
) -> StripeCharge:
    return StripeCharge.objects.create(
        id=new_id("ch_3"),
        account_id=intent.account_id,
        payment_intent=intent,
        amount=intent.amount,
        amount_captured=intent.amount if paid else 0,
        currency=intent.currency,
        status=StripeCharge.Status.SUCCEEDED if paid else StripeCharge.Status.FAILED,
        failure_code="" if paid else "card_declined",
        failure_message="" if paid else CARD_DECLINED_MESSAGE,
        decline_code="" if paid else "generic_decline",
        payment_method=new_id("pm_1"),
        balance_transaction=new_id("txn_3") if paid else "",
        billing_email=session.customer_email,
        description=intent.description,
        created=now,
    )


def checkout_session_pay(*, session_id: str, now: int) -> list[str]:
    """The customer pays (and passes 3-D Secure): intent succeeded, session complete.

    Returns the events to deliver; none when the session was no longer open (a second click).
    A session past its `expires_at` expires instead of being paid.
    """
    with transaction.atomic(durable=True):
        session = session_locked(session_id)
        # A setup-mode session saves a card on its own page (setup.py); it never pays.
        if not session.is_open or session.mode != StripeCheckoutSession.Mode.PAYMENT:
            return []
        if session_is_due(session, now):
            return [session_expire_locked(session, now).id]
        intent = _intent_for_session_locked(session, now)
        charge = _charge_create(intent, session, now, paid=True)
        intent.status = StripePaymentIntent.Status.SUCCEEDED
        intent.amount_received = intent.amount
        intent.latest_charge = charge
        intent.last_payment_error = None
        intent.save()
        session.status = StripeCheckoutSession.Status.COMPLETE
        session.payment_status = StripeCheckoutSession.PaymentStatus.PAID
        session.save(update_fields=["status", "payment_status"])
        event = event_record(
            account_id=session.account_id,
            type="checkout.session.completed",
            data_object=checkout_session_to_dict(session),
            now=now,
        )
    return [event.id]


def checkout_session_decline(*, session_id: str, now: int) -> list[str]:
    """The customer's card is declined: the intent wants another payment method, the session
    stays open for another try. Returns the events to deliver (none if no longer open)."""
    with transaction.atomic(durable=True):
        session = session_locked(session_id)
        # A setup-mode session saves a card on its own page (setup.py); it never pays.
        if not session.is_open or session.mode != StripeCheckoutSession.Mode.PAYMENT:
            return []
        if session_is_due(session, now):
            return [session_expire_locked(session, now).id]
        intent = _intent_for_session_locked(session, now)
        charge = _charge_create(intent, session, now, paid=False)
        intent.status = StripePaymentIntent.Status.REQUIRES_PAYMENT_METHOD
        intent.latest_charge = charge
        intent.last_payment_error = last_payment_error_for(charge)
        intent.save()
        event = event_record(
            account_id=session.account_id,
            type="payment_intent.payment_failed",
            data_object=payment_intent_to_dict(intent),
            now=now,
        )
    return [event.id]


# Refunds ---------------------------------------------------------------------------------------


def _refund_target_locked(account: StripeAccount, request: RefundCreateRequest) -> StripeCharge:
    """The succeeded charge a refund request points at, locked (intent first, then charge)."""
    if request.payment_intent:
        intent = (
            StripePaymentIntent.objects.select_for_update()
            .filter(pk=request.payment_intent, account=account)
            .first()
        )
        if intent is None:
            raise errors.no_such("payment_intent", request.payment_intent, param="payment_intent")
        if intent.status != StripePaymentIntent.Status.SUCCEEDED or intent.latest_charge_id is None:
            raise errors.invalid(
                f"This PaymentIntent ({intent.id}) does not have a successful charge to refund.",
                param="payment_intent",
            )
        charge_id = intent.latest_charge_id
    else:
        charge_id = request.charge
    charge = StripeCharge.objects.select_for_update().filter(pk=charge_id, account=account).first()
    if charge is None:
        raise errors.no_such("charge", charge_id, param="charge")
    if request.charge and request.charge != charge.id:
        raise errors.invalid(
            f"The charge {request.charge} does not belong to the PaymentIntent "
            f"{request.payment_intent}.",
            param="charge",
        )
    if charge.status != StripeCharge.Status.SUCCEEDED:
        raise errors.invalid(f"Charge {charge.id} has not succeeded; there is nothing to refund.")
    return charge


def _refund_amount(charge: StripeCharge, requested: int | None) -> int:
    remaining = charge.amount_refundable
    if remaining <= 0:
        raise errors.invalid(
            f"Charge {charge.id} has already been refunded.", code="charge_already_refunded"
        )
    if requested is None:
        return remaining
    if requested > remaining:
        raise errors.invalid(
            f"Refund amount ({amount_display(requested, charge.currency)}) is greater than "
            f"unrefunded amount on charge ({amount_display(remaining, charge.currency)})",
            param="amount",
            code="amount_too_large",
        )
    return requested


def refund_create(
    *, account: StripeAccount, request: RefundCreateRequest, now: int, request_ref: RequestRef
) -> tuple[StripeRefund, list[str]]:
    """Refund all or part of what remains on a charge; refunds succeed at once in the sandbox."""
    with transaction.atomic(durable=True):
        charge = _refund_target_locked(account, request)
        amount = _refund_amount(charge, request.amount)
        refund = StripeRefund.objects.create(
            id=new_id("re_3"),
            account=account,
            charge=charge,
            amount=amount,
            currency=charge.currency,
            reason=request.reason,
            metadata=request.metadata,
            balance_transaction=new_id("txn_3"),
            created=now,
        )
        charge.amount_refunded += amount
        charge.save(update_fields=["amount_refunded"])
        refunded = event_record(
            account_id=account.id,
            type="charge.refunded",
            data_object=charge_to_dict(charge),
            now=now,
            request=request_ref,
        )
        created = event_record(
            account_id=account.id,
            type="refund.created",
            data_object=refund_to_dict(refund),
            now=now,
            request=request_ref,
        )
    return refund, [refunded.id, created.id]


def _dashboard_target(payment: str) -> StripeCharge:
    """The charge behind a PaymentIntent, Checkout Session or charge id, whatever its account."""
    intent_id: str | None = None
    if payment.startswith("cs_"):
        session = StripeCheckoutSession.objects.filter(pk=payment).first()
        if session is None:
            raise errors.no_such("checkout.session", payment, param="payment")
        intent_id = session.payment_intent_id
        if intent_id is None:
            raise errors.invalid(f"Checkout Session {payment} has no payment to refund.")
    elif payment.startswith("pi_"):
        intent_id = payment
    if intent_id is not None:
        intent = StripePaymentIntent.objects.filter(pk=intent_id).first()
        if intent is None:
            raise errors.no_such("payment_intent", intent_id, param="payment")
        if intent.latest_charge_id is None:
            raise errors.invalid(f"PaymentIntent {intent.id} has no charge to refund.")
        payment = intent.latest_charge_id
    charge = StripeCharge.objects.filter(pk=payment).first()
    if charge is None:
        raise errors.no_such("charge", payment, param="payment")
    return charge


def _minor_units(amount: Decimal, currency: str) -> int:
    minor = amount.scaleb(currency_exponent(currency))
    if minor <= 0 or minor != minor.to_integral_value():
        raise errors.invalid(
            f"Invalid amount {amount}: {currency.upper()} allows "
            f"{currency_exponent(currency)} decimals.",
            param="amount",
        )
    return int(minor)


def dashboard_refund(payment: str, amount: Decimal | None = None) -> dict[str, Any]:
    """A refund the merchant makes in the Stripe Dashboard: the product only hears the events.

    `payment` is a `pi_…`, `cs_…` or `ch_…` id; `amount` is in major units ("12.50"), all that
    remains when None. Makes the refund exactly as `POST /v1/refunds` would, delivers the same
    `charge.refunded` and `refund.created` events as the knobs say, and returns the refund.
    Raises StripeApiError (404 unknown id, 400 nothing or not that much to refund) like the API.
    """
    charge = _dashboard_target(payment)
    request = RefundCreateRequest(
        payment_intent="",
        charge=charge.id,
        amount=None if amount is None else _minor_units(amount, charge.currency),
        reason="",
        metadata={},
    )
    now = now_unix()
    refund, event_ids = refund_create(
        account=charge.account, request=request, now=now, request_ref=RequestRef()
    )
    events_deliver(event_ids=event_ids, now=now)
    return refund_to_dict(refund)


# Webhook endpoints -----------------------------------------------------------------------------


def webhook_endpoint_create(
    *, account: StripeAccount, request: EndpointRequest, now: int
) -> tuple[StripeWebhookEndpoint, str]:
    """A new enabled endpoint and its signing secret, which only this answer ever shows."""
    secret = "whsec_" + new_id("", 32)
    endpoint = StripeWebhookEndpoint.objects.create(
        id=new_id("we_1"),
        account=account,
        url=request.url or "",
        enabled_events=list(request.enabled_events or ()),
        description=request.description or "",
        metadata=request.metadata or {},
        api_version=request.api_version,
        secret_encrypted=secret_encrypt(secret),
        created=now,
    )
    return endpoint, secret


def webhook_endpoint_update(
    *, endpoint: StripeWebhookEndpoint, request: EndpointRequest
) -> StripeWebhookEndpoint:
    """Apply the given changes; metadata keys are merged and an empty value removes one."""
    if request.url is not None:
        endpoint.url = request.url
    if request.enabled_events is not None:
        endpoint.enabled_events = list(request.enabled_events)
    if request.description is not None:
        endpoint.description = request.description
    if request.metadata is not None:
        merged = {**endpoint.metadata, **request.metadata}
        endpoint.metadata = {key: value for key, value in merged.items() if value}
    if request.disabled is not None:
        endpoint.status = (
            StripeWebhookEndpoint.Status.DISABLED
            if request.disabled
            else StripeWebhookEndpoint.Status.ENABLED
        )
    endpoint.save()
    return endpoint


def webhook_endpoint_delete(*, endpoint: StripeWebhookEndpoint) -> None:
    endpoint.delete()
