"""The hosted pages of the billing flows: save a card (Checkout in `setup` mode), its 3-D Secure
step, and the 3-D Secure page an API PaymentIntent's `next_action` points at.

Like `pages.py`: no CSRF token and no API key (the id in the address is the only credential, as
on Stripe), one `<form method="post">` per page whose buttons are named `outcome`, and a second
submission changes nothing. On the setup page the `outcome` of a card button is its number.
"""

from __future__ import annotations

from typing import Any, Final
from urllib.parse import urlencode, urlsplit, urlunsplit

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext
from django.views.decorators.csrf import csrf_exempt

from sandbox.stripe_sim.intents import payment_intent_authenticate
from sandbox.stripe_sim.models import StripeCheckoutSession, StripePaymentIntent, StripeSetupIntent
from sandbox.stripe_sim.pages import (
    deliver,
    merchant_return_url,
    merchant_shown,
    method_not_allowed,
    money_shown,
    not_found,
    render,
    session_current,
)
from sandbox.stripe_sim.serializers import DEFAULT_CUSTOMER_EMAIL
from sandbox.stripe_sim.services import checkout_session_cancel, now_unix
from sandbox.stripe_sim.setup import Outcome, setup_session_authenticate, setup_session_save
from sandbox.stripe_sim.testcards import BY_NUMBER, CARDS, card_named

THREEDS_OUTCOMES: Final = ("succeed", "decline", "cancel")


# Checkout in setup mode ------------------------------------------------------------------------


def _grouped(number: str) -> str:
    return " ".join(number[index : index + 4] for index in range(0, len(number), 4))


def _setup_intent(session: StripeCheckoutSession) -> StripeSetupIntent:
    intent = session.setup_intent
    if intent is None:  # a setup-mode session is always created with one (setup.py)
        raise LookupError(f"setup session {session.id} has no SetupIntent")
    return intent


def _setup_context(session: StripeCheckoutSession, error: str) -> dict[str, Any]:
    intent = _setup_intent(session)
    customer = session.customer
    declined = ""
    if session.is_open and intent.last_setup_error:
        declined = str(intent.last_setup_error.get("message", ""))
    method = intent.payment_method
    return {
        "session": session,
        "email": (customer.email if customer else "")
        or session.customer_email
        or DEFAULT_CUSTOMER_EMAIL,
        "cards": [
            {"number": card.number, "grouped": _grouped(card.number), "label": card.label}
            for card in CARDS
        ],
        "card": card_named(method.test_card) if method is not None else None,
        "declined": declined,
        "error": error,
        "return_url": merchant_return_url(session),
        "merchant": merchant_shown(),
    }


def _setup_render(
    name: str, session: StripeCheckoutSession, *, error: str = "", status: int = 200
) -> HttpResponse:
    return render(name, _setup_context(session, error), status)


def _setup_session(session_id: str) -> StripeCheckoutSession | None:
    session = session_current(session_id)
    if session is None or session.mode != StripeCheckoutSession.Mode.SETUP:
        return None
    return session


def _after(session: StripeCheckoutSession, outcome: Outcome) -> HttpResponse:
    """Where the customer goes once their choice is applied."""
    if outcome == Outcome.AUTHENTICATE:
        return HttpResponseRedirect(reverse("sandbox_stripe:setup-3ds", args=[session.id]))
    if outcome in (Outcome.DECLINED, Outcome.UNCHANGED):
        # Back to the card choice, which shows why the last attempt failed.
        return HttpResponseRedirect(reverse("sandbox_stripe:setup", args=[session.id]))
    session.refresh_from_db()
    return HttpResponseRedirect(merchant_return_url(session))


def _cancel(session: StripeCheckoutSession) -> HttpResponse:
    deliver(checkout_session_cancel(session_id=session.id, now=now_unix()))
    session.refresh_from_db()
    return HttpResponseRedirect(merchant_return_url(session))


@csrf_exempt
def setup_page(request: HttpRequest, session_id: str) -> HttpResponse:
    """The hosted page of a setup-mode session (`session.url`): save a test card, or cancel."""
    if request.method not in ("GET", "POST"):
        return method_not_allowed()
    session = _setup_session(session_id)
    if session is None:
        return not_found()
    if not session.is_open:
        if request.method == "POST":
            return HttpResponseRedirect(merchant_return_url(session))
        return _setup_render("setup_final.html", session)
    if request.method == "GET":
        return _setup_render("setup.html", session)
    outcome = request.POST.get("outcome", "")
    if outcome == "cancel":
        return _cancel(session)
    card = BY_NUMBER.get(outcome)
    if card is None:
        return _setup_render("setup.html", session, error=gettext("Choose a card."), status=400)
    result, events = setup_session_save(session_id=session.id, card=card, now=now_unix())
    deliver(events)
    return _after(session, result)


@csrf_exempt
def setup_threeds_page(request: HttpRequest, session_id: str) -> HttpResponse:
    """The issuer's 3-D Secure challenge for a card that must authenticate to be saved."""
    if request.method not in ("GET", "POST"):
        return method_not_allowed()
    session = _setup_session(session_id)
    if session is None:
        return not_found()
    if not session.is_open:
        if request.method == "POST":
            return HttpResponseRedirect(merchant_return_url(session))
        return HttpResponseRedirect(reverse("sandbox_stripe:setup", args=[session.id]))
    if _setup_intent(session).status != StripeSetupIntent.Status.REQUIRES_ACTION:
        return HttpResponseRedirect(reverse("sandbox_stripe:setup", args=[session.id]))
    if request.method == "GET":
        return _setup_render("setup_threeds.html", session)
    outcome = request.POST.get("outcome", "")
    if outcome == "cancel":
        return _cancel(session)
    if outcome not in THREEDS_OUTCOMES:
        return _setup_render(
            "setup_threeds.html", session, error=gettext("Choose an outcome."), status=400
        )
    result, events = setup_session_authenticate(
        session_id=session.id, passed=outcome == "succeed", now=now_unix()
    )
    deliver(events)
    return _after(session, result)


# 3-D Secure for an API PaymentIntent -----------------------------------------------------------


def _with_query(url: str, params: dict[str, str]) -> str:
    parts = urlsplit(url)
    query = f"{parts.query}&{urlencode(params)}" if parts.query else urlencode(params)
    return urlunsplit(parts._replace(query=query))


def intent_return_url(intent: StripePaymentIntent) -> str:
    """`return_url` with what Stripe appends when it sends the customer back."""
    succeeded = intent.status == StripePaymentIntent.Status.SUCCEEDED
    return _with_query(
        intent.return_url,
        {
            "payment_intent": intent.id,
            "payment_intent_client_secret": intent.client_secret,
            "redirect_status": "succeeded" if succeeded else "failed",
        },
    )


def _intent_render(
    name: str, intent: StripePaymentIntent, *, error: str = "", status: int = 200
) -> HttpResponse:
    method = intent.payment_method
    context = {
        "intent": intent,
        "amount": money_shown(intent.amount, intent.currency),
        "merchant": merchant_shown(intent.description),
        "card": card_named(method.test_card) if method is not None else None,
        "succeeded": intent.status == StripePaymentIntent.Status.SUCCEEDED,
        "return_url": intent_return_url(intent) if intent.return_url else "",
        "error": error,
    }
    return render(name, context, status)


def _intent_finished(intent: StripePaymentIntent) -> HttpResponse:
    if intent.return_url:
        return HttpResponseRedirect(intent_return_url(intent))
    # No return_url (the `use_stripe_sdk` flow): Stripe.js would close its frame here.
    return _intent_render("authenticate_done.html", intent)


@csrf_exempt
def authenticate_page(request: HttpRequest, intent_id: str) -> HttpResponse:
    """The page `next_action` opens: the customer passes or fails 3-D Secure for the intent."""
    if request.method not in ("GET", "POST"):
        return method_not_allowed()
    intent = StripePaymentIntent.objects.filter(pk=intent_id).first()
    if intent is None:
        return not_found()
    if intent.status != StripePaymentIntent.Status.REQUIRES_ACTION:
        if request.method == "POST":
            return _intent_finished(intent)
        return _intent_render("authenticate_done.html", intent)
    if request.method == "GET":
        return _intent_render("authenticate.html", intent)
    outcome = request.POST.get("outcome", "")
    if outcome not in ("succeed", "decline"):
        return _intent_render(
            "authenticate.html", intent, error=gettext("Choose an outcome."), status=400
        )
    result = payment_intent_authenticate(
        intent_id=intent.id, passed=outcome == "succeed", now=now_unix()
    )
    if result is None:
        return not_found()
    deliver(result.events)
    return _intent_finished(result.intent)
