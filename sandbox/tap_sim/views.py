"""HTTP face of the Tap simulator: the v2 charges and refunds API, the hosted payment page, and
the test controls (fault knobs, flushing held webhooks, dashboard refunds).

The API speaks Tap's formats (Bearer secret key, JSON numbers for amounts, `{"errors": […]}`).
The hosted page is a third-party page to the merchant, so its forms carry no CSRF token.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final
from urllib.parse import quote

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template import Context
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext, gettext_lazy
from django.views.decorators.csrf import csrf_exempt

from sandbox.faults import Control, ControlDialect
from sandbox.hosted_pages import money_text, page_engine
from sandbox.tap_sim import errors
from sandbox.tap_sim.currencies import currency_exponent
from sandbox.tap_sim.errors import TapApiError, error_response
from sandbox.tap_sim.jsonfmt import dumps
from sandbox.tap_sim.keys import key_is_acceptable
from sandbox.tap_sim.knobs import KNOBS
from sandbox.tap_sim.models import TapCharge
from sandbox.tap_sim.serializers import charge_to_dict, refund_to_dict
from sandbox.tap_sim.services import (
    charge_create,
    charge_get_for_key,
    charge_settle,
    dashboard_refund,
    flush,
    now_ms,
    refund_create,
    refund_get_for_key,
    refund_webhook_deliver,
    stcpay_status_for_otp,
    webhook_deliver,
)
from sandbox.tap_sim.validation import (
    charge_request_parse,
    otp_request_parse,
    otp_validate,
    parse_json_object,
    refund_request_parse,
)

logger = logging.getLogger(__name__)

# The hosted pages' templates live with the simulator, outside the project's template dirs.
TEMPLATES: Final = page_engine(Path(__file__).resolve().parent / "templates" / "sandbox_tap")
TEST_PHONE: Final = "+966 557877988"
STATUS_STYLES: Final[dict[str, str]] = {
    TapCharge.Status.CAPTURED: "ok",
    TapCharge.Status.DECLINED: "bad",
    TapCharge.Status.CANCELLED: "muted",
}
STATUS_LABELS: Final[dict[str, str | Promise]] = {
    TapCharge.Status.CAPTURED: gettext_lazy("Captured"),
    TapCharge.Status.DECLINED: gettext_lazy("Declined"),
    TapCharge.Status.CANCELLED: gettext_lazy("Cancelled"),
}
# What the page calls each source (brand names stay as the brands write them).
SOURCE_LABELS: Final[dict[str, str | Promise]] = {
    TapCharge.Source.ALL: gettext_lazy("All methods"),
    TapCharge.Source.CARD: gettext_lazy("Card"),
    TapCharge.Source.MADA: gettext_lazy("mada"),
    TapCharge.Source.STC_PAY: "STC Pay",
}

ApiView = Callable[..., HttpResponse]


def _json(data: Any, status: int = 200) -> HttpResponse:
    return HttpResponse(dumps(data), status=status, content_type="application/json")


def _secret_key(request: HttpRequest) -> str:
    scheme, _, key = request.headers.get("Authorization", "").partition(" ")
    key = key.strip()
    if scheme.lower() != "bearer" or not key_is_acceptable(key):
        raise TapApiError(401, errors.UNAUTHORIZED, "Unauthorized")
    return key


def tap_api(*methods: str) -> Callable[[ApiView], ApiView]:
    """Allow `methods`, authenticate the secret key, and turn TapApiError into Tap's error body.

    The `api` fault knob applies first, to every call of the `/v2/…` API.
    """

    def decorate(view: ApiView) -> ApiView:
        @csrf_exempt
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            try:
                if KNOBS.api_fault_fails():
                    raise TapApiError(500, errors.INTERNAL_ERROR, "Internal server error")
                if request.method not in methods:
                    raise errors.method_not_allowed()
                return view(request, _secret_key(request), *args, **kwargs)
            except TapApiError as exc:
                response = error_response(exc)
                if exc.status == 405:
                    response["Allow"] = ", ".join(methods)
                return response

        return wrapper

    return decorate


def _pay_url_builder(request: HttpRequest) -> Callable[[str], str]:
    return lambda charge_id: request.build_absolute_uri(
        reverse("sandbox_tap:pay", args=[charge_id])
    )


def _charge_for_key(charge_id: str, secret_key: str) -> TapCharge:
    charge = charge_get_for_key(charge_id=charge_id, secret_key=secret_key)
    if charge is None:
        raise TapApiError(404, errors.NOT_FOUND, "Charge not found")
    return charge


def _deliver_webhook(charge_id: str) -> None:
    try:
        webhook_deliver(charge_id=charge_id)
    except Exception:
        # The charge is settled and committed either way; a webhook problem must never keep the
        # customer from getting back to the merchant, so it is logged, not raised.
        logger.exception("tap sandbox webhook for %s could not be delivered", charge_id)


def _deliver_refund_webhook(refund_id: str) -> None:
    try:
        refund_webhook_deliver(refund_id=refund_id)
    except Exception:
        # The refund is committed either way; the API still answers with it.
        logger.exception("tap sandbox webhook for %s could not be delivered", refund_id)


@tap_api("POST")
def charges_api(request: HttpRequest, secret_key: str) -> HttpResponse:
    """POST /v2/charges: create a charge (or replay an idempotent one)."""
    charge_request = charge_request_parse(request.body)
    charge = charge_create(
        request=charge_request,
        secret_key=secret_key,
        pay_url_for=_pay_url_builder(request),
        created_ms=now_ms(),
    )
    return _json(charge_to_dict(charge))


@tap_api("GET", "PUT")
def charge_api(request: HttpRequest, secret_key: str, charge_id: str) -> HttpResponse:
    """GET /v2/charges/{id} retrieves; PUT submits an STC Pay OTP."""
    charge = _charge_for_key(charge_id, secret_key)
    if request.method == "PUT":
        charge = _charge_submit_otp(charge, otp_request_parse(request.body))
    return _json(charge_to_dict(charge))


def _charge_submit_otp(charge: TapCharge, otp: str) -> TapCharge:
    if charge.source_id != TapCharge.Source.STC_PAY:
        raise errors.bad_request(errors.INVALID_STATE, "Only STC Pay charges take an OTP")
    settled = charge_settle(
        charge_id=charge.id,
        status=stcpay_status_for_otp(otp),
        card_entered=False,
        redirected=False,
    )
    if not settled:
        raise errors.bad_request(errors.INVALID_STATE, "The charge is not awaiting an OTP")
    _deliver_webhook(charge.id)
    charge.refresh_from_db()
    return charge


@tap_api("POST")
def refunds_api(request: HttpRequest, secret_key: str) -> HttpResponse:
    """POST /v2/refunds: refund a captured charge (or replay one by `reference.merchant`)."""
    refund_request = refund_request_parse(request.body)
    refund, created = refund_create(
        request=refund_request, secret_key=secret_key, created_ms=now_ms()
    )
    if created:
        _deliver_refund_webhook(refund.id)
        refund.refresh_from_db()
    return _json(refund_to_dict(refund))


@tap_api("GET")
def refund_api(request: HttpRequest, secret_key: str, refund_id: str) -> HttpResponse:
    """GET /v2/refunds/{id}."""
    refund = refund_get_for_key(refund_id=refund_id, secret_key=secret_key)
    if refund is None:
        raise TapApiError(404, errors.NOT_FOUND, "Refund not found")
    return _json(refund_to_dict(refund))


# Test controls ----------------------------------------------------------------------------------


control: Final = Control(
    knobs=KNOBS,
    dialect=ControlDialect(
        error=TapApiError,
        error_response=error_response,
        invalid=lambda message, _field: errors.bad_request(errors.INVALID_FIELD, message),
        method_not_allowed=errors.method_not_allowed,
        parse_object=parse_json_object,
        respond=_json,
    ),
    flush=flush,
    dashboard_refund=lambda _request, payment, amount: dashboard_refund(payment, amount),
)


# Hosted pages -----------------------------------------------------------------------------------


def return_url(charge: TapCharge) -> str:
    """`redirect.url` with `tap_id` appended; the merchant's own query string is kept verbatim."""
    base, _, fragment = charge.redirect_url.partition("#")
    if "?" not in base:
        separator = "?"
    elif base.endswith(("?", "&")):
        separator = ""
    else:
        separator = "&"
    url = f"{base}{separator}tap_id={quote(charge.id)}"
    return f"{url}#{fragment}" if fragment else url


def _phone(charge: TapCharge) -> str:
    phone = charge.source_phone or charge.customer.get("phone")
    if isinstance(phone, dict) and phone.get("number"):
        return f"+{phone.get('country_code', '')} {phone['number']}".strip()
    return TEST_PHONE


def _merchant_name(charge: TapCharge) -> str:
    """Whom the shopper pays. Tap names the account's business; the sandbox has no business
    profile, so it shows the store's name a platform sends in `metadata.store_name`, else the
    sub-merchant id, else a placeholder."""
    store_name = charge.metadata.get("store_name") if isinstance(charge.metadata, dict) else None
    if isinstance(store_name, str) and store_name.strip():
        return store_name.strip()
    merchant_id = charge.merchant.get("id")
    if isinstance(merchant_id, str) and merchant_id:
        return gettext("Merchant %(id)s") % {"id": merchant_id}
    return gettext("Test merchant")


def _render(name: str, context: dict[str, Any], status: int = 200) -> HttpResponse:
    html = TEMPLATES.get_template(name).render(Context(context))
    return HttpResponse(html, status=status)


def _page(name: str, charge: TapCharge, *, error: str = "", status: int = 200) -> HttpResponse:
    context = {
        "charge": charge,
        "amount": money_text(charge.amount, charge.currency, currency_exponent(charge.currency)),
        "method": SOURCE_LABELS.get(charge.source_id, charge.get_source_id_display()),
        "status_label": STATUS_LABELS.get(charge.status, charge.status),
        "merchant": _merchant_name(charge),
        "phone": _phone(charge),
        "test_phone": TEST_PHONE,
        "is_stcpay": charge.source_id == TapCharge.Source.STC_PAY,
        "status_style": STATUS_STYLES.get(charge.status, "muted"),
        "return_url": return_url(charge),
        "error": error,
    }
    return _render(name, context, status)


def _hosted_charge(charge_id: str) -> TapCharge | None:
    return TapCharge.objects.filter(pk=charge_id).first()


def _not_found() -> HttpResponse:
    return _render("not_found.html", {}, status=404)


def _settle_and_return(charge: TapCharge, status: TapCharge.Status, *, card: bool) -> HttpResponse:
    """Settle, then webhook (only if this request settled it), then back to the merchant."""
    if charge_settle(charge_id=charge.id, status=status, card_entered=card, redirected=True):
        _deliver_webhook(charge.id)
    return HttpResponseRedirect(return_url(charge))


@csrf_exempt
def pay_page(request: HttpRequest, charge_id: str) -> HttpResponse:
    """The hosted payment page (`transaction.url`): choose succeed, decline or cancel."""
    charge = _hosted_charge(charge_id)
    if charge is None:
        return _not_found()
    if request.method not in ("GET", "POST"):
        return HttpResponse(status=405, headers={"Allow": "GET, POST"})
    if charge.is_final:
        # A second submission (double click, back button) changes nothing and sends nothing.
        if request.method == "POST":
            return HttpResponseRedirect(return_url(charge))
        return _page("final.html", charge)
    if request.method == "GET":
        return _page("pay.html", charge)
    return _pay_submit(request, charge)


def _pay_submit(request: HttpRequest, charge: TapCharge) -> HttpResponse:
    outcome = request.POST.get("outcome", "")
    if outcome == "cancel":
        return _settle_and_return(charge, TapCharge.Status.CANCELLED, card=False)
    if outcome == "decline":
        return _settle_and_return(charge, TapCharge.Status.DECLINED, card=charge.is_card)
    if outcome != "succeed":
        return _page("pay.html", charge, error=gettext("Choose an outcome."), status=400)
    if charge.is_card:
        return HttpResponseRedirect(reverse("sandbox_tap:3ds", args=[charge.id]))
    if charge.source_id == TapCharge.Source.STC_PAY:
        try:
            otp = otp_validate(request.POST.get("otp", "").strip())
        except ValueError:
            message = gettext("The one-time password must be 4 to 8 digits.")
            return _page("pay.html", charge, error=message, status=400)
        return _settle_and_return(charge, stcpay_status_for_otp(otp), card=False)
    return _settle_and_return(charge, TapCharge.Status.CAPTURED, card=False)


THREEDS_OUTCOMES: Final = {
    "succeed": TapCharge.Status.CAPTURED,
    "decline": TapCharge.Status.DECLINED,
    "cancel": TapCharge.Status.CANCELLED,
}


@csrf_exempt
def threeds_page(request: HttpRequest, charge_id: str) -> HttpResponse:
    """The simulated issuer's 3-D Secure challenge that card payments pass through."""
    charge = _hosted_charge(charge_id)
    if charge is None:
        return _not_found()
    if request.method not in ("GET", "POST"):
        return HttpResponse(status=405, headers={"Allow": "GET, POST"})
    if charge.is_final and request.method == "POST":
        return HttpResponseRedirect(return_url(charge))
    if charge.is_final or not charge.is_card:
        return HttpResponseRedirect(reverse("sandbox_tap:pay", args=[charge.id]))
    if request.method == "GET":
        return _page("threeds.html", charge)
    status = THREEDS_OUTCOMES.get(request.POST.get("outcome", ""))
    if status is None:
        return _page("threeds.html", charge, error=gettext("Choose an outcome."), status=400)
    return _settle_and_return(charge, status, card=True)
