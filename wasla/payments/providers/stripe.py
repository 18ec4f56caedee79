"""Stripe Checkout Sessions through the official `stripe` package.

One `StripeClient` per tenant config and call (never the global `stripe.api_key`), pointed at
the sandbox only through `base_addresses`. Amounts cross this edge in minor units; the provider
idempotency key goes in Stripe's `Idempotency-Key`; webhooks are verified by the official
`WebhookSignature.verify_header` (300 s tolerance) on the raw body. Our attempt id travels in
`client_reference_id` and in the PaymentIntent's metadata, so every event finds its attempt.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import stripe

from wasla.common import strictjson
from wasla.common.money import from_minor_units, to_minor_units
from wasla.common.scrub import scrub

from .base import (
    BasePaymentProvider,
    EventKind,
    PaymentRequest,
    PaymentResult,
    PaymentStatus,
    ProviderError,
    ProviderEvent,
    ProviderTimeout,
    ProviderUnreachable,
    RefundRequest,
    RefundResult,
    RefundStatus,
    WebhookPayloadUnreadable,
    WebhookRequest,
)

WEBHOOK_TOLERANCE_SECONDS = 300

# Session events carry the session; payment_intent events only our attempt id (metadata).
SESSION_EVENTS = {
    "checkout.session.completed": None,  # paid or still pending (async methods)
    "checkout.session.async_payment_succeeded": PaymentStatus.PAID,
    "checkout.session.async_payment_failed": PaymentStatus.FAILED,
    "checkout.session.expired": PaymentStatus.CANCELLED,
}
INTENT_EVENTS = {
    "payment_intent.payment_failed": PaymentStatus.FAILED,
    "payment_intent.succeeded": PaymentStatus.PAID,
}
REFUND_EVENTS = {"refund.created", "refund.updated", "refund.failed"}
REFUND_STATUSES = {
    "succeeded": RefundStatus.SUCCEEDED,
    "pending": RefundStatus.PENDING,
    "requires_action": RefundStatus.PENDING,
    "failed": RefundStatus.FAILED,
    "canceled": RefundStatus.FAILED,
}
DISPUTE_EVENTS = {"charge.dispute.created", "charge.dispute.updated", "charge.dispute.closed"}
# What reading a Stripe object can raise when it is not one: missing keys, wrong types, invalid
# JSON (strictjson.MalformedJSON and MoneyError are ValueErrors), absurd amounts
# (decimal.InvalidOperation and OverflowError are ArithmeticErrors).
_UNREADABLE = (KeyError, TypeError, ValueError, ArithmeticError, AttributeError)

T = TypeVar("T")

WEBHOOK_EVENTS = {
    *SESSION_EVENTS,
    *INTENT_EVENTS,
    *REFUND_EVENTS,
    *DISPUTE_EVENTS,
    "charge.refunded",
}


class StripeProvider(BasePaymentProvider):
    name = "stripe"
    methods = frozenset({"card"})
    refetch_on_webhook = False  # the signed event is Stripe's own statement of the object

    def _client(self) -> stripe.StripeClient:
        creds = self.credentials
        return stripe.StripeClient(
            creds.secret_key,
            base_addresses={"api": creds.base_url},
            max_network_retries=0,  # the orchestrator retries, with the same Idempotency-Key
            http_client=stripe.RequestsClient(timeout=(creds.connect_timeout, creds.read_timeout)),
        )

    def create_payment(self, request: PaymentRequest) -> PaymentResult:
        metadata = {"attempt_id": request.attempt_id, "order_reference": request.order_reference}
        params: dict[str, Any] = {
            "mode": "payment",
            "success_url": request.return_url,
            "cancel_url": request.cancel_url,
            "client_reference_id": request.attempt_id,
            "line_items": [
                {
                    "quantity": 1,
                    "price_data": {
                        "currency": request.currency.lower(),
                        "unit_amount": to_minor_units(request.amount, request.currency),
                        "product_data": {"name": request.description},
                    },
                }
            ],
            "metadata": metadata,
            "payment_intent_data": {"metadata": metadata},
        }
        if request.customer_email:
            params["customer_email"] = request.customer_email
        if request.merchant_name:
            # Checkout names the account's business; the store's name travels as the
            # PaymentIntent's description (on the receipt and the dashboard; the sandbox's page
            # shows it where Checkout shows the business name).
            params["payment_intent_data"]["description"] = request.merchant_name
        session = self._call(
            lambda c: c.v1.checkout.sessions.create(
                params=params,  # type: ignore[arg-type]
                options={"idempotency_key": request.idempotency_key},
            )
        )
        return _answer_read("session", _session_result, session)

    def verify_payment(self, provider_reference: str) -> PaymentResult:
        if not provider_reference.startswith("cs_"):
            raise ProviderError("invalid_reference", "not a Checkout Session id")
        session = self._call(lambda c: c.v1.checkout.sessions.retrieve(provider_reference))
        result = _answer_read("session", _session_result, session)
        intent_id = session.get("payment_intent")
        if result.status == PaymentStatus.PENDING and session.get("status") == "open" and intent_id:
            intent = self._call(lambda c: c.v1.payment_intents.retrieve(str(intent_id)))
            error = intent.get("last_payment_error")
            if intent.get("status") == "requires_payment_method" and error:
                return PaymentResult(
                    status=PaymentStatus.FAILED,
                    provider_reference=result.provider_reference,
                    amount=result.amount,
                    currency=result.currency,
                    failure_code=f"stripe:{error.get('code', 'declined')}",
                    failure_message=str(error.get("message", "")),
                    merchant_reference=result.merchant_reference,
                    raw=result.raw,
                )
        return result

    def refund(self, request: RefundRequest) -> RefundResult:
        refund = self._call(
            lambda c: c.v1.refunds.create(
                params={
                    "payment_intent": request.payment_reference,
                    "amount": to_minor_units(request.amount, request.currency),
                    "reason": "requested_by_customer",
                    "metadata": {"refund_id": request.refund_id},
                },
                options={"idempotency_key": request.idempotency_key},
            )
        )
        return _answer_read("refund", _refund_result, refund)

    def register_webhook(self, url: str) -> str:
        endpoint = self._call(
            lambda c: c.v1.webhook_endpoints.create(
                params={"url": url, "enabled_events": sorted(WEBHOOK_EVENTS)}
            )
        )
        return str(endpoint["secret"])

    def check_connection(self) -> None:
        # Listing webhook endpoints reads the account and changes nothing.
        self._call(lambda c: c.v1.webhook_endpoints.list(params={"limit": 1}))

    def validate_webhook(self, request: WebhookRequest) -> bool:
        header = request.headers.get("stripe-signature", "")
        secret = self.credentials.webhook_secret
        if not header or not secret:
            return False
        try:
            stripe.WebhookSignature.verify_header(
                request.body.decode("utf-8"), header, secret, WEBHOOK_TOLERANCE_SECONDS
            )
        except (stripe.SignatureVerificationError, UnicodeDecodeError, ValueError):
            return False
        return True

    def parse_webhook(self, request: WebhookRequest) -> ProviderEvent:
        try:
            event = strictjson.loads(request.body)
            event_id = str(event["id"])
            event_type = str(event["type"])
            obj = event["data"]["object"]
            if not isinstance(obj, dict):
                raise TypeError("data.object is not an object")
        except _UNREADABLE as exc:
            raise WebhookPayloadUnreadable(f"unreadable Stripe event: {exc}") from None
        try:
            return self._event(event_id, event_type, obj)
        except _UNREADABLE as exc:
            raise WebhookPayloadUnreadable(f"unreadable Stripe {event_type}: {exc}") from None

    def _event(self, event_id: str, event_type: str, obj: Mapping[str, Any]) -> ProviderEvent:
        common: dict[str, Any] = {"event_id": event_id, "event_type": event_type, "raw": scrub(obj)}
        if event_type in SESSION_EVENTS:
            result = _session_result(obj)
            status = SESSION_EVENTS[event_type] or result.status
            return ProviderEvent(
                kind=EventKind.PAYMENT,
                provider_reference=result.provider_reference,
                status=status,
                amount=result.amount,
                currency=result.currency,
                merchant_reference=result.merchant_reference,
                payment_reference=result.payment_reference,
                **common,
            )
        if event_type in INTENT_EVENTS:
            currency = str(obj["currency"]).upper()
            return ProviderEvent(
                kind=EventKind.PAYMENT,
                provider_reference="",
                status=INTENT_EVENTS[event_type],
                amount=from_minor_units(int(obj["amount"]), currency),
                currency=currency,
                payment_reference=str(obj["id"]),
                merchant_reference=str((obj.get("metadata") or {}).get("attempt_id", "")),
                **common,
            )
        if event_type in DISPUTE_EVENTS:
            currency = str(obj["currency"]).upper()
            return ProviderEvent(
                kind=EventKind.DISPUTE,
                provider_reference=str(obj["id"]),
                status=None,
                amount=from_minor_units(int(obj["amount"]), currency),
                currency=currency,
                payment_reference=str(obj.get("payment_intent") or obj.get("charge") or ""),
                **common,
            )
        if event_type in REFUND_EVENTS:
            refund = _refund_result(obj)
            return ProviderEvent(
                kind=EventKind.REFUND,
                provider_reference=refund.provider_reference,
                status=None,
                amount=refund.amount,
                currency=refund.currency,
                payment_reference=refund.payment_reference,
                refunds=(refund,),
                **common,
            )
        # charge.refunded and the rest: stored, not acted on (refund.* carry each refund).
        return ProviderEvent(
            kind=EventKind.OTHER,
            provider_reference=str(obj.get("id", "")),
            status=None,
            amount=None,
            currency=str(obj.get("currency") or "").upper(),
            **common,
        )

    def _call(self, call: Any) -> dict[str, Any]:
        """Run one API call; plain dicts out, our two error kinds for failures."""
        try:
            return dict(call(self._client()).to_dict())
        except stripe.APIConnectionError as exc:
            if "timed out" in str(exc).lower():
                raise ProviderTimeout(f"Stripe timed out: {type(exc).__name__}") from None
            raise ProviderUnreachable(f"Stripe unreachable: {type(exc).__name__}") from None
        except stripe.RateLimitError:
            raise ProviderUnreachable("Stripe answered 429") from None
        except stripe.StripeError as exc:
            status = getattr(exc, "http_status", None) or 0
            if status >= 500 or isinstance(exc, stripe.APIError):
                raise ProviderUnreachable(f"Stripe answered {status}") from None
            raise ProviderError(
                str(getattr(exc, "code", None) or type(exc).__name__),
                str(getattr(exc, "user_message", None) or exc),
            ) from None


def _answer_read(what: str, read: Callable[[Mapping[str, Any]], T], answer: Mapping[str, Any]) -> T:
    """An API answer read into our dataclass: one we cannot read is no usable answer, so the
    outcome stays unknown (and the call is safe to retry with the same idempotency key)."""
    try:
        return read(answer)
    except _UNREADABLE as exc:
        raise ProviderUnreachable(f"unreadable Stripe {what}: {exc}") from None


def _session_result(session: Mapping[str, Any]) -> PaymentResult:
    """A Checkout Session, from an API answer or a webhook; raises one of `_UNREADABLE`."""
    reference = str(session["id"])
    currency = str(session.get("currency") or "").upper()
    total = session.get("amount_total")
    amount = from_minor_units(int(total), currency) if total is not None else None
    state, paid = session.get("status"), session.get("payment_status")
    if state == "complete" and paid in ("paid", "no_payment_required"):
        status = PaymentStatus.PAID
    elif state == "expired":
        status = PaymentStatus.CANCELLED
    else:
        status = PaymentStatus.PENDING
    return PaymentResult(
        status=status,
        provider_reference=reference,
        amount=amount,
        currency=currency,
        redirect_url=str(session.get("url") or ""),
        failure_code="stripe:expired" if status == PaymentStatus.CANCELLED else "",
        failure_message="Checkout session expired" if status == PaymentStatus.CANCELLED else "",
        merchant_reference=str(session.get("client_reference_id") or ""),
        payment_reference=str(session.get("payment_intent") or ""),
        raw=scrub(dict(session)),
    )


def _refund_result(refund: Mapping[str, Any]) -> RefundResult:
    """A Stripe refund, from an API answer or a webhook; raises one of `_UNREADABLE`."""
    currency = str(refund["currency"]).upper()
    amount = from_minor_units(int(refund["amount"]), currency)
    reference = str(refund["id"])
    status = str(refund.get("status", ""))
    return RefundResult(
        status=REFUND_STATUSES.get(status, RefundStatus.PENDING),
        provider_reference=reference,
        amount=amount,
        currency=currency,
        payment_reference=str(refund.get("payment_intent") or refund.get("charge") or ""),
        merchant_reference=str((refund.get("metadata") or {}).get("refund_id") or ""),
        failure_message=str(refund.get("failure_reason") or ""),
        raw=scrub(dict(refund)),
    )
