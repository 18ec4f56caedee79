"""Wasla's own Stripe account (platform billing), through the official `stripe` package.

Plain values in, frozen dataclasses out; no models. One `StripeClient` per call with the
platform key from settings, pointed at `WASLA_BILLING_STRIPE_API_BASE` (the sandbox in the demo
and tests). Amounts cross this edge in minor units. Every charge carries the caller's
idempotency key, so a retried call is the same charge. Errors come out as two kinds:
`BillingStripeUnavailable` (no usable answer: the outcome is unknown, retry with the same key)
and `BillingStripeRefused` (Stripe said no to the request itself).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final

import stripe
from django.conf import settings

from wasla.common.money import from_minor_units, to_minor_units

WEBHOOK_TOLERANCE_SECONDS: Final = 300
TIMEOUTS: Final = (5.0, 20.0)  # connect, read


class BillingStripeUnavailable(Exception):
    """Stripe gave no usable answer (connection error, timeout, 5xx, 429)."""


class BillingStripeRefused(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code, self.message = code, message


@dataclass(frozen=True)
class SavedCard:
    customer_id: str
    payment_method_id: str
    brand: str
    last4: str
    exp_month: int | None
    exp_year: int | None


@dataclass(frozen=True)
class Charge:
    customer_id: str
    payment_method_id: str
    amount: Decimal
    currency: str
    metadata: dict[str, str]
    idempotency_key: str
    return_url: str = ""  # set: on-session (3-D Secure may follow); unset: off-session


@dataclass(frozen=True)
class ChargeOutcome:
    """`succeeded`, `declined`, `requires_authentication` or `requires_action` (on-session:
    go to `redirect_url`), with Stripe's PaymentIntent id and decline code and message."""

    status: str
    intent_id: str
    decline_code: str = ""
    message: str = ""
    redirect_url: str = ""


def is_configured() -> bool:
    return bool(settings.WASLA_BILLING_STRIPE_SECRET_KEY)


def _client() -> stripe.StripeClient:
    if not is_configured():
        raise BillingStripeRefused("not_configured", "WASLA_BILLING_STRIPE_SECRET_KEY is not set")
    return stripe.StripeClient(
        settings.WASLA_BILLING_STRIPE_SECRET_KEY,
        base_addresses={"api": settings.WASLA_BILLING_STRIPE_API_BASE},
        max_network_retries=0,  # the next collect run retries, with the same idempotency key
        http_client=stripe.RequestsClient(timeout=TIMEOUTS),
    )


def api_call(call: Any) -> dict[str, Any]:
    """Run one API call; a plain dict out (StripeObjects are not dicts), our errors for failures."""
    try:
        return dict(call(_client()).to_dict())
    except stripe.CardError:
        raise
    except (stripe.APIConnectionError, stripe.RateLimitError) as exc:
        raise BillingStripeUnavailable(f"Stripe unreachable: {type(exc).__name__}") from None
    except stripe.StripeError as exc:
        status = getattr(exc, "http_status", None) or 0
        if status >= 500 or isinstance(exc, stripe.APIError):
            raise BillingStripeUnavailable(f"Stripe answered {status}") from None
        code = str(getattr(exc, "code", None) or type(exc).__name__)
        raise BillingStripeRefused(code, str(getattr(exc, "user_message", None) or exc)) from None


def customer_ensure(*, tenant_id: int, name: str, email: str = "") -> str:
    """The tenant's Stripe Customer: the idempotency key is the tenant's, so two concurrent
    set-ups get the same Customer back."""
    params: dict[str, Any] = {"name": name[:200], "metadata": {"tenant_id": str(tenant_id)}}
    if email:
        params["email"] = email
    customer = api_call(
        lambda c: c.v1.customers.create(
            params=params, options={"idempotency_key": f"wasla-billing-customer-{tenant_id}"}
        )
    )
    return str(customer["id"])


def setup_session_create(
    *, customer_id: str, tenant_id: int, currency: str, success_url: str, cancel_url: str
) -> str:
    """A setup-mode Checkout Session for the tenant's card; returns its hosted page URL."""
    reference = str(tenant_id)
    session = api_call(
        lambda c: c.v1.checkout.sessions.create(
            params={
                "mode": "setup",
                "customer": customer_id,
                "currency": currency.lower(),
                "success_url": success_url,
                "cancel_url": cancel_url,
                "client_reference_id": reference,
                "metadata": {"tenant_id": reference, "purpose": "wasla_billing_card"},
            }
        )
    )
    return str(session["url"])


def setup_session_card(*, session_id: str) -> SavedCard | None:
    """The card a completed setup session saved (Session → SetupIntent → PaymentMethod), or
    None while it has none."""
    session = api_call(lambda c: c.v1.checkout.sessions.retrieve(session_id))
    if session.get("mode") != "setup" or not session.get("setup_intent"):
        return None
    intent = api_call(lambda c: c.v1.setup_intents.retrieve(str(session["setup_intent"])))
    if intent.get("status") != "succeeded" or not intent.get("payment_method"):
        return None
    method = api_call(lambda c: c.v1.payment_methods.retrieve(str(intent["payment_method"])))
    return _saved_card(method, str(session.get("customer") or ""))


def _saved_card(method: dict[str, Any], customer_id: str) -> SavedCard:
    card = method.get("card") or {}
    exp_month, exp_year = card.get("exp_month"), card.get("exp_year")
    return SavedCard(
        customer_id=customer_id or str(method.get("customer") or ""),
        payment_method_id=str(method["id"]),
        brand=str(card.get("brand") or ""),
        last4=str(card.get("last4") or ""),
        exp_month=exp_month if isinstance(exp_month, int) else None,
        exp_year=exp_year if isinstance(exp_year, int) else None,
    )


def payment_method_attach(*, customer_id: str, payment_method_id: str) -> SavedCard:
    """Attach a PaymentMethod (a Stripe test one such as `pm_card_visa` in the sandbox) to the
    Customer; the card as Stripe then holds it."""
    method = api_call(
        lambda c: c.v1.payment_methods.attach(payment_method_id, params={"customer": customer_id})
    )
    return _saved_card(method, customer_id)


def _outcome(intent: dict[str, Any]) -> ChargeOutcome:
    status, intent_id = str(intent.get("status")), str(intent.get("id") or "")
    if status in ("succeeded", "processing"):
        return ChargeOutcome("succeeded", intent_id)
    if status == "requires_action":
        action = intent.get("next_action") or {}
        url = str(((action.get("redirect_to_url") or {}).get("url")) or "")
        return ChargeOutcome("requires_action", intent_id, redirect_url=url)
    error = intent.get("last_payment_error") or {}
    return ChargeOutcome(
        "declined",
        intent_id,
        decline_code=str(error.get("decline_code") or error.get("code") or status),
        message=str(error.get("message") or ""),
    )


def charge(request: Charge) -> ChargeOutcome:
    """Create and confirm a PaymentIntent on the saved card: off-session unless `return_url`."""
    params: dict[str, Any] = {
        "amount": to_minor_units(request.amount, request.currency),
        "currency": request.currency.lower(),
        "customer": request.customer_id,
        "payment_method": request.payment_method_id,
        "confirm": True,
        "metadata": request.metadata,
    }
    if request.return_url:
        params["return_url"] = request.return_url
    else:
        params["off_session"] = True
    try:
        intent = api_call(
            lambda c: c.v1.payment_intents.create(
                params=params, options={"idempotency_key": request.idempotency_key}
            )
        )
    except stripe.CardError as exc:
        error = exc.error
        declined = getattr(error, "payment_intent", None) if error is not None else None
        intent_id = str(declined.id) if declined is not None else ""
        code = str(exc.code or "card_declined")
        status = "requires_authentication" if code == "authentication_required" else "declined"
        decline = str(getattr(error, "decline_code", None) or code)
        return ChargeOutcome(status, intent_id, decline_code=decline, message=str(exc.user_message))
    return _outcome(intent)


WEBHOOK_EVENTS: Final = (
    "checkout.session.completed",
    "payment_intent.payment_failed",
    "payment_intent.succeeded",
)


def webhook_endpoint_create(*, url: str) -> str:
    """Register the billing webhook at `url` with the platform account; returns its signing
    secret (for WASLA_BILLING_STRIPE_WEBHOOK_SECRET)."""
    endpoint = api_call(
        lambda c: c.v1.webhook_endpoints.create(
            params={"url": url, "enabled_events": list(WEBHOOK_EVENTS)}
        )
    )
    return str(endpoint["secret"])


def amount_from_minor(units: int, currency: str) -> Decimal:
    return from_minor_units(units, currency.upper())


def signature_valid(*, body: bytes, header: str) -> bool:
    """The Stripe-Signature of a billing webhook, checked by the official helper (300 s)."""
    secret = settings.WASLA_BILLING_STRIPE_WEBHOOK_SECRET
    if not header or not secret:
        return False
    try:
        stripe.WebhookSignature.verify_header(
            body.decode("utf-8"), header, secret, WEBHOOK_TOLERANCE_SECONDS
        )
    except (stripe.SignatureVerificationError, UnicodeDecodeError, ValueError):
        return False
    return True
