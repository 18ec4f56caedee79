"""Parse and validate the request bodies of the simulated Tap API into typed values.

Every failure raises TapApiError (400); nothing malformed may reach the database, where a NUL
character, a lone surrogate or an oversize number would otherwise surface as a 500.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Final, cast
from urllib.parse import urlsplit

from sandbox.jsonfmt import loads
from sandbox.tap_sim import errors
from sandbox.tap_sim.currencies import CURRENCY_EXPONENTS, amount_quantum
from sandbox.tap_sim.models import TapCharge, TapRefund

MAX_AMOUNT: Final = Decimal("9999999999.999")  # what TapCharge.amount can hold
MAX_DEPTH: Final = 16
MAX_URL_LENGTH: Final = 2048
MAX_REFERENCE_LENGTH: Final = 255
MAX_DESCRIPTION_LENGTH: Final = 1000
# Decimals anywhere in the body stay within this many powers of ten, so that rendering them back
# ("1e999999" would print a million digits) stays cheap.
MAX_DECIMAL_MAGNITUDE: Final = 30
SAR_ONLY_SOURCES: Final = frozenset({TapCharge.Source.MADA, TapCharge.Source.STC_PAY})
OTP_PATTERN: Final = re.compile(r"[0-9]{4,8}")
EXPIRY_MINUTES: Final = range(5, 61)
MAX_ID_LENGTH: Final = 40  # what TapCharge.id and TapRefund.id hold


@dataclass(frozen=True)
class ChargeRequest:
    amount: Decimal
    currency: str
    source_id: str
    source_phone: dict[str, Any] | None
    redirect_url: str
    post_url: str
    description: str
    metadata: dict[str, Any]
    customer: dict[str, Any]
    receipt: dict[str, Any]
    merchant: dict[str, Any]
    ref_transaction: str
    ref_order: str
    ref_idempotent: str
    three_d_secure: bool
    customer_initiated: bool
    save_card: bool
    expiry_period: int


@dataclass(frozen=True)
class RefundRequest:
    """A refund to make: from `POST /v2/refunds`, or from the dashboard (amount None = the rest,
    currency None = the charge's)."""

    charge_id: str
    amount: Decimal | None
    currency: str | None
    reason: str
    description: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)
    ref_merchant: str = ""
    post_url: str = ""


def _check_tree(value: Any, depth: int = 0) -> None:
    """Refuse what PostgreSQL or the renderer cannot take, anywhere in the body."""
    if depth > MAX_DEPTH:
        raise errors.bad_request(errors.INVALID_JSON, "The JSON body is nested too deeply")
    if isinstance(value, str):
        _check_text(value)
    elif isinstance(value, Decimal):
        if value.adjusted() > MAX_DECIMAL_MAGNITUDE or value.adjusted() < -MAX_DECIMAL_MAGNITUDE:
            raise errors.bad_request(errors.INVALID_FIELD, "A number in the body is out of range")
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_text(key)
            _check_tree(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _check_tree(item, depth + 1)


def _check_text(text: str) -> None:
    if "\x00" in text:
        raise errors.bad_request(errors.INVALID_FIELD, "Text may not contain NUL characters")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise errors.bad_request(errors.INVALID_FIELD, "Text is not valid Unicode") from None


def parse_json_object(body: bytes) -> dict[str, Any]:
    try:
        data = loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise errors.bad_request(
            errors.INVALID_JSON, "The request body is not valid JSON"
        ) from None
    if not isinstance(data, dict):
        raise errors.bad_request(errors.INVALID_JSON, "The request body must be a JSON object")
    _check_tree(data)
    return data


def _object(data: dict[str, Any], name: str, *, required: bool = False) -> dict[str, Any]:
    value = data.get(name)
    if value is None and not required:
        return {}
    if not isinstance(value, dict):
        raise errors.bad_request(errors.INVALID_FIELD, f"{name} must be an object")
    return value


def _string(data: dict[str, Any], name: str, *, max_length: int, label: str = "") -> str:
    value = data.get(name)
    if value is None:
        return ""
    if not isinstance(value, str) or len(value) > max_length:
        raise errors.bad_request(
            errors.INVALID_FIELD, f"{label or name} must be a string of at most {max_length}"
        )
    return value


def _boolean(data: dict[str, Any], name: str, *, default: bool) -> bool:
    value = data.get(name)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise errors.bad_request(errors.INVALID_FIELD, f"{name} must be true or false")
    return value


def _currency(data: dict[str, Any]) -> str:
    value = data.get("currency")
    if not isinstance(value, str) or value.upper() not in CURRENCY_EXPONENTS:
        raise errors.bad_request(errors.INVALID_CURRENCY, "Currency is invalid or not supported")
    return value.upper()


def _amount(data: dict[str, Any], currency: str) -> Decimal:
    value = data.get("amount")
    # A bool is an int to Python but not a number to JSON; a string amount is refused like Tap.
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise errors.bad_request(errors.INVALID_AMOUNT, "Amount must be a JSON number")
    amount = Decimal(value)
    if amount <= 0 or amount > MAX_AMOUNT:
        raise errors.bad_request(errors.INVALID_AMOUNT, "Amount must be greater than zero")
    if amount % amount_quantum(currency) != 0:
        raise errors.bad_request(
            errors.INVALID_AMOUNT, f"Amount has more decimals than {currency} allows"
        )
    return amount


def _http_url(value: Any, name: str) -> str:
    if not isinstance(value, str) or not value or len(value) > MAX_URL_LENGTH:
        raise errors.bad_request(errors.INVALID_URL, f"{name} is required")
    # Whitespace or control characters would break the Location header of the final redirect.
    if not value.isprintable() or any(char.isspace() for char in value):
        raise errors.bad_request(errors.INVALID_URL, f"{name} is not a valid URL")
    try:
        parts = urlsplit(value)
    except ValueError:
        raise errors.bad_request(errors.INVALID_URL, f"{name} is not a valid URL") from None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise errors.bad_request(errors.INVALID_URL, f"{name} must be an absolute http(s) URL")
    return value


def _source(data: dict[str, Any], currency: str) -> tuple[str, dict[str, Any] | None]:
    source = _object(data, "source", required=True)
    source_id = source.get("id")
    if source_id not in TapCharge.Source.values:
        raise errors.bad_request(
            errors.INVALID_SOURCE, f"source.id must be one of {', '.join(TapCharge.Source.values)}"
        )
    if source_id in SAR_ONLY_SOURCES and currency != "SAR":
        raise errors.bad_request(errors.INVALID_SOURCE, f"{source_id} accepts SAR only")
    phone = source.get("phone")
    if phone is not None and not isinstance(phone, dict):
        raise errors.bad_request(errors.INVALID_FIELD, "source.phone must be an object")
    return source_id, phone


def _expiry_period(data: dict[str, Any]) -> int:
    expiry = _object(_object(data, "transaction"), "expiry")
    if not expiry:
        return 30
    period = expiry.get("period")
    # bool is an int to Python, not to JSON.
    is_integer = isinstance(period, int) and not isinstance(period, bool)
    if not is_integer or period not in EXPIRY_MINUTES or expiry.get("type", "MINUTE") != "MINUTE":
        raise errors.bad_request(errors.INVALID_FIELD, "transaction.expiry must be 5 to 60 MINUTE")
    return cast(int, period)


def charge_request_parse(body: bytes) -> ChargeRequest:
    """Validate a `POST /v2/charges` body."""
    data = parse_json_object(body)
    currency = _currency(data)
    amount = _amount(data, currency)
    source_id, source_phone = _source(data, currency)
    redirect = _object(data, "redirect", required=True)
    post = _object(data, "post")
    reference = _object(data, "reference")
    post_url = post.get("url")
    return ChargeRequest(
        amount=amount,
        currency=currency,
        source_id=source_id,
        source_phone=source_phone,
        redirect_url=_http_url(redirect.get("url"), "redirect.url"),
        post_url=_http_url(post_url, "post.url") if post_url else "",
        description=_string(data, "description", max_length=MAX_DESCRIPTION_LENGTH),
        metadata=_object(data, "metadata"),
        customer=_object(data, "customer"),
        receipt=_object(data, "receipt"),
        merchant=_object(data, "merchant"),
        ref_transaction=_string(
            reference, "transaction", max_length=MAX_REFERENCE_LENGTH, label="reference.transaction"
        ),
        ref_order=_string(
            reference, "order", max_length=MAX_REFERENCE_LENGTH, label="reference.order"
        ),
        ref_idempotent=_string(
            reference, "idempotent", max_length=MAX_REFERENCE_LENGTH, label="reference.idempotent"
        ),
        three_d_secure=_boolean(data, "threeDSecure", default=True),
        customer_initiated=_boolean(data, "customer_initiated", default=True),
        save_card=_boolean(data, "save_card", default=False),
        expiry_period=_expiry_period(data),
    )


def otp_validate(otp: Any) -> str:
    """An STC Pay OTP: 4 to 8 digits. Raises ValueError otherwise."""
    if not isinstance(otp, str) or not OTP_PATTERN.fullmatch(otp):
        raise ValueError("The OTP must be 4 to 8 digits")
    return otp


def otp_request_parse(body: bytes) -> str:
    """Validate a `PUT /v2/charges/{id}` STC Pay OTP body; return the OTP."""
    data = parse_json_object(body)
    gateway_response = _object(data, "gateway_response", required=True)
    if gateway_response.get("name") != "STC_PAY":
        raise errors.bad_request(errors.INVALID_FIELD, "gateway_response.name must be STC_PAY")
    reference = _object(_object(gateway_response, "response", required=True), "reference")
    try:
        return otp_validate(reference.get("otp"))
    except ValueError as exc:
        raise errors.bad_request(errors.INVALID_OTP, str(exc)) from None


def refund_request_parse(body: bytes) -> RefundRequest:
    """Validate a `POST /v2/refunds` body: charge_id, amount, currency and reason are required."""
    data = parse_json_object(body)
    charge_id = _string(data, "charge_id", max_length=MAX_ID_LENGTH)
    if not charge_id:
        raise errors.bad_request(errors.INVALID_FIELD, "charge_id is required")
    currency = _currency(data)
    amount = _amount(data, currency)
    reason = data.get("reason")
    if reason not in TapRefund.Reason.values:
        raise errors.bad_request(
            errors.INVALID_REASON, f"reason must be one of {', '.join(TapRefund.Reason.values)}"
        )
    reference = _object(data, "reference")
    post_url = _object(data, "post").get("url")
    return RefundRequest(
        charge_id=charge_id,
        amount=amount,
        currency=currency,
        reason=reason,
        description=_string(data, "description", max_length=MAX_DESCRIPTION_LENGTH),
        metadata=_object(data, "metadata"),
        ref_merchant=_string(
            reference, "merchant", max_length=MAX_REFERENCE_LENGTH, label="reference.merchant"
        ),
        post_url=_http_url(post_url, "post.url") if post_url else "",
    )
