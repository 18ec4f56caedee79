"""Tap Payments (mada, STC Pay, cards) over its v2 REST API, with httpx.

Tap-only knowledge lives here: `source.id` values, the charge status vocabulary, amounts as
JSON numbers, `reference.idempotent` for idempotency, and the `hashstring` webhook signature,
whose amount is formatted to the currency exponent ("1.00" SAR, "1.500" KWD) whatever the JSON
carried. A webhook is trusted only after its signature matches AND the charge is re-fetched.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import httpx

from wasla.common import strictjson
from wasla.common.money import format_amount, parse_amount
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
from .http import pooled_client

SOURCES = {"mada": "src_sa.mada", "stcpay": "src_sa.stcpay", "card": "src_card"}

CHARGE_STATUSES = {
    "INITIATED": PaymentStatus.PENDING,
    "IN_PROGRESS": PaymentStatus.PENDING,
    "AUTHORIZED": PaymentStatus.PENDING,
    "UNKNOWN": PaymentStatus.PENDING,
    "CAPTURED": PaymentStatus.PAID,
    "ABANDONED": PaymentStatus.CANCELLED,
    "CANCELLED": PaymentStatus.CANCELLED,
    "FAILED": PaymentStatus.FAILED,
    "DECLINED": PaymentStatus.FAILED,
    "RESTRICTED": PaymentStatus.FAILED,
    "VOID": PaymentStatus.FAILED,
    "TIMEDOUT": PaymentStatus.FAILED,
}

# What reading a Tap object can raise when it is not one: missing keys, wrong types, invalid
# JSON (strictjson.MalformedJSON and MoneyError are ValueErrors), absurd numbers.
_UNREADABLE = (KeyError, TypeError, ValueError, ArithmeticError, AttributeError)

_NUMBER_MARK = "\x00tapnum:"
_NUMBER_RE = re.compile(r'"\\u0000tapnum:(-?[0-9]+(?:\.[0-9]+)?)"')


def dumps(payload: Mapping[str, Any]) -> bytes:
    """JSON with Decimal amounts as JSON numbers (Tap's format), never through float."""

    def number(value: object) -> str:
        if isinstance(value, Decimal):
            return f"{_NUMBER_MARK}{value:f}"
        raise TypeError(f"cannot encode {type(value).__name__}")

    return _NUMBER_RE.sub(r"\1", json.dumps(payload, default=number)).encode()


def loads(body: bytes) -> Any:
    """Tap's JSON (our strict reader: no NaN, duplicate keys, NUL or deep nesting) with every
    number as a Decimal; raises strictjson.MalformedJSON, a ValueError."""
    return strictjson.loads(body, parse_float=Decimal, parse_int=Decimal)


def signed_message(obj: Mapping[str, Any]) -> str:
    """The string Tap signs for a charge, authorize or refund object."""
    currency = str(obj["currency"])
    amount = format_amount(Decimal(str(obj["amount"])), currency)
    reference = obj.get("reference") or {}
    if obj.get("object") == "refund":
        created = obj.get("created", "")
    else:
        created = (obj.get("transaction") or {}).get("created", "")
    return (
        f"x_id{obj['id']}x_amount{amount}x_currency{currency}"
        f"x_gateway_reference{reference.get('gateway') or ''}"
        f"x_payment_reference{reference.get('payment') or ''}"
        f"x_status{obj['status']}x_created{created or ''}"
    )


def hashstring(obj: Mapping[str, Any], secret_key: str) -> str:
    message = signed_message(obj).encode()
    return hmac.new(secret_key.encode(), message, hashlib.sha256).hexdigest()


class TapProvider(BasePaymentProvider):
    name = "tap"
    methods = frozenset(SOURCES)
    refetch_on_webhook = True

    def _call(self, method: str, path: str, payload: Mapping[str, Any] | None = None) -> Any:
        creds = self.credentials
        client = pooled_client(
            base_url=creds.base_url,
            read_timeout=creds.read_timeout,
            connect_timeout=creds.connect_timeout,
        )
        try:
            response = client.request(
                method,
                path,
                content=dumps(payload) if payload is not None else None,
                headers={
                    "Authorization": f"Bearer {creds.secret_key}",
                    "Content-Type": "application/json",
                    "Accept": "application/json",
                },
            )
        except httpx.ConnectTimeout as exc:
            raise ProviderUnreachable(f"Tap unreachable: {type(exc).__name__}") from None
        except httpx.TimeoutException as exc:
            raise ProviderTimeout(f"Tap timed out: {type(exc).__name__}") from None
        except httpx.TransportError as exc:
            raise ProviderUnreachable(f"Tap unreachable: {type(exc).__name__}") from None
        if response.status_code >= 500 or response.status_code == 429:
            raise ProviderUnreachable(f"Tap answered {response.status_code}")
        try:
            data = loads(response.content)
        except ValueError:
            raise ProviderUnreachable(f"Tap answered {response.status_code} without JSON") from None
        if response.status_code >= 400:
            errors = (data.get("errors") if isinstance(data, dict) else None) or [{}]
            first = errors[0] if isinstance(errors[0], dict) else {}
            if response.status_code in (401, 403):
                # A refused key, whatever Tap's own error code: callers tell it apart by this.
                raise ProviderError(
                    "unauthorized",
                    str(first.get("description", "Tap refused the secret key")),
                    scrub(data) if isinstance(data, dict) else {},
                )
            raise ProviderError(
                str(first.get("code", response.status_code)),
                str(first.get("description", "Tap refused the request")),
                scrub(data) if isinstance(data, dict) else {},
            )
        if not isinstance(data, dict):
            raise ProviderUnreachable("Tap answered with a non-object body")
        return data

    def create_payment(self, request: PaymentRequest) -> PaymentResult:
        source: dict[str, Any] = {"id": SOURCES[request.method]}
        if request.method == "stcpay":
            source["phone"] = _phone(request.customer_phone)
        payload: dict[str, Any] = {
            "amount": parse_amount(request.amount, request.currency),
            "currency": request.currency,
            "customer_initiated": True,
            "threeDSecure": True,
            "save_card": False,
            "description": request.description,
            "metadata": {"udf1": request.attempt_id},
            "reference": {
                "transaction": request.attempt_id,
                "order": request.order_reference,
                "idempotent": request.idempotency_key,
            },
            "receipt": {"email": False, "sms": False},
            "customer": {
                "first_name": "Customer",
                "email": request.customer_email or None,
                "phone": _phone(request.customer_phone) if request.customer_phone else None,
            },
            "source": source,
            "post": {"url": request.webhook_url},
            "redirect": {"url": request.return_url},
        }
        if request.merchant_name:
            # Tap's page names the account's business; a platform passes the store's own name
            # in the charge's metadata (free keys), which the sandbox's page shows.
            payload["metadata"]["store_name"] = request.merchant_name[:255]
        return self._result(self._call("POST", "v2/charges", payload))

    def refund(self, request: RefundRequest) -> RefundResult:
        payload = {
            "charge_id": request.payment_reference,
            "amount": parse_amount(request.amount, request.currency),
            "currency": request.currency,
            "reason": "requested_by_customer",
            "description": request.reason[:255] or "Refund",
            # Tap's idempotency field for refunds; it also echoes our refund id back.
            "reference": {"merchant": request.refund_id, "idempotent": request.idempotency_key},
            "metadata": {"udf1": request.refund_id},
        }
        answer = self._call("POST", "v2/refunds", payload)
        try:
            return _refund_result(answer)
        except _UNREADABLE as exc:
            raise ProviderUnreachable(f"unreadable Tap refund: {exc}") from None

    def verify_payment(self, provider_reference: str) -> PaymentResult:
        if not re.fullmatch(r"chg_[A-Za-z0-9]+", provider_reference):
            raise ProviderError("invalid_reference", "not a Tap charge id")
        return self._result(self._call("GET", f"v2/charges/{provider_reference}"))

    def check_connection(self) -> None:
        # Tap has no "who am I" call: looking up a charge id that cannot exist answers 401 for a
        # refused key and 404 for an accepted one, and creates nothing.
        try:
            self._call("GET", "v2/charges/chg_WaslaConnectionCheck")
        except ProviderError as exc:
            if exc.code == "unauthorized":
                raise
            # Any other refusal (not found) came after the key was accepted.

    def validate_webhook(self, request: WebhookRequest) -> bool:
        provided = request.headers.get("hashstring", "")
        if not provided or not self.credentials.secret_key:
            return False
        try:
            obj = loads(request.body)
            expected = hashstring(obj, self.credentials.secret_key)
        except _UNREADABLE:
            return False
        return hmac.compare_digest(expected, provided.strip().lower())

    def parse_webhook(self, request: WebhookRequest) -> ProviderEvent:
        try:
            obj = loads(request.body)
            kind_name = obj.get("object", "charge")
            status = str(obj["status"])
            reference = str(obj["id"])
            currency = str(obj["currency"])
            amount = parse_amount(obj["amount"], currency)
            refunds = (_refund_result(obj),) if kind_name == "refund" else ()
            merchant_reference = str((obj.get("reference") or {}).get("transaction") or "")
        except _UNREADABLE as exc:
            raise WebhookPayloadUnreadable(f"unreadable Tap webhook: {exc}") from None
        if kind_name == "refund":
            kind, mapped, parent = EventKind.REFUND, None, str(obj.get("charge_id", ""))
        elif kind_name == "charge":
            kind, mapped, parent = EventKind.PAYMENT, CHARGE_STATUSES.get(status), ""
        else:
            kind, mapped, parent = EventKind.OTHER, None, ""
        return ProviderEvent(
            event_id=f"{kind_name}:{reference}:{status}",
            event_type=f"{kind_name}.{status}".lower(),
            kind=kind,
            provider_reference=reference,
            status=mapped,
            amount=amount,
            currency=currency,
            payment_reference=parent,
            merchant_reference=merchant_reference,
            refunds=refunds,
            raw=scrub(obj),
        )

    def _result(self, charge: Mapping[str, Any]) -> PaymentResult:
        try:
            currency = str(charge["currency"])
            status = str(charge["status"])
            amount = parse_amount(charge["amount"], currency)
            reference = str(charge["id"])
        except _UNREADABLE as exc:
            # An answer we cannot read is no usable answer: the outcome stays unknown.
            raise ProviderUnreachable(f"unreadable Tap charge: {exc}") from None
        mapped = CHARGE_STATUSES.get(status, PaymentStatus.PENDING)
        response = charge.get("response") or {}
        failed = mapped in (PaymentStatus.FAILED, PaymentStatus.CANCELLED)
        return PaymentResult(
            status=mapped,
            provider_reference=reference,
            amount=amount,
            currency=currency,
            redirect_url=str((charge.get("transaction") or {}).get("url") or ""),
            failure_code=f"tap:{response.get('code', status)}" if failed else "",
            failure_message=str(response.get("message", status)) if failed else "",
            merchant_reference=str((charge.get("reference") or {}).get("transaction") or ""),
            payment_reference=reference if mapped == PaymentStatus.PAID else "",
            raw=scrub(charge),
        )


REFUND_STATUSES = {
    "REFUNDED": RefundStatus.SUCCEEDED,
    "PENDING": RefundStatus.PENDING,
    "IN_PROGRESS": RefundStatus.PENDING,
    "INITIATED": RefundStatus.PENDING,
    "ACCEPTED": RefundStatus.PENDING,
    "UNKNOWN": RefundStatus.PENDING,
}


def _refund_result(refund: Mapping[str, Any]) -> RefundResult:
    """A Tap refund object, from an API answer or a webhook; raises one of `_UNREADABLE`."""
    currency = str(refund["currency"])
    amount = parse_amount(refund["amount"], currency)
    reference = str(refund["id"])
    status = str(refund.get("status", ""))
    return RefundResult(
        status=REFUND_STATUSES.get(status, RefundStatus.FAILED),
        provider_reference=reference,
        amount=amount,
        currency=currency,
        payment_reference=str(refund.get("charge_id") or ""),
        merchant_reference=str((refund.get("reference") or {}).get("merchant") or ""),
        failure_message="" if status in REFUND_STATUSES else f"Tap refund {status}",
        raw=scrub(refund),
    )


def _phone(phone: str) -> dict[str, str]:
    digits = re.sub(r"\D", "", phone)
    if digits.startswith("966"):
        digits = digits[3:]
    return {"country_code": "966", "number": digits.lstrip("0")}
