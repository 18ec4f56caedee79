"""Parse and validate the request bodies of the simulated PayPal API into typed values.

Every failure raises PayPalApiError (400 for syntax, 422 for amounts PayPal accepts as JSON but
refuses as money), with `details[].field` as a JSON pointer like PayPal's. Nothing malformed may
reach the database, where a NUL character or a lone surrogate would otherwise surface as a 500.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Final
from urllib.parse import urlsplit

from sandbox.jsonfmt import loads
from sandbox.paypal_sim import errors
from sandbox.paypal_sim.currencies import amount_is_exact, currency_supported

MAX_DEPTH: Final = 16
MAX_DECIMAL_MAGNITUDE: Final = 30
MAX_URL_LENGTH: Final = 2048
MAX_VALUE_LENGTH: Final = 32
MAX_AMOUNT: Final = Decimal("99999999999.999")  # what the DecimalField(14, 3) columns hold
MAX_REQUEST_ID_LENGTH: Final = 108
MAX_WEBHOOK_EVENT_TYPES: Final = 50
VALUE_PATTERN: Final = re.compile(r"-?(?:[0-9]+|[0-9]*\.[0-9]+)")
CURRENCY_PATTERN: Final = re.compile(r"[A-Z]{3}")
EVENT_TYPE_PATTERN: Final = re.compile(r"[A-Z][A-Z0-9_.-]{0,63}")

# Events the simulator can send or that a checkout integration subscribes to.
KNOWN_EVENT_TYPES: Final = frozenset(
    {
        "CHECKOUT.ORDER.APPROVED",
        "CHECKOUT.ORDER.COMPLETED",
        "CHECKOUT.PAYMENT-APPROVAL.REVERSED",
        "PAYMENT.CAPTURE.COMPLETED",
        "PAYMENT.CAPTURE.PENDING",
        "PAYMENT.CAPTURE.DENIED",
        "PAYMENT.CAPTURE.DECLINED",
        "PAYMENT.CAPTURE.REFUNDED",
        "PAYMENT.CAPTURE.REVERSED",
    }
)
USER_ACTIONS: Final = ("CONTINUE", "PAY_NOW")
SHIPPING_PREFERENCES: Final = ("GET_FROM_FILE", "NO_SHIPPING", "SET_PROVIDED_ADDRESS")
LANDING_PAGES: Final = ("LOGIN", "GUEST_CHECKOUT", "BILLING", "NO_PREFERENCE")
STRING_LIMITS: Final[dict[str, int]] = {
    "reference_id": 256,
    "custom_id": 127,
    "invoice_id": 127,
    "description": 127,
    "soft_descriptor": 22,
}


@dataclass(frozen=True)
class Money:
    currency: str
    value: Decimal


@dataclass(frozen=True)
class OrderRequest:
    amount: Money
    reference_id: str
    custom_id: str
    invoice_id: str
    description: str
    soft_descriptor: str
    legacy_context: bool
    return_url: str
    cancel_url: str
    brand_name: str
    user_action: str
    shipping_preference: str


@dataclass(frozen=True)
class RefundRequest:
    amount: Money | None
    note_to_payer: str
    invoice_id: str
    custom_id: str


@dataclass(frozen=True)
class WebhookRequest:
    url: str
    event_types: tuple[str, ...]


@dataclass(frozen=True)
class VerifyRequest:
    auth_algo: str
    cert_url: str
    transmission_id: str
    transmission_sig: str
    transmission_time: str
    webhook_id: str
    webhook_event: dict[str, Any]


# JSON ------------------------------------------------------------------------------------------


def _check_text(text: str) -> None:
    if "\x00" in text:
        raise errors.invalid_request(
            errors.INVALID_PARAMETER_SYNTAX, "Text may not contain NUL characters."
        )
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise errors.invalid_request(
            errors.INVALID_PARAMETER_SYNTAX, "Text is not valid Unicode."
        ) from None


def _check_tree(value: Any, depth: int = 0) -> None:
    """Refuse what PostgreSQL or the serializer cannot take, anywhere in the body."""
    if depth > MAX_DEPTH:
        raise errors.invalid_request(
            errors.MALFORMED_REQUEST_JSON, "The JSON body is nested too deeply."
        )
    if isinstance(value, str):
        _check_text(value)
    elif isinstance(value, Decimal):
        if abs(value.adjusted()) > MAX_DECIMAL_MAGNITUDE:
            raise errors.invalid_request(
                errors.INVALID_PARAMETER_VALUE, "A number in the body is out of range."
            )
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_text(key)
            _check_tree(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _check_tree(item, depth + 1)


def parse_json_object(body: bytes, *, allow_empty: bool = False) -> dict[str, Any]:
    """The body as a JSON object; an empty body is `{}` only when `allow_empty`."""
    if allow_empty and not body.strip():
        return {}
    try:
        data = loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise errors.invalid_request(
            errors.MALFORMED_REQUEST_JSON, "The request JSON is not well formed."
        ) from None
    if not isinstance(data, dict):
        raise errors.invalid_request(
            errors.MALFORMED_REQUEST_JSON, "The request body must be a JSON object."
        )
    _check_tree(data)
    return data


# Fields ----------------------------------------------------------------------------------------


def _missing(field: str) -> errors.PayPalApiError:
    return errors.invalid_request(
        errors.MISSING_REQUIRED_PARAMETER, "A required field is missing.", field=field
    )


def _syntax(field: str, description: str) -> errors.PayPalApiError:
    return errors.invalid_request(errors.INVALID_PARAMETER_SYNTAX, description, field=field)


def _bad_value(field: str, description: str) -> errors.PayPalApiError:
    return errors.invalid_request(errors.INVALID_PARAMETER_VALUE, description, field=field)


def _object(data: dict[str, Any], name: str, path: str, *, required: bool = False) -> dict:
    value = data.get(name)
    if value is None:
        if required:
            raise _missing(f"{path}/{name}")
        return {}
    if not isinstance(value, dict):
        raise _syntax(f"{path}/{name}", "Must be a JSON object.")
    return value


def _string(data: dict[str, Any], name: str, path: str, *, max_length: int) -> str:
    value = data.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise _syntax(f"{path}/{name}", "Must be a string.")
    if len(value) > max_length:
        raise errors.invalid_request(
            errors.INVALID_STRING_LENGTH,
            f"The value of a field is too long (at most {max_length} characters).",
            field=f"{path}/{name}",
        )
    return value


def _choice(data: dict[str, Any], name: str, path: str, choices: tuple[str, ...]) -> str:
    value = _string(data, name, path, max_length=32)
    if value and value not in choices:
        raise _bad_value(f"{path}/{name}", f"Must be one of {', '.join(choices)}.")
    return value


def http_url(value: Any, field: str) -> str:
    """An absolute http(s) URL that is safe to put in a Location header."""
    if value is None or value == "":
        raise _missing(field)
    if not isinstance(value, str) or len(value) > MAX_URL_LENGTH:
        raise _syntax(field, f"Must be a URL of at most {MAX_URL_LENGTH} characters.")
    # Whitespace or control characters would break the Location header of the final redirect.
    if not value.isprintable() or any(char.isspace() for char in value):
        raise _syntax(field, "Must be a valid URL.")
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a malformed port
    except ValueError:
        raise _syntax(field, "Must be a valid URL.") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise _syntax(field, "Must be an absolute http(s) URL.")
    return value


def _money(data: dict[str, Any], path: str) -> Money:
    """`{"currency_code", "value"}` with a value exact for the currency and above zero."""
    currency = data.get("currency_code")
    if currency is None:
        raise _missing(f"{path}/currency_code")
    if not isinstance(currency, str) or not CURRENCY_PATTERN.fullmatch(currency):
        raise _syntax(f"{path}/currency_code", "Must be a three-letter ISO 4217 code.")
    if not currency_supported(currency):
        raise errors.unprocessable(
            errors.CURRENCY_NOT_SUPPORTED,
            "Currency code is not supported by the sandbox.",
            field=f"{path}/currency_code",
        )
    return Money(currency=currency, value=_value(data.get("value"), currency, f"{path}/value"))


def _value(value: Any, currency: str, field: str) -> Decimal:
    if value is None:
        raise _missing(field)
    # PayPal amounts are strings; a JSON number is a schema violation, not a rounding question.
    if not isinstance(value, str):
        raise _syntax(field, 'Must be a decimal string such as "10.00".')
    if len(value) > MAX_VALUE_LENGTH or not VALUE_PATTERN.fullmatch(value):
        raise _syntax(field, 'Must be a decimal string such as "10.00".')
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise _syntax(field, 'Must be a decimal string such as "10.00".') from None
    if amount <= 0:
        raise errors.unprocessable(
            errors.CANNOT_BE_ZERO_OR_NEGATIVE, "Must be greater than zero.", field=field
        )
    if not amount_is_exact(amount, currency):
        raise errors.unprocessable(
            errors.DECIMAL_PRECISION,
            f"The value has more decimal places than {currency} allows.",
            field=field,
        )
    if amount > MAX_AMOUNT:
        raise _bad_value(field, "The value is above what the sandbox accepts.")
    return amount


# Orders ----------------------------------------------------------------------------------------


def _purchase_unit(data: dict[str, Any]) -> dict[str, Any]:
    units = data.get("purchase_units")
    if units is None:
        raise _missing("/purchase_units")
    if not isinstance(units, list):
        raise _syntax("/purchase_units", "Must be an array.")
    if not units:
        raise errors.invalid_request(
            errors.INVALID_ARRAY_MIN_ITEMS,
            "At least one purchase unit is required.",
            field="/purchase_units",
        )
    if len(units) > 1:
        raise errors.invalid_request(
            errors.INVALID_ARRAY_MAX_ITEMS,
            "The sandbox simulates orders with exactly one purchase unit.",
            field="/purchase_units",
        )
    if not isinstance(units[0], dict):
        raise _syntax("/purchase_units/0", "Must be a JSON object.")
    return units[0]


def _intent(data: dict[str, Any]) -> None:
    intent = data.get("intent")
    if intent is None:
        raise _missing("/intent")
    if intent != "CAPTURE":
        raise _bad_value("/intent", "The sandbox simulates intent CAPTURE only.")


def _context(data: dict[str, Any]) -> tuple[dict[str, Any], str, bool]:
    """The experience context, its JSON path, and whether it is the legacy application_context."""
    source = _object(data, "payment_source", "")
    if source:
        unknown = set(source) - {"paypal"}
        if unknown:
            raise _bad_value(
                f"/payment_source/{sorted(unknown)[0]}",
                "The sandbox simulates the paypal payment source only.",
            )
        paypal = _object(source, "paypal", "/payment_source", required=True)
        path = "/payment_source/paypal"
        context = _object(paypal, "experience_context", path, required=True)
        return context, f"{path}/experience_context", False
    context = _object(data, "application_context", "", required=True)
    return context, "/application_context", True


def order_request_parse(body: bytes) -> OrderRequest:
    """Validate a `POST /v2/checkout/orders` body."""
    data = parse_json_object(body)
    _intent(data)
    unit = _purchase_unit(data)
    unit_path = "/purchase_units/0"
    amount = _money(_object(unit, "amount", unit_path, required=True), f"{unit_path}/amount")
    strings = {
        name: _string(unit, name, unit_path, max_length=limit)
        for name, limit in STRING_LIMITS.items()
    }
    context, path, legacy = _context(data)
    cancel_url = context.get("cancel_url")
    _choice(context, "landing_page", path, LANDING_PAGES)  # validated, not simulated
    _string(context, "locale", path, max_length=10)
    return OrderRequest(
        amount=amount,
        reference_id=strings["reference_id"] or "default",
        custom_id=strings["custom_id"],
        invoice_id=strings["invoice_id"],
        description=strings["description"],
        soft_descriptor=strings["soft_descriptor"],
        legacy_context=legacy,
        return_url=http_url(context.get("return_url"), f"{path}/return_url"),
        cancel_url=http_url(cancel_url, f"{path}/cancel_url") if cancel_url else "",
        brand_name=_string(context, "brand_name", path, max_length=127),
        user_action=_choice(context, "user_action", path, USER_ACTIONS) or "CONTINUE",
        shipping_preference=(
            _choice(context, "shipping_preference", path, SHIPPING_PREFERENCES) or "GET_FROM_FILE"
        ),
    )


def capture_request_parse(body: bytes) -> None:
    """A capture body is empty or a JSON object; the sandbox needs nothing from it."""
    parse_json_object(body, allow_empty=True)


# Refunds ---------------------------------------------------------------------------------------


def refund_request_parse(body: bytes) -> RefundRequest:
    """Validate a `POST /v2/payments/captures/{id}/refund` body (empty means a full refund)."""
    data = parse_json_object(body, allow_empty=True)
    amount_data = _object(data, "amount", "")
    return RefundRequest(
        amount=_money(amount_data, "/amount") if amount_data else None,
        note_to_payer=_string(data, "note_to_payer", "", max_length=255),
        invoice_id=_string(data, "invoice_id", "", max_length=127),
        custom_id=_string(data, "custom_id", "", max_length=127),
    )


# Webhooks --------------------------------------------------------------------------------------


def _event_type(item: Any, index: int) -> str:
    field = f"/event_types/{index}/name"
    if not isinstance(item, dict):
        raise _syntax(f"/event_types/{index}", "Must be a JSON object.")
    name = item.get("name")
    if name is None:
        raise _missing(field)
    if not isinstance(name, str) or not (name == "*" or EVENT_TYPE_PATTERN.fullmatch(name)):
        raise _syntax(field, "Must be an event type name or *.")
    if name != "*" and name not in KNOWN_EVENT_TYPES:
        raise _bad_value(field, f"Unknown event type {name}.")
    return name


def webhook_request_parse(body: bytes) -> WebhookRequest:
    """Validate a `POST /v1/notifications/webhooks` body."""
    data = parse_json_object(body)
    url = http_url(data.get("url"), "/url")
    items = data.get("event_types")
    if items is None:
        raise _missing("/event_types")
    if not isinstance(items, list):
        raise _syntax("/event_types", "Must be an array.")
    if not items or len(items) > MAX_WEBHOOK_EVENT_TYPES:
        raise _bad_value("/event_types", f"Give 1 to {MAX_WEBHOOK_EVENT_TYPES} event types.")
    names = tuple(dict.fromkeys(_event_type(item, index) for index, item in enumerate(items)))
    return WebhookRequest(url=url, event_types=names)


def resend_request_parse(body: bytes) -> tuple[str, ...]:
    """Webhook ids to resend an event to; empty means every subscribed webhook."""
    data = parse_json_object(body, allow_empty=True)
    ids = data.get("webhook_ids")
    if ids is None:
        return ()
    if not isinstance(ids, list) or not all(isinstance(item, str) for item in ids):
        raise _syntax("/webhook_ids", "Must be an array of webhook ids.")
    return tuple(ids)


def verify_request_parse(body: bytes) -> VerifyRequest:
    """Validate a `POST /v1/notifications/verify-webhook-signature` body."""
    data = parse_json_object(body)
    names = (
        "auth_algo",
        "cert_url",
        "transmission_id",
        "transmission_sig",
        "transmission_time",
        "webhook_id",
    )
    values: dict[str, str] = {}
    for name in names:
        value = data.get(name)
        if value is None or value == "":
            raise _missing(f"/{name}")
        if not isinstance(value, str) or len(value) > MAX_URL_LENGTH:
            raise _syntax(f"/{name}", "Must be a string.")
        values[name] = value
    event = data.get("webhook_event")
    if event is None:
        raise _missing("/webhook_event")
    if not isinstance(event, dict):
        raise _syntax("/webhook_event", "Must be a JSON object.")
    return VerifyRequest(webhook_event=event, **values)


# Headers ---------------------------------------------------------------------------------------


def request_id_parse(value: str | None) -> str:
    """The `PayPal-Request-Id` header: 1 to 108 printable ASCII characters, or "" when absent."""
    if value is None or value == "":
        return ""
    if (
        len(value) > MAX_REQUEST_ID_LENGTH
        or not value.isascii()
        or not value.isprintable()
        or value != value.strip()
    ):
        raise errors.invalid_request(
            errors.INVALID_PARAMETER_VALUE,
            f"PayPal-Request-Id must be 1 to {MAX_REQUEST_ID_LENGTH} printable ASCII characters.",
            field="PayPal-Request-Id",
            location="header",
        )
    return value
