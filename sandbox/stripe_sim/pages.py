"""The hosted Checkout pages a customer is redirected to: pay, 3-D Secure, and the final state.
(Setup-mode sessions and API PaymentIntents have theirs in `billing_pages.py`.)

They belong to "Stripe", a third party to the merchant, so their forms carry no CSRF token and
no API key: the session id in the address is the customer's only credential, as on Stripe.
Each page has exactly one `<form method="post">` whose buttons are named `outcome`.
"""

from __future__ import annotations

import logging
from decimal import Decimal
from pathlib import Path
from typing import Any, Final

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template import Context
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext, gettext_lazy
from django.views.decorators.csrf import csrf_exempt

from sandbox.hosted_pages import money_text, page_engine
from sandbox.stripe_sim.currencies import currency_exponent
from sandbox.stripe_sim.models import StripeCheckoutSession
from sandbox.stripe_sim.serializers import DEFAULT_CUSTOMER_EMAIL
from sandbox.stripe_sim.services import (
    checkout_session_cancel,
    checkout_session_decline,
    checkout_session_expire_if_due,
    checkout_session_pay,
    now_unix,
)
from sandbox.stripe_sim.webhooks import events_deliver

logger = logging.getLogger(__name__)

# Namespaced under templates/ so the project's own template loaders can never pick these up by
# a bare name such as "base.html"; only this private engine reads them.
TEMPLATES: Final = page_engine(Path(__file__).resolve().parent / "templates" / "sandbox_stripe")
SESSION_ID_PLACEHOLDER: Final = "{CHECKOUT_SESSION_ID}"
TEST_CARD: Final = {"number": "4242 4242 4242 4242", "expiry": "12 / 34", "cvc": "123"}
STATUS_STYLES: Final[dict[str, str]] = {
    StripeCheckoutSession.Status.COMPLETE: "ok",
    StripeCheckoutSession.Status.EXPIRED: "muted",
    StripeCheckoutSession.Status.OPEN: "muted",
}
STATUS_LABELS: Final[dict[str, str | Promise]] = {
    StripeCheckoutSession.Status.COMPLETE: gettext_lazy("Paid"),
    StripeCheckoutSession.Status.EXPIRED: gettext_lazy("Expired"),
    StripeCheckoutSession.Status.OPEN: gettext_lazy("Open"),
}


def money_shown(amount: int, currency: str) -> str:
    """Minor units as the customer reads them, in the page's language: (1050, "sar") →
    "SAR 10.50" in English, "10.50 ر.س." in Arabic."""
    exponent = currency_exponent(currency)
    return money_text(Decimal(amount).scaleb(-exponent), currency, exponent)


def merchant_shown(description: str = "") -> str:
    """Whom the customer pays. Checkout names the account's business; the sandbox has no
    business profile, so it shows the PaymentIntent description a platform sets to the store's
    name (`payment_intent_data.description`), else a placeholder."""
    return description.strip() or gettext("Sandbox merchant")


def merchant_return_url(session: StripeCheckoutSession) -> str:
    """Where the customer goes next: `success_url` once paid, else `cancel_url` (or, without
    one, `success_url`), with `{CHECKOUT_SESSION_ID}` replaced by the session id."""
    paid = session.status == StripeCheckoutSession.Status.COMPLETE
    url = session.success_url if paid or not session.cancel_url else session.cancel_url
    return url.replace(SESSION_ID_PLACEHOLDER, session.id)


def _line_items(session: StripeCheckoutSession) -> list[dict[str, Any]]:
    return [
        {
            "name": item["name"],
            "description": item["description"],
            "quantity": item["quantity"],
            "unit": money_shown(item["unit_amount"], session.currency),
            "amount": money_shown(item["amount"], session.currency),
        }
        for item in session.line_items
    ]


def _declined_message(session: StripeCheckoutSession) -> str:
    intent = session.payment_intent
    if session.is_open and intent is not None and intent.last_payment_error:
        return str(intent.last_payment_error.get("message", ""))
    return ""


def render(name: str, context: dict[str, Any], status: int = 200) -> HttpResponse:
    html = TEMPLATES.get_template(name).render(Context(context))
    response = HttpResponse(html, status=status)
    response["Cache-Control"] = "no-store"
    return response


def _page(
    name: str, session: StripeCheckoutSession, *, error: str = "", status: int = 200
) -> HttpResponse:
    context = {
        "session": session,
        "amount": money_shown(session.amount_total, session.currency),
        "merchant": merchant_shown(session.intent_description),
        "items": _line_items(session),
        "email": session.customer_email or DEFAULT_CUSTOMER_EMAIL,
        "card": TEST_CARD,
        "status_label": STATUS_LABELS[session.status],
        "status_style": STATUS_STYLES[session.status],
        "return_url": merchant_return_url(session),
        "declined": _declined_message(session),
        "error": error,
    }
    return render(name, context, status)


def session_current(session_id: str) -> StripeCheckoutSession | None:
    """The session, expired first if its time ran out while nobody looked."""
    session = StripeCheckoutSession.objects.filter(pk=session_id).first()
    if session is None:
        return None
    if session.is_open and now_unix() >= session.expires_at:
        deliver(checkout_session_expire_if_due(session_id=session.id, now=now_unix()))
        session.refresh_from_db()
    return session


def deliver(event_ids: list[str]) -> None:
    # events_deliver logs and swallows receiver failures; this guards against anything else, so
    # a webhook problem can never keep the customer from getting back to the merchant.
    try:
        events_deliver(event_ids=event_ids, now=now_unix())
    except Exception:
        logger.exception("stripe sandbox events %s could not be delivered", event_ids)


def _settle_and_return(session: StripeCheckoutSession, outcome: str) -> HttpResponse:
    """Apply `outcome`, deliver its events (only if this request changed anything), redirect."""
    settle = {
        "succeed": checkout_session_pay,
        "decline": checkout_session_decline,
        "cancel": checkout_session_cancel,
    }[outcome]
    deliver(settle(session_id=session.id, now=now_unix()))
    session.refresh_from_db()
    return HttpResponseRedirect(merchant_return_url(session))


def not_found() -> HttpResponse:
    return render("not_found.html", {}, status=404)


def method_not_allowed() -> HttpResponse:
    return HttpResponse(status=405, headers={"Allow": "GET, POST"})


@csrf_exempt
def pay_page(request: HttpRequest, session_id: str) -> HttpResponse:
    """The hosted Checkout page (`session.url`): pay, simulate a decline, or cancel."""
    if request.method not in ("GET", "POST"):
        return method_not_allowed()
    session = session_current(session_id)
    if session is None:
        return not_found()
    if session.mode != StripeCheckoutSession.Mode.PAYMENT:
        return HttpResponseRedirect(reverse("sandbox_stripe:setup", args=[session.id]))
    if not session.is_open:
        # A second submission (double click, back button) changes nothing and sends nothing.
        if request.method == "POST":
            return HttpResponseRedirect(merchant_return_url(session))
        return _page("final.html", session)
    if request.method == "GET":
        return _page("pay.html", session)
    outcome = request.POST.get("outcome", "")
    if outcome == "succeed":
        return HttpResponseRedirect(reverse("sandbox_stripe:3ds", args=[session.id]))
    if outcome in ("decline", "cancel"):
        return _settle_and_return(session, outcome)
    return _page("pay.html", session, error=gettext("Choose an outcome."), status=400)


@csrf_exempt
def threeds_page(request: HttpRequest, session_id: str) -> HttpResponse:
    """The simulated issuer's 3-D Secure challenge every sandbox card payment passes through."""
    if request.method not in ("GET", "POST"):
        return method_not_allowed()
    session = session_current(session_id)
    if session is None:
        return not_found()
    if session.mode != StripeCheckoutSession.Mode.PAYMENT:
        return HttpResponseRedirect(reverse("sandbox_stripe:setup", args=[session.id]))
    if not session.is_open:
        if request.method == "POST":
            return HttpResponseRedirect(merchant_return_url(session))
        return HttpResponseRedirect(reverse("sandbox_stripe:pay", args=[session.id]))
    if request.method == "GET":
        return _page("threeds.html", session)
    outcome = request.POST.get("outcome", "")
    if outcome in ("succeed", "decline", "cancel"):
        return _settle_and_return(session, outcome)
    return _page("threeds.html", session, error=gettext("Choose an outcome."), status=400)
