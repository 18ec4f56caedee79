"""HTTP face of the PayPal simulator: OAuth, webhooks, Orders v2, payments, the hosted approval
page, the signing certificate and the test controls (fault knobs, flushing held events,
dashboard refunds).

The API speaks PayPal's formats (Basic auth for tokens, Bearer tokens after that, decimal
strings for amounts, `{"name", "message", "debug_id", "details"}` errors). The hosted page is a
third-party page to the merchant, so its form carries no CSRF token.
"""

from __future__ import annotations

import base64
import binascii
import functools
import logging
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any, Final
from urllib.parse import parse_qsl, quote

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template import Context
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext, gettext_lazy
from django.views.decorators.csrf import csrf_exempt

from sandbox.faults import Control, ControlDialect
from sandbox.hosted_pages import money_text, page_engine
from sandbox.paypal_sim import errors
from sandbox.paypal_sim.currencies import CURRENCY_EXPONENTS
from sandbox.paypal_sim.errors import OAuthError, PayPalApiError, error_response
from sandbox.paypal_sim.jsonfmt import dumps
from sandbox.paypal_sim.knobs import KNOBS
from sandbox.paypal_sim.links import Urls, urls_for
from sandbox.paypal_sim.models import PaypalAccount, PaypalCapture, PaypalOrder
from sandbox.paypal_sim.serializers import (
    BUYER_EMAIL,
    BUYER_PAYER_ID,
    capture_to_dict,
    order_to_dict,
    refund_to_dict,
    webhook_to_dict,
)
from sandbox.paypal_sim.services import (
    ApiAnswer,
    Outcome,
    account_for_token,
    capture_for_account,
    capture_refund,
    dashboard_refund,
    event_deliver,
    event_for_account,
    flush,
    order_approve,
    order_capture,
    order_create,
    order_for_account,
    plausible_id,
    refund_for_account,
    signature_verify,
    token_issue,
    webhook_create,
    webhook_for_account,
)
from sandbox.paypal_sim.signing import signing_key_get
from sandbox.paypal_sim.validation import (
    capture_request_parse,
    order_request_parse,
    parse_json_object,
    refund_request_parse,
    request_id_parse,
    resend_request_parse,
    verify_request_parse,
    webhook_request_parse,
)

logger = logging.getLogger(__name__)

# The hosted pages' templates live with the simulator, outside the project's template dirs.
TEMPLATES: Final = page_engine(Path(__file__).resolve().parent / "templates" / "sandbox_paypal")
MAX_CLIENT_ID_LENGTH: Final = 255
MAX_SECRET_LENGTH: Final = 1024
STATUS_STYLES: Final[dict[str, str]] = {
    PaypalOrder.Status.APPROVED: "ok",
    PaypalOrder.Status.COMPLETED: "ok",
    PaypalCapture.Status.DECLINED: "bad",
}
STATUS_LABELS: Final[dict[str, str | Promise]] = {
    PaypalOrder.Status.CREATED: gettext_lazy("Created"),
    PaypalOrder.Status.PAYER_ACTION_REQUIRED: gettext_lazy("Waiting for you"),
    PaypalOrder.Status.APPROVED: gettext_lazy("Approved"),
    PaypalOrder.Status.COMPLETED: gettext_lazy("Completed"),
    PaypalCapture.Status.DECLINED: gettext_lazy("Declined"),
    PaypalCapture.Status.PARTIALLY_REFUNDED: gettext_lazy("Partially refunded"),
    PaypalCapture.Status.REFUNDED: gettext_lazy("Refunded"),
}

ApiView = Callable[..., HttpResponse]


def _json(data: Any, status: int = 200) -> HttpResponse:
    return HttpResponse(dumps(data), status=status, content_type="application/json")


def _answer(answer: ApiAnswer) -> HttpResponse:
    return HttpResponse(answer.body, status=answer.status, content_type="application/json")


def _bearer_account(request: HttpRequest) -> PaypalAccount:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or not token.isascii() or not token.isprintable():
        raise errors.authentication_failure()
    account = account_for_token(token=token, now=timezone.now())
    if account is None:
        raise errors.authentication_failure()
    return account


def _api_fault(api: str) -> HttpResponse | None:
    """Apply the `api` knob: a 500 answer before anything happens, or a long wait before the
    work (None: go ahead)."""
    if KNOBS.api_fault_fails():
        return errors.internal_error_response(api=api)
    return None


def paypal_api(*methods: str, api: str = "orders/v2") -> Callable[[ApiView], ApiView]:
    """Allow `methods`, authenticate the bearer token, and render PayPalApiError as PayPal does.

    `api` names the API in the errors' information links ("orders/v2", "payments/v2", …). The
    `api` fault knob applies first.
    """

    def decorate(view: ApiView) -> ApiView:
        @csrf_exempt
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            failed = _api_fault(api)
            if failed is not None:
                return failed
            try:
                if request.method not in methods:
                    raise errors.method_not_supported()
                return view(request, _bearer_account(request), *args, **kwargs)
            except PayPalApiError as exc:
                response = error_response(exc, api=api)
                if exc.status == 405:
                    response["Allow"] = ", ".join(methods)
                return response

        return wrapper

    return decorate


def _request_id(request: HttpRequest) -> str:
    return request_id_parse(request.headers.get("PayPal-Request-Id"))


def _prefers_minimal(request: HttpRequest) -> bool:
    """`Prefer: return=minimal` asks for the short form; the sandbox defaults to the full one."""
    preferences = request.headers.get("Prefer", "").replace(" ", "").lower().split(",")
    return "return=minimal" in preferences


def _deliver(event_id: str, urls: Urls) -> None:
    try:
        event_deliver(event_id=event_id, urls=urls, now=timezone.now())
    except Exception:
        # The state change is committed either way; a webhook problem must never break the
        # API call or keep the payer from getting back to the merchant, so it is logged.
        logger.exception("paypal sandbox event %s could not be delivered", event_id)


def _finish(outcome: Outcome, urls: Urls) -> HttpResponse:
    """Deliver the outcome's event (its change is committed by now), then answer."""
    if outcome.event_id is not None:
        _deliver(outcome.event_id, urls)
    if outcome.error is not None:
        raise outcome.error
    if outcome.answer is None:
        raise AssertionError("an outcome carries an answer or an error")
    return _answer(outcome.answer)


# OAuth -----------------------------------------------------------------------------------------


def _basic_credentials(request: HttpRequest) -> tuple[str, str]:
    scheme, _, encoded = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "basic":
        raise errors.invalid_client()
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        raise errors.invalid_client() from None
    client_id, colon, secret = decoded.partition(":")
    valid = (
        colon
        and 0 < len(client_id) <= MAX_CLIENT_ID_LENGTH
        and 0 < len(secret) <= MAX_SECRET_LENGTH
        and client_id.isprintable()
        and secret.isprintable()
    )
    if not valid:
        raise errors.invalid_client()
    return client_id, secret


def _grant_type(request: HttpRequest) -> str:
    content_type = request.content_type or ""
    if content_type != "application/x-www-form-urlencoded":
        return ""
    try:
        fields = parse_qsl(request.body.decode("utf-8"), keep_blank_values=True)
    except (UnicodeDecodeError, ValueError):
        return ""
    return dict(fields).get("grant_type", "")


@csrf_exempt
def token_api(request: HttpRequest) -> HttpResponse:
    """POST /v1/oauth2/token: client credentials in, bearer token out."""
    failed = _api_fault("identity/v1")
    if failed is not None:
        return failed
    try:
        if request.method != "POST":
            raise OAuthError(405, "invalid_request", "Only POST is supported")
        client_id, secret = _basic_credentials(request)
        grant_type = _grant_type(request)
        if not grant_type:
            raise OAuthError(400, "unsupported_grant_type", "Grant Type is NULL")
        if grant_type != "client_credentials":
            raise OAuthError(400, "unsupported_grant_type", "Grant Type is not supported")
        issued = token_issue(client_id=client_id, secret=secret, now=timezone.now())
        if issued is None:
            raise errors.invalid_client()
    except OAuthError as exc:
        response = errors.oauth_error_response(exc)
        if exc.status == 405:
            response["Allow"] = "POST"
        return response
    response = _json(
        {
            "scope": issued.scope,
            "access_token": issued.access_token,
            "token_type": "Bearer",
            "app_id": issued.app_id,
            "expires_in": issued.expires_in,
            "nonce": issued.nonce,
        }
    )
    response["Cache-Control"] = "no-store"
    return response


# Webhooks --------------------------------------------------------------------------------------


@paypal_api("GET", "POST", api="webhooks/v1")
def webhooks_api(request: HttpRequest, account: PaypalAccount) -> HttpResponse:
    """POST registers a webhook; GET lists the account's webhooks."""
    urls = urls_for(request)
    if request.method == "POST":
        parsed = webhook_request_parse(request.body)
        webhook = webhook_create(account=account, url=parsed.url, event_types=parsed.event_types)
        return _json(webhook_to_dict(webhook, urls), status=201)
    webhooks = account.webhooks.all()
    return _json({"webhooks": [webhook_to_dict(webhook, urls) for webhook in webhooks]})


@paypal_api("GET", "DELETE", api="webhooks/v1")
def webhook_api(request: HttpRequest, account: PaypalAccount, webhook_id: str) -> HttpResponse:
    """GET shows a webhook; DELETE removes it (204)."""
    webhook = webhook_for_account(account=account, webhook_id=webhook_id)
    if webhook is None:
        raise errors.not_found("Webhook not found.")
    if request.method == "DELETE":
        webhook.delete()
        return HttpResponse(status=204)
    return _json(webhook_to_dict(webhook, urls_for(request)))


@paypal_api("GET", api="webhooks/v1")
def event_api(request: HttpRequest, account: PaypalAccount, event_id: str) -> HttpResponse:
    """GET /v1/notifications/webhooks-events/{id}: the event exactly as it was sent."""
    event = event_for_account(account=account, event_id=event_id)
    if event is None:
        raise errors.not_found("Webhook event not found.")
    return HttpResponse(event.body, content_type="application/json")


@paypal_api("POST", api="webhooks/v1")
def event_resend_api(request: HttpRequest, account: PaypalAccount, event_id: str) -> HttpResponse:
    """POST .../webhooks-events/{id}/resend: deliver the same event again (202)."""
    event = event_for_account(account=account, event_id=event_id)
    if event is None:
        raise errors.not_found("Webhook event not found.")
    webhook_ids = resend_request_parse(request.body)
    plausible = [webhook_id for webhook_id in webhook_ids if plausible_id(webhook_id)]
    known = set(account.webhooks.filter(pk__in=plausible).values_list("pk", flat=True))
    unknown = [webhook_id for webhook_id in webhook_ids if webhook_id not in known]
    if unknown:
        raise errors.invalid_request(
            errors.INVALID_PARAMETER_VALUE,
            f"Unknown webhook id {unknown[0]}.",
            field="/webhook_ids",
        )
    try:
        event_deliver(
            event_id=event.id, urls=urls_for(request), now=timezone.now(), webhook_ids=webhook_ids
        )
    except Exception:
        logger.exception("paypal sandbox event %s could not be resent", event.id)
    return HttpResponse(event.body, status=202, content_type="application/json")


@paypal_api("POST", api="webhooks/v1")
def verify_signature_api(request: HttpRequest, account: PaypalAccount) -> HttpResponse:
    """POST /v1/notifications/verify-webhook-signature: SUCCESS or FAILURE, never an error for a
    well-formed request."""
    parsed = verify_request_parse(request.body)
    verified = signature_verify(account=account, request=parsed)
    return _json({"verification_status": "SUCCESS" if verified else "FAILURE"})


# Orders ----------------------------------------------------------------------------------------


def _order(account: PaypalAccount, order_id: str) -> PaypalOrder:
    order = order_for_account(account=account, order_id=order_id)
    if order is None:
        raise errors.not_found()
    return order


@paypal_api("POST")
def orders_api(request: HttpRequest, account: PaypalAccount) -> HttpResponse:
    """POST /v2/checkout/orders: create an order (or replay one by PayPal-Request-Id)."""
    request_id = _request_id(request)
    parsed = order_request_parse(request.body)
    answer = order_create(
        account=account,
        request=parsed,
        request_id=request_id,
        urls=urls_for(request),
        minimal=_prefers_minimal(request),
        now=timezone.now(),
    )
    return _answer(answer)


@paypal_api("GET")
def order_api(request: HttpRequest, account: PaypalAccount, order_id: str) -> HttpResponse:
    """GET /v2/checkout/orders/{id}."""
    return _json(order_to_dict(_order(account, order_id), urls_for(request)))


@paypal_api("POST")
def order_capture_api(request: HttpRequest, account: PaypalAccount, order_id: str) -> HttpResponse:
    """POST /v2/checkout/orders/{id}/capture."""
    request_id = _request_id(request)
    capture_request_parse(request.body)
    urls = urls_for(request)
    outcome = order_capture(
        account=account,
        order_id=order_id,
        request_id=request_id,
        urls=urls,
        minimal=_prefers_minimal(request),
        now=timezone.now(),
    )
    return _finish(outcome, urls)


# Payments --------------------------------------------------------------------------------------


@paypal_api("GET", api="payments/v2")
def capture_api(request: HttpRequest, account: PaypalAccount, capture_id: str) -> HttpResponse:
    """GET /v2/payments/captures/{id}."""
    capture = capture_for_account(account=account, capture_id=capture_id)
    if capture is None:
        raise errors.not_found()
    return _json(capture_to_dict(capture, urls_for(request)))


@paypal_api("POST", api="payments/v2")
def capture_refund_api(
    request: HttpRequest, account: PaypalAccount, capture_id: str
) -> HttpResponse:
    """POST /v2/payments/captures/{id}/refund: the rest of the capture, or `amount` of it."""
    request_id = _request_id(request)
    parsed = refund_request_parse(request.body)
    urls = urls_for(request)
    outcome = capture_refund(
        account=account,
        capture_id=capture_id,
        request=parsed,
        request_id=request_id,
        urls=urls,
        minimal=_prefers_minimal(request),
        now=timezone.now(),
    )
    return _finish(outcome, urls)


@paypal_api("GET", api="payments/v2")
def refund_api(request: HttpRequest, account: PaypalAccount, refund_id: str) -> HttpResponse:
    """GET /v2/payments/refunds/{id}."""
    refund = refund_for_account(account=account, refund_id=refund_id)
    if refund is None:
        raise errors.not_found()
    return _json(refund_to_dict(refund, urls_for(request)))


# Certificate and knobs -------------------------------------------------------------------------


def certificate_view(request: HttpRequest, cert_id: str) -> HttpResponse:
    """GET /certs/{cert_id}.pem: the certificate whose key signs the webhooks (PAYPAL-CERT-URL)."""
    if request.method not in ("GET", "HEAD"):
        return HttpResponse(status=405, headers={"Allow": "GET, HEAD"})
    row = signing_key_get()
    if cert_id != row.cert_id:
        return HttpResponse("Not found\n", status=404, content_type="text/plain")
    return HttpResponse(row.certificate_pem, content_type="application/x-pem-file")


def _dashboard_refund(request: HttpRequest, payment: str, amount: Decimal | None) -> dict[str, Any]:
    return dashboard_refund(payment, amount, urls=urls_for(request))


control: Final = Control(
    knobs=KNOBS,
    dialect=ControlDialect(
        error=PayPalApiError,
        error_response=functools.partial(error_response, api="sandbox"),
        invalid=lambda message, _field: errors.invalid_request(
            errors.INVALID_PARAMETER_VALUE, message
        ),
        method_not_allowed=errors.method_not_supported,
        parse_object=parse_json_object,
        respond=_json,
    ),
    flush=flush,
    dashboard_refund=_dashboard_refund,
)


# Hosted approval page --------------------------------------------------------------------------


def _with_query(url: str, params: list[tuple[str, str]]) -> str:
    """`url` with `params` appended; the merchant's own query string and fragment are kept."""
    base, _, fragment = url.partition("#")
    if "?" not in base:
        separator = "?"
    elif base.endswith(("?", "&")):
        separator = ""
    else:
        separator = "&"
    query = "&".join(f"{name}={quote(value, safe='')}" for name, value in params)
    result = f"{base}{separator}{query}"
    return f"{result}#{fragment}" if fragment else result


def return_url(order: PaypalOrder) -> str:
    """Where an approving payer goes: return_url + token=<order id>&PayerID=<payer id>."""
    payer_id = order.payer_id or BUYER_PAYER_ID
    return _with_query(order.return_url, [("token", order.id), ("PayerID", payer_id)])


def cancel_url(order: PaypalOrder) -> str:
    return _with_query(order.cancel_url, [("token", order.id)])


def _render(name: str, context: dict[str, Any], status: int = 200) -> HttpResponse:
    html = TEMPLATES.get_template(name).render(Context(context))
    return HttpResponse(html, status=status)


def _page(name: str, order: PaypalOrder, *, error: str = "", status: int = 200) -> HttpResponse:
    capture = PaypalCapture.objects.filter(order=order).first()
    shown_status = capture.status if capture is not None else order.status
    context = {
        "order": order,
        "amount": money_text(order.amount, order.currency, CURRENCY_EXPONENTS[order.currency]),
        # experience_context.brand_name: the name PayPal shows instead of the account's own.
        "merchant": order.brand_name
        or gettext("Sandbox merchant %(id)s") % {"id": order.account.merchant_id},
        "buyer_email": BUYER_EMAIL,
        "pay_label": gettext("Pay Now") if order.user_action == "PAY_NOW" else gettext("Continue"),
        "shown_status": shown_status,
        "status_label": STATUS_LABELS.get(shown_status, shown_status),
        "status_style": STATUS_STYLES.get(shown_status, "muted"),
        "return_url": return_url(order),
        "error": error,
    }
    return _render(name, context, status)


def _hosted_order(order_id: str) -> PaypalOrder | None:
    if not plausible_id(order_id):
        return None
    return PaypalOrder.objects.select_related("account").filter(pk=order_id).first()


@csrf_exempt
def checkout_page(request: HttpRequest, order_id: str) -> HttpResponse:
    """The hosted approval page (`payer-action` / `approve` link): succeed, decline or cancel."""
    order = _hosted_order(order_id)
    if order is None:
        return _render("not_found.html", {}, status=404)
    if request.method not in ("GET", "POST"):
        return HttpResponse(status=405, headers={"Allow": "GET, POST"})
    if not order.awaits_payer:
        # A second submission (double click, back button) changes nothing and sends nothing.
        if request.method == "POST":
            return HttpResponseRedirect(return_url(order))
        return _page("final.html", order)
    if request.method == "GET":
        return _page("checkout.html", order)
    return _checkout_submit(request, order)


def _checkout_submit(request: HttpRequest, order: PaypalOrder) -> HttpResponse:
    outcome = request.POST.get("outcome", "")
    if outcome == "cancel":
        if order.cancel_url:
            return HttpResponseRedirect(cancel_url(order))
        return _render("cancelled.html", {"order": order})
    if outcome not in ("succeed", "decline"):
        return _page("checkout.html", order, error=gettext("Choose an outcome."), status=400)
    urls = urls_for(request)
    event_id = order_approve(
        order_id=order.id, decline=outcome == "decline", urls=urls, now=timezone.now()
    )
    if event_id is not None:
        _deliver(event_id, urls)
    order.refresh_from_db()
    return HttpResponseRedirect(return_url(order))
