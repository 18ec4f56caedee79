"""Validate the parsed form parameters of the simulated endpoints into typed requests.

Every failure raises StripeApiError (400) with Stripe's message, `param` and, where Stripe has
one, `code`. Unknown parameters are refused like Stripe refuses them, so a typo in the product is
caught here instead of being silently ignored.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import urlsplit

from sandbox.stripe_sim import errors
from sandbox.stripe_sim.currencies import amount_display, currency_normalize
from sandbox.stripe_sim.models import StripeRefund

MAX_AMOUNT: Final = 99_999_999  # Stripe's ceiling: 999,999.99 in a two-decimal currency
MAX_QUANTITY: Final = 999_999
MAX_LINE_ITEMS: Final = 100
MAX_INTEGER_DIGITS: Final = 15
MAX_STRING: Final = 5000
MAX_CLIENT_REFERENCE: Final = 200
MAX_METADATA_KEYS: Final = 50
MAX_METADATA_KEY: Final = 40
MAX_METADATA_VALUE: Final = 500
MAX_STATEMENT_DESCRIPTOR: Final = 22
MIN_EXPIRY_SECONDS: Final = 30 * 60
MAX_EXPIRY_SECONDS: Final = 24 * 60 * 60
INTEGER_PATTERN: Final = re.compile(r"-?[0-9]+")
EMAIL_PATTERN: Final = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
EVENT_TYPE_PATTERN: Final = re.compile(r"[a-z_]+(\.[a-z_]+)+")
HOSTED_UI_MODES: Final = frozenset({"hosted_page", "hosted"})

# Real Checkout parameters that change nothing the sandbox simulates: accepted and ignored.
IGNORED_SESSION_PARAMS: Final = frozenset(
    {
        "allow_promotion_codes",
        "automatic_tax",
        "billing_address_collection",
        "consent_collection",
        "custom_text",
        "customer_creation",
        "invoice_creation",
        "payment_method_options",
        "payment_method_types",
        "phone_number_collection",
        "submit_type",
    }
)
SESSION_PARAMS: Final = IGNORED_SESSION_PARAMS | {
    "cancel_url",
    "client_reference_id",
    "currency",
    "customer_email",
    "expires_at",
    "line_items",
    "locale",
    "metadata",
    "mode",
    "payment_intent_data",
    "success_url",
    "ui_mode",
}
INTENT_DATA_PARAMS: Final = frozenset(
    {
        "capture_method",
        "description",
        "metadata",
        "receipt_email",
        "statement_descriptor",
        "statement_descriptor_suffix",
    }
)
LINE_ITEM_PARAMS: Final = frozenset({"price", "price_data", "quantity"})
PRICE_DATA_PARAMS: Final = frozenset(
    {"currency", "product", "product_data", "recurring", "tax_behavior", "unit_amount"}
)
PRODUCT_DATA_PARAMS: Final = frozenset(
    {"description", "images", "metadata", "name", "tax_code", "unit_label"}
)
TAX_BEHAVIORS: Final = frozenset({"exclusive", "inclusive", "unspecified"})
REFUND_PARAMS: Final = frozenset(
    {"amount", "charge", "instructions_email", "metadata", "payment_intent", "reason"}
)
ENDPOINT_CREATE_PARAMS: Final = frozenset(
    {"api_version", "connect", "description", "enabled_events", "metadata", "url"}
)
ENDPOINT_UPDATE_PARAMS: Final = frozenset(
    {"description", "disabled", "enabled_events", "metadata", "url"}
)

Params = dict[str, Any]


# Field readers ---------------------------------------------------------------------------------


def reject_unknown(data: Params, allowed: Collection[str], prefix: str = "") -> None:
    for name in data:
        if name not in allowed:
            raise errors.unknown(f"{prefix}[{name}]" if prefix else name)


def _sub(prefix: str, name: str) -> str:
    return f"{prefix}[{name}]" if prefix else name


def _string(value: Any, param: str, *, max_length: int = MAX_STRING) -> str:
    if not isinstance(value, str):
        raise errors.invalid(f"Invalid string: {param} must be a string", param=param)
    if len(value) > max_length:
        raise errors.invalid(
            f"Invalid string: must be at most {max_length} characters", param=param
        )
    return value


def _required_string(data: Params, name: str, param: str, **kwargs: Any) -> str:
    if name not in data:
        raise errors.missing(param)
    value = _string(data[name], param, **kwargs)
    if not value:
        raise errors.invalid(
            f"You passed an empty string for '{param}'. We assume empty values are an attempt to "
            f"unset a parameter; however '{param}' cannot be unset. You should remove '{param}' "
            "from your request or supply a non-empty value.",
            param=param,
            code="parameter_invalid_empty",
        )
    return value


def _optional_string(data: Params, name: str, param: str, **kwargs: Any) -> str:
    return _string(data[name], param, **kwargs) if name in data else ""


def _integer(value: Any, param: str, *, minimum: int, maximum: int | None = None) -> int:
    if (
        not isinstance(value, str)
        or not INTEGER_PATTERN.fullmatch(value)
        or len(value.lstrip("-")) > MAX_INTEGER_DIGITS
    ):
        shown = value if isinstance(value, str) else "a hash or array"
        raise errors.invalid(
            f"Invalid integer: {shown}", param=param, code="parameter_invalid_integer"
        )
    number = int(value)
    if number < minimum:
        raise errors.invalid(
            f"This value must be greater than or equal to {minimum}.",
            param=param,
            code="parameter_invalid_integer",
        )
    if maximum is not None and number > maximum:
        raise errors.invalid(
            f"This value must be less than or equal to {maximum}.",
            param=param,
            code="parameter_invalid_integer",
        )
    return number


def _boolean(value: Any, param: str) -> bool:
    if value not in ("true", "false"):
        raise errors.invalid(f"Invalid boolean: {value}", param=param)
    return value == "true"


def _hash(data: Params, name: str, param: str) -> Params:
    """An optional nested object; `name=` (empty) means an empty one, as Stripe reads it."""
    value = data.get(name, "")
    if value == "":
        return {}
    if not isinstance(value, dict):
        raise errors.invalid("Invalid hash", param=param)
    return value


def _array(data: Params, name: str, param: str) -> list[Any]:
    value = data.get(name, "")
    if value == "":
        return []
    if not isinstance(value, list):
        raise errors.invalid("Invalid array", param=param)
    return value


def metadata_parse(
    data: Params, param: str = "metadata", *, keep_empty: bool = False
) -> dict[str, str]:
    """`metadata[key]=value` pairs: at most 50 keys of 40 characters, values of 500.

    An empty value unsets its key: dropped on create, kept (`keep_empty`) for an update to apply.
    """
    metadata = _hash(data, "metadata", param)
    if len(metadata) > MAX_METADATA_KEYS:
        raise errors.invalid(
            f"Invalid {param}: You can specify up to {MAX_METADATA_KEYS} keys.", param=param
        )
    parsed: dict[str, str] = {}
    for key, value in metadata.items():
        key_param = f"{param}[{key}]"
        if len(key) > MAX_METADATA_KEY:
            raise errors.invalid(
                f"Invalid {param}: keys can be at most {MAX_METADATA_KEY} characters long.",
                param=key_param,
            )
        text = _string(value, key_param, max_length=MAX_METADATA_VALUE)
        if text or keep_empty:
            parsed[key] = text
    return parsed


def _url(value: str, param: str) -> str:
    # Whitespace or control characters would break the Location header of the redirect.
    invalid = not value.isprintable() or any(char.isspace() for char in value)
    try:
        parts = urlsplit(value)
    except ValueError:
        invalid = True
    else:
        invalid = invalid or parts.scheme not in ("http", "https") or not parts.netloc
    if invalid:
        raise errors.invalid("Not a valid URL", param=param, code="url_invalid")
    return value


def _email(value: str, param: str) -> str:
    if value and not EMAIL_PATTERN.fullmatch(value):
        raise errors.invalid(f"Invalid email address: {value}", param=param, code="email_invalid")
    return value


def _currency(value: Any, param: str) -> str:
    currency = currency_normalize(value) if isinstance(value, str) else None
    if currency is None:
        raise errors.invalid(
            f"Invalid currency: {value if isinstance(value, str) else ''}. The Stripe sandbox "
            "supports the ISO codes Stripe does, in either case (sar, SAR).",
            param=param,
        )
    return currency


# Checkout Sessions -----------------------------------------------------------------------------


@dataclass(frozen=True)
class LineItemRequest:
    name: str
    description: str
    unit_amount: int
    quantity: int
    currency: str
    product_metadata: dict[str, str]

    @property
    def amount(self) -> int:
        return self.unit_amount * self.quantity


@dataclass(frozen=True)
class SessionCreateRequest:
    currency: str
    line_items: tuple[LineItemRequest, ...]
    success_url: str
    cancel_url: str
    client_reference_id: str
    customer_email: str
    locale: str
    metadata: dict[str, str]
    intent_metadata: dict[str, str]
    intent_description: str
    expires_at: int | None

    @property
    def amount_total(self) -> int:
        return sum(item.amount for item in self.line_items)


def _mode(data: Params) -> None:
    mode = _required_string(data, "mode", "mode")
    if mode not in ("payment", "setup", "subscription"):
        raise errors.invalid(
            "Invalid mode: must be one of payment, setup, or subscription", param="mode"
        )
    if mode != "payment":
        # mode=setup is validated by billing_validation.py; it never reaches this parser.
        raise errors.invalid(
            f"The Stripe sandbox simulates mode=payment and mode=setup only; mode={mode} is not "
            "supported.",
            param="mode",
        )


def _ui_mode(data: Params) -> None:
    if "ui_mode" in data and _string(data["ui_mode"], "ui_mode") not in HOSTED_UI_MODES:
        raise errors.invalid(
            "The Stripe sandbox simulates the hosted page only (ui_mode=hosted_page).",
            param="ui_mode",
        )


def _product_data(price_data: Params, prefix: str) -> tuple[str, str, dict[str, str]]:
    param = _sub(prefix, "product_data")
    if "product" in price_data:
        product = _string(price_data["product"], _sub(prefix, "product"))
        raise errors.no_such("product", product, param=_sub(prefix, "product"))
    if "product_data" not in price_data:
        raise errors.missing(param)
    product_data = _hash(price_data, "product_data", param)
    reject_unknown(product_data, PRODUCT_DATA_PARAMS, param)
    name = _required_string(product_data, "name", _sub(param, "name"))
    description = _optional_string(product_data, "description", _sub(param, "description"))
    for index, image in enumerate(_array(product_data, "images", _sub(param, "images"))):
        _url(_string(image, f"{param}[images][{index}]"), f"{param}[images][{index}]")
    return name, description, metadata_parse(product_data, _sub(param, "metadata"))


def _line_item(item: Any, prefix: str) -> LineItemRequest:
    if not isinstance(item, dict):
        raise errors.invalid("Invalid hash", param=prefix)
    reject_unknown(item, LINE_ITEM_PARAMS, prefix)
    if "price" in item:
        price = _string(item["price"], _sub(prefix, "price"))
        raise errors.no_such("price", price, param=_sub(prefix, "price"))
    price_param = _sub(prefix, "price_data")
    if "price_data" not in item:
        raise errors.missing(price_param)
    price_data = _hash(item, "price_data", price_param)
    reject_unknown(price_data, PRICE_DATA_PARAMS, price_param)
    if "recurring" in price_data:
        raise errors.invalid(
            "You specified `payment` mode but passed a recurring price. Either switch to "
            "`subscription` mode or use only one-time prices.",
            param=_sub(price_param, "recurring"),
        )
    currency_param = _sub(price_param, "currency")
    currency = _currency(_required_string(price_data, "currency", currency_param), currency_param)
    amount_param = _sub(price_param, "unit_amount")
    if "unit_amount" not in price_data:
        raise errors.missing(amount_param)
    unit_amount = _integer(price_data["unit_amount"], amount_param, minimum=0)
    if unit_amount > MAX_AMOUNT:
        raise errors.invalid(
            f"Amount must be no more than {amount_display(MAX_AMOUNT, currency)}",
            param=amount_param,
            code="amount_too_large",
        )
    tax_behavior = price_data.get("tax_behavior", "unspecified")
    if tax_behavior not in TAX_BEHAVIORS:
        raise errors.invalid(
            "Invalid tax_behavior: must be one of exclusive, inclusive, or unspecified",
            param=_sub(price_param, "tax_behavior"),
        )
    name, description, product_metadata = _product_data(price_data, price_param)
    if "quantity" not in item:
        raise errors.missing(_sub(prefix, "quantity"))
    quantity = _integer(item["quantity"], _sub(prefix, "quantity"), minimum=1, maximum=MAX_QUANTITY)
    return LineItemRequest(
        name=name,
        description=description,
        unit_amount=unit_amount,
        quantity=quantity,
        currency=currency,
        product_metadata=product_metadata,
    )


def _line_items(data: Params) -> tuple[LineItemRequest, ...]:
    if "line_items" not in data:
        raise errors.missing("line_items")
    raw = _array(data, "line_items", "line_items")
    if not raw:
        raise errors.invalid("`line_items` is required in `payment` mode.", param="line_items")
    if len(raw) > MAX_LINE_ITEMS:
        raise errors.invalid(
            f"You may only specify up to {MAX_LINE_ITEMS} line items.", param="line_items"
        )
    items = tuple(_line_item(item, f"line_items[{index}]") for index, item in enumerate(raw))
    for index, item in enumerate(items):
        if item.currency != items[0].currency:
            raise errors.invalid(
                "All line items on a Checkout Session must share one currency.",
                param=f"line_items[{index}][price_data][currency]",
            )
    return items


def _session_total(items: tuple[LineItemRequest, ...], currency: str) -> None:
    total = sum(item.amount for item in items)
    if total <= 0:
        raise errors.invalid(
            "The Checkout Session's total amount due must be greater than zero in `payment` mode.",
            param="line_items",
            code="amount_too_small",
        )
    if total > MAX_AMOUNT:
        raise errors.invalid(
            "The Checkout Session's total amount due must be no more than "
            f"{amount_display(MAX_AMOUNT, currency)}.",
            param="line_items",
            code="amount_too_large",
        )


def _intent_data(data: Params) -> tuple[dict[str, str], str]:
    param = "payment_intent_data"
    intent_data = _hash(data, "payment_intent_data", param)
    reject_unknown(intent_data, INTENT_DATA_PARAMS, param)
    capture = intent_data.get("capture_method", "automatic")
    if capture not in ("automatic", "automatic_async"):
        raise errors.invalid(
            "The Stripe sandbox captures automatically; capture_method=manual is not supported.",
            param=_sub(param, "capture_method"),
        )
    for name in ("statement_descriptor", "statement_descriptor_suffix"):
        _optional_string(intent_data, name, _sub(param, name), max_length=MAX_STATEMENT_DESCRIPTOR)
    _email(
        _optional_string(intent_data, "receipt_email", _sub(param, "receipt_email")),
        _sub(param, "receipt_email"),
    )
    description = _optional_string(intent_data, "description", _sub(param, "description"))
    return metadata_parse(intent_data, _sub(param, "metadata")), description


def _expires_at(data: Params, now: int) -> int | None:
    if "expires_at" not in data:
        return None
    expires_at = _integer(data["expires_at"], "expires_at", minimum=0)
    if expires_at < now + MIN_EXPIRY_SECONDS:
        raise errors.invalid(
            "The `expires_at` timestamp must be at least 30 minutes from Checkout Session "
            "creation.",
            param="expires_at",
        )
    if expires_at > now + MAX_EXPIRY_SECONDS:
        raise errors.invalid(
            "The `expires_at` timestamp must be less than 24 hours from Checkout Session creation.",
            param="expires_at",
        )
    return expires_at


def checkout_session_request_parse(data: Params, *, now: int) -> SessionCreateRequest:
    """Validate `POST /v1/checkout/sessions` parameters."""
    reject_unknown(data, SESSION_PARAMS)
    _mode(data)
    _ui_mode(data)
    items = _line_items(data)
    currency = items[0].currency
    if "currency" in data and _currency(data["currency"], "currency") != currency:
        raise errors.invalid(
            "`currency` must match the currency of the line items.", param="currency"
        )
    _session_total(items, currency)
    intent_metadata, intent_description = _intent_data(data)
    cancel_url = _optional_string(data, "cancel_url", "cancel_url")
    return SessionCreateRequest(
        currency=currency,
        line_items=items,
        success_url=_url(_required_string(data, "success_url", "success_url"), "success_url"),
        cancel_url=_url(cancel_url, "cancel_url") if cancel_url else "",
        client_reference_id=_optional_string(
            data, "client_reference_id", "client_reference_id", max_length=MAX_CLIENT_REFERENCE
        ),
        customer_email=_email(
            _optional_string(data, "customer_email", "customer_email"), "customer_email"
        ),
        locale=_optional_string(data, "locale", "locale", max_length=16),
        metadata=metadata_parse(data),
        intent_metadata=intent_metadata,
        intent_description=intent_description,
        expires_at=_expires_at(data, now),
    )


# Refunds ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RefundCreateRequest:
    payment_intent: str
    charge: str
    amount: int | None
    reason: str
    metadata: dict[str, str]


def refund_request_parse(data: Params) -> RefundCreateRequest:
    """Validate `POST /v1/refunds` parameters."""
    reject_unknown(data, REFUND_PARAMS)
    payment_intent = _optional_string(data, "payment_intent", "payment_intent")
    charge = _optional_string(data, "charge", "charge")
    if not payment_intent and not charge:
        raise errors.invalid(
            "One of the following params should be provided for this request: payment_intent "
            "or charge.",
            code="parameter_missing",
        )
    amount = None
    if "amount" in data:
        amount = _integer(data["amount"], "amount", minimum=1, maximum=MAX_AMOUNT)
    reason = _optional_string(data, "reason", "reason")
    if reason and reason not in StripeRefund.Reason.values:
        raise errors.invalid(
            "Invalid reason: must be one of duplicate, fraudulent, or requested_by_customer",
            param="reason",
        )
    return RefundCreateRequest(
        payment_intent=payment_intent,
        charge=charge,
        amount=amount,
        reason=reason,
        metadata=metadata_parse(data),
    )


# Webhook endpoints -----------------------------------------------------------------------------


@dataclass(frozen=True)
class EndpointRequest:
    """Create or update; on update, None means "leave as it is" and `metadata` holds changes."""

    url: str | None
    enabled_events: tuple[str, ...] | None
    description: str | None
    metadata: dict[str, str] | None
    api_version: str
    disabled: bool | None


def _enabled_events(data: Params) -> tuple[str, ...]:
    events = _array(data, "enabled_events", "enabled_events")
    if not events:
        raise errors.missing("enabled_events")
    for index, event_type in enumerate(events):
        param = f"enabled_events[{index}]"
        if event_type != "*" and not EVENT_TYPE_PATTERN.fullmatch(_string(event_type, param)):
            raise errors.invalid(
                f"Invalid {param}: {event_type!r} is not an event type.", param=param
            )
    return tuple(dict.fromkeys(events))


def webhook_endpoint_create_parse(data: Params) -> EndpointRequest:
    """Validate `POST /v1/webhook_endpoints` parameters."""
    reject_unknown(data, ENDPOINT_CREATE_PARAMS)
    if "enabled_events" not in data:
        raise errors.missing("enabled_events")
    if "connect" in data and _boolean(data["connect"], "connect"):
        raise errors.invalid("The Stripe sandbox does not simulate Connect.", param="connect")
    return EndpointRequest(
        url=_url(_required_string(data, "url", "url"), "url"),
        enabled_events=_enabled_events(data),
        description=_optional_string(data, "description", "description"),
        metadata=metadata_parse(data),
        api_version=_optional_string(data, "api_version", "api_version", max_length=40),
        disabled=None,
    )


def webhook_endpoint_update_parse(data: Params) -> EndpointRequest:
    """Validate `POST /v1/webhook_endpoints/{id}` parameters."""
    reject_unknown(data, ENDPOINT_UPDATE_PARAMS)
    return EndpointRequest(
        url=_url(_required_string(data, "url", "url"), "url") if "url" in data else None,
        enabled_events=_enabled_events(data) if "enabled_events" in data else None,
        description=_optional_string(data, "description", "description")
        if "description" in data
        else None,
        metadata=metadata_parse(data, keep_empty=True) if "metadata" in data else None,
        api_version="",
        disabled=_boolean(data["disabled"], "disabled") if "disabled" in data else None,
    )
