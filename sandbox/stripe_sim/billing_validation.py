"""Validate the parameters of the billing endpoints: Customers, PaymentMethods, off-session
PaymentIntents, and Checkout Sessions in `setup` mode.

Like `validation.py` (whose field readers it shares), every failure raises StripeApiError (400)
with Stripe's message, `param` and code, and unknown parameters are refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from sandbox.stripe_sim import errors
from sandbox.stripe_sim.validation import (
    HOSTED_UI_MODES,
    MAX_AMOUNT,
    MAX_CLIENT_REFERENCE,
    MAX_STATEMENT_DESCRIPTOR,
    Params,
    _array,
    _boolean,
    _currency,
    _email,
    _expires_at,
    _hash,
    _integer,
    _optional_string,
    _required_string,
    _string,
    _url,
    metadata_parse,
    reject_unknown,
)

CUSTOMER_PARAMS: Final = frozenset(
    {"description", "email", "invoice_settings", "metadata", "name", "phone"}
)
INVOICE_SETTINGS_PARAMS: Final = frozenset({"default_payment_method"})
INTENT_CREATE_PARAMS: Final = frozenset(
    {
        "amount",
        "automatic_payment_methods",
        "capture_method",
        "confirm",
        "currency",
        "customer",
        "description",
        "metadata",
        "off_session",
        "payment_method",
        "payment_method_types",
        "receipt_email",
        "return_url",
        "statement_descriptor",
        "statement_descriptor_suffix",
    }
)
INTENT_CONFIRM_PARAMS: Final = frozenset({"off_session", "payment_method", "return_url"})
OFF_SESSION_VALUES: Final = frozenset({"true", "false", "one_off", "recurring"})
SETUP_SESSION_PARAMS: Final = frozenset(
    {
        "billing_address_collection",
        "cancel_url",
        "client_reference_id",
        "consent_collection",
        "currency",
        "custom_text",
        "customer",
        "customer_email",
        "expires_at",
        "locale",
        "metadata",
        "mode",
        "payment_method_options",
        "payment_method_types",
        "setup_intent_data",
        "success_url",
        "ui_mode",
        # Refused below with Stripe's own explanation rather than as unknown parameters.
        "line_items",
        "payment_intent_data",
    }
)
SETUP_INTENT_DATA_PARAMS: Final = frozenset({"description", "metadata"})
LIST_PARAMS: Final = frozenset({"limit", "starting_after", "ending_before", "type"})
MAX_LIST_LIMIT: Final = 100
DEFAULT_LIST_LIMIT: Final = 10


def _card_only(data: Params, param: str = "payment_method_types") -> bool:
    """`payment_method_types[]`: given and exactly ["card"], or absent (False)."""
    if param not in data:
        return False
    types = _array(data, param, param)
    for index, value in enumerate(types):
        if _string(value, f"{param}[{index}]") != "card":
            raise errors.invalid(
                f"The Stripe sandbox simulates cards only; {param}[{index}]={value} is not "
                "supported.",
                param=f"{param}[{index}]",
            )
    return bool(types)


def _object_id(data: Params, name: str, param: str | None = None) -> str:
    return _optional_string(data, name, param or name, max_length=255)


# Customers -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CustomerRequest:
    """Create or update; on update None means "leave as it is" and `metadata` holds changes.

    `default_payment_method` is None when not given and "" when it is to be unset.
    """

    email: str | None
    name: str | None
    description: str | None
    phone: str | None
    metadata: dict[str, str] | None
    default_payment_method: str | None


def _maybe(data: Params, name: str, *, keep_absent: bool) -> str | None:
    if name not in data:
        return None if keep_absent else ""
    return _string(data[name], name)


def customer_request_parse(data: Params, *, update: bool) -> CustomerRequest:
    """Validate `POST /v1/customers` (update=False) or `POST /v1/customers/{id}` parameters."""
    reject_unknown(data, CUSTOMER_PARAMS)
    email = _maybe(data, "email", keep_absent=update)
    if email:
        _email(email, "email")
    default_payment_method = None
    if "invoice_settings" in data:
        settings = _hash(data, "invoice_settings", "invoice_settings")
        reject_unknown(settings, INVOICE_SETTINGS_PARAMS, "invoice_settings")
        if "default_payment_method" in settings:
            default_payment_method = _string(
                settings["default_payment_method"], "invoice_settings[default_payment_method]"
            )
    metadata = None
    if "metadata" in data or not update:
        metadata = metadata_parse(data, keep_empty=update)
    return CustomerRequest(
        email=email,
        name=_maybe(data, "name", keep_absent=update),
        description=_maybe(data, "description", keep_absent=update),
        phone=_maybe(data, "phone", keep_absent=update),
        metadata=metadata,
        default_payment_method=default_payment_method,
    )


# PaymentMethods --------------------------------------------------------------------------------


def attach_request_parse(data: Params) -> str:
    """`POST /v1/payment_methods/{id}/attach`: the customer to attach to."""
    reject_unknown(data, ("customer",))
    return _required_string(data, "customer", "customer", max_length=255)


@dataclass(frozen=True)
class ListRequest:
    limit: int
    customer: str


def payment_method_list_parse(data: Params, *, customer_param: bool) -> ListRequest:
    """`GET /v1/payment_methods?customer=…` or `GET /v1/customers/{id}/payment_methods`."""
    reject_unknown(data, LIST_PARAMS | ({"customer"} if customer_param else set()))
    if "type" in data and _string(data["type"], "type") != "card":
        raise errors.invalid(
            "The Stripe sandbox simulates cards only: type must be card.", param="type"
        )
    limit = DEFAULT_LIST_LIMIT
    if "limit" in data:
        limit = _integer(data["limit"], "limit", minimum=1, maximum=MAX_LIST_LIMIT)
    customer = ""
    if customer_param:
        customer = _required_string(data, "customer", "customer", max_length=255)
    return ListRequest(limit=limit, customer=customer)


# PaymentIntents --------------------------------------------------------------------------------


@dataclass(frozen=True)
class IntentConfirmRequest:
    """A confirmation: at creation (`confirm=true`) or by `POST …/confirm`."""

    payment_method: str
    off_session: bool
    return_url: str


@dataclass(frozen=True)
class IntentCreateRequest:
    amount: int
    currency: str
    customer: str
    payment_method: str
    description: str
    receipt_email: str
    metadata: dict[str, str]
    confirm: IntentConfirmRequest | None


def _off_session(data: Params) -> bool:
    value = _string(data["off_session"], "off_session") if "off_session" in data else "false"
    if value not in OFF_SESSION_VALUES:
        raise errors.invalid(
            "Invalid off_session: must be one of true, false, one_off, or recurring",
            param="off_session",
        )
    return value != "false"


def _return_url(data: Params) -> str:
    value = _optional_string(data, "return_url", "return_url")
    return _url(value, "return_url") if value else ""


def _automatic_payment_methods(data: Params) -> None:
    param = "automatic_payment_methods"
    settings = _hash(data, param, param)
    reject_unknown(settings, ("enabled", "allow_redirects"), param)
    if "enabled" in settings:
        _boolean(settings["enabled"], f"{param}[enabled]")
    redirects = settings.get("allow_redirects", "always")
    if redirects not in ("always", "never"):
        raise errors.invalid(
            "Invalid allow_redirects: must be one of always or never",
            param=f"{param}[allow_redirects]",
        )


def payment_intent_create_parse(data: Params) -> IntentCreateRequest:
    """Validate `POST /v1/payment_intents` parameters."""
    reject_unknown(data, INTENT_CREATE_PARAMS)
    if "amount" not in data:
        raise errors.missing("amount")
    amount = _integer(data["amount"], "amount", minimum=1, maximum=MAX_AMOUNT)
    currency = _currency(_required_string(data, "currency", "currency"), "currency")
    _card_only(data)
    _automatic_payment_methods(data)
    capture = data.get("capture_method", "automatic")
    if capture not in ("automatic", "automatic_async"):
        raise errors.invalid(
            "The Stripe sandbox captures automatically; capture_method=manual is not supported.",
            param="capture_method",
        )
    for name in ("statement_descriptor", "statement_descriptor_suffix"):
        _optional_string(data, name, name, max_length=MAX_STATEMENT_DESCRIPTOR)
    confirm = _boolean(data["confirm"], "confirm") if "confirm" in data else False
    if not confirm:
        for name in ("off_session", "return_url"):
            if name in data:
                raise errors.invalid(
                    f"You passed `{name}` without `confirm=true`; `{name}` can only be used "
                    "when the PaymentIntent is confirmed.",
                    param=name,
                )
    payment_method = _object_id(data, "payment_method")
    confirmation = None
    if confirm:
        confirmation = IntentConfirmRequest(
            payment_method=payment_method,
            off_session=_off_session(data),
            return_url=_return_url(data),
        )
    return IntentCreateRequest(
        amount=amount,
        currency=currency,
        customer=_object_id(data, "customer"),
        payment_method=payment_method,
        description=_optional_string(data, "description", "description"),
        receipt_email=_email(
            _optional_string(data, "receipt_email", "receipt_email"), "receipt_email"
        ),
        metadata=metadata_parse(data),
        confirm=confirmation,
    )


def payment_intent_confirm_parse(data: Params) -> IntentConfirmRequest:
    """Validate `POST /v1/payment_intents/{id}/confirm` parameters."""
    reject_unknown(data, INTENT_CONFIRM_PARAMS)
    return IntentConfirmRequest(
        payment_method=_object_id(data, "payment_method"),
        off_session=_off_session(data),
        return_url=_return_url(data),
    )


# Checkout Sessions in setup mode ---------------------------------------------------------------


@dataclass(frozen=True)
class SetupSessionRequest:
    customer: str
    currency: str
    success_url: str
    cancel_url: str
    client_reference_id: str
    customer_email: str
    locale: str
    metadata: dict[str, str]
    intent_metadata: dict[str, str]
    intent_description: str
    expires_at: int | None


def _setup_intent_data(data: Params) -> tuple[dict[str, str], str]:
    param = "setup_intent_data"
    intent_data = _hash(data, param, param)
    reject_unknown(intent_data, SETUP_INTENT_DATA_PARAMS, param)
    description = _optional_string(intent_data, "description", f"{param}[description]")
    return metadata_parse(intent_data, f"{param}[metadata]"), description


def setup_session_request_parse(data: Params, *, now: int) -> SetupSessionRequest:
    """Validate `POST /v1/checkout/sessions` with `mode=setup`."""
    reject_unknown(data, SETUP_SESSION_PARAMS)
    for name in ("line_items", "payment_intent_data"):
        if name in data:
            raise errors.invalid(f"`{name}` cannot be used in `setup` mode.", param=name)
    if "ui_mode" in data and _string(data["ui_mode"], "ui_mode") not in HOSTED_UI_MODES:
        raise errors.invalid(
            "The Stripe sandbox simulates the hosted page only (ui_mode=hosted_page).",
            param="ui_mode",
        )
    currency = ""
    if "currency" in data:
        currency = _currency(_required_string(data, "currency", "currency"), "currency")
    if not _card_only(data) and not currency:
        raise errors.invalid(
            "`currency` is required in `setup` mode when `payment_method_types` is not set.",
            param="currency",
        )
    customer = _object_id(data, "customer")
    customer_email = _email(
        _optional_string(data, "customer_email", "customer_email"), "customer_email"
    )
    if customer and customer_email:
        raise errors.invalid(
            "You may only specify one of these parameters: customer, customer_email.",
            param="customer_email",
        )
    cancel_url = _optional_string(data, "cancel_url", "cancel_url")
    intent_metadata, intent_description = _setup_intent_data(data)
    return SetupSessionRequest(
        customer=customer,
        currency=currency,
        success_url=_url(_required_string(data, "success_url", "success_url"), "success_url"),
        cancel_url=_url(cancel_url, "cancel_url") if cancel_url else "",
        client_reference_id=_optional_string(
            data, "client_reference_id", "client_reference_id", max_length=MAX_CLIENT_REFERENCE
        ),
        customer_email=customer_email,
        locale=_optional_string(data, "locale", "locale", max_length=16),
        metadata=metadata_parse(data),
        intent_metadata=intent_metadata,
        intent_description=intent_description,
        expires_at=_expires_at(data, now),
    )


def is_setup_mode(data: Params) -> bool:
    """Whether a Checkout Session request asks for `mode=setup` (the rest is validated later)."""
    return data.get("mode") == "setup"
