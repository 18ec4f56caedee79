"""HTTP face of the Stripe simulator's v1 API and its test controls (fault knobs, flushing held
events, dashboard refunds).

It speaks Stripe's wire format: `Authorization: Bearer sk_test_…`, form-encoded bodies with
bracketed keys, pretty-printed JSON objects, `{"error": {…}}` errors, `Idempotency-Key` replays,
and `expand[]`. The billing endpoints (Customers, PaymentMethods, API PaymentIntents) are in
`billing_views.py`; the hosted pages in `pages.py` and `billing_pages.py`.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt

from sandbox.faults import Control, ControlDialect
from sandbox.stripe_sim import errors, selectors
from sandbox.stripe_sim.billing_validation import is_setup_mode, setup_session_request_parse
from sandbox.stripe_sim.errors import StripeApiError, error_response
from sandbox.stripe_sim.expand import expand_apply, expand_paths_parse
from sandbox.stripe_sim.formdata import form_parse
from sandbox.stripe_sim.idempotency import (
    idempotency_begin,
    idempotency_key_check,
    idempotency_release,
    idempotency_store,
    params_digest,
)
from sandbox.stripe_sim.keys import key_is_acceptable
from sandbox.stripe_sim.knobs import KNOBS
from sandbox.stripe_sim.models import StripeAccount
from sandbox.stripe_sim.preconfigured import preconfigured_apply
from sandbox.stripe_sim.serializers import (
    API_VERSION,
    charge_to_dict,
    checkout_session_to_dict,
    event_to_dict,
    line_items_to_list,
    list_object,
    payment_intent_to_dict,
    refund_to_dict,
    webhook_endpoint_to_dict,
)
from sandbox.stripe_sim.services import (
    RequestRef,
    account_for_key,
    checkout_session_create,
    checkout_session_expire,
    checkout_session_expire_if_due,
    dashboard_refund,
    flush,
    new_id,
    now_unix,
    refund_create,
    webhook_endpoint_create,
    webhook_endpoint_delete,
    webhook_endpoint_update,
)
from sandbox.stripe_sim.setup import setup_session_create
from sandbox.stripe_sim.validation import (
    checkout_session_request_parse,
    refund_request_parse,
    reject_unknown,
    webhook_endpoint_create_parse,
    webhook_endpoint_update_parse,
)
from sandbox.stripe_sim.webhooks import events_deliver

logger = logging.getLogger(__name__)

FORM_CONTENT_TYPE: Final = "application/x-www-form-urlencoded"
MAX_LIST_LIMIT: Final = 100
DEFAULT_LIST_LIMIT: Final = 10
NO_KEY_MESSAGE: Final = (
    "You did not provide an API key. You need to provide your API key in the Authorization "
    "header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See "
    "https://stripe.com/docs/api#authentication for details, or we can help at "
    "https://support.stripe.com/."
)


@dataclass(frozen=True)
class ApiCall:
    """One authenticated API request, parsed."""

    request: HttpRequest
    account: StripeAccount
    params: dict[str, Any]
    ref: RequestRef
    now: int


@dataclass(frozen=True)
class ApiResult:
    """A handler's answer: the object to send and the events to deliver once it is sent.

    A card decline is an answer too (status 402, an error body): the attempt happened and
    changed state, so, unlike a refused request, it is kept for `Idempotency-Key` replays.
    """

    body: dict[str, Any]
    events: list[str] = field(default_factory=list)
    status: int = 200


Handler = Callable[..., ApiResult]


# Request plumbing ------------------------------------------------------------------------------


def _redacted(key: str) -> str:
    prefix, _, rest = key.rpartition("_")
    shown = rest[-4:] if len(rest) > 8 else ""
    return f"{prefix}_{'*' * (len(rest) - len(shown))}{shown}" if prefix else "*" * len(key)


def _api_key(request: HttpRequest) -> str:
    header = request.headers.get("Authorization", "").strip()
    if not header:
        raise StripeApiError(401, NO_KEY_MESSAGE)
    scheme, _, credentials = header.partition(" ")
    key = credentials.strip()
    if scheme.lower() == "basic":
        # `curl -u sk_test_…:` sends the key as the Basic user name, which Stripe accepts.
        try:
            key = base64.b64decode(key, validate=True).decode().partition(":")[0]
        except (binascii.Error, UnicodeDecodeError):
            key = ""
    elif scheme.lower() != "bearer":
        key = ""
    if not key_is_acceptable(key):
        shown = _redacted(key) if key.isascii() and key.isprintable() else ""
        raise StripeApiError(401, f"Invalid API Key provided: {shown}".rstrip())
    return key


def _params(request: HttpRequest) -> dict[str, Any]:
    if request.method != "POST":
        return form_parse(request.META.get("QUERY_STRING", "").encode("latin-1", "replace"))
    if request.headers.get("Content-Length", "0") in ("", "0"):
        # A POST without a body (`curl -X POST …/detach`) has no parameters, whatever its
        # Content-Type says; Stripe takes it.
        return {}
    content_type = request.content_type or FORM_CONTENT_TYPE
    if content_type != FORM_CONTENT_TYPE:
        raise errors.invalid(
            f"Invalid request: unsupported Content-Type {content_type}. The v1 API takes "
            f"{FORM_CONTENT_TYPE} bodies."
        )
    try:
        return form_parse(request.body)
    except RequestDataTooBig:
        raise errors.invalid("Invalid request: the body is too large.") from None


def _json_response(
    status: int, body: str, request_id: str, headers: dict[str, str] | None = None
) -> HttpResponse:
    response = HttpResponse(body, status=status, content_type="application/json")
    response["Request-Id"] = request_id
    response["Stripe-Version"] = API_VERSION
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def _run(
    handler: Handler, call: ApiCall, expand: list[str], kwargs: dict[str, Any]
) -> tuple[int, str, list[str]]:
    result = handler(call, **kwargs)
    body = result.body if result.status != 200 else expand_apply(result.body, expand, call.account)
    return result.status, json.dumps(body, indent=2), result.events


def _idempotent_run(
    handler: Handler, call: ApiCall, expand: list[str], kwargs: dict[str, Any]
) -> HttpResponse:
    key = call.ref.idempotency_key
    digest = params_digest("POST", {**call.params, "expand": expand})
    stored = idempotency_begin(
        account=call.account, key=key, path=call.request.path, digest=digest, request_id=call.ref.id
    )
    headers = {"Idempotency-Key": key}
    if stored is not None:
        replay_headers = {
            **headers,
            "Idempotent-Replayed": "true",
            "Original-Request": stored.request_id,
        }
        return _json_response(stored.status, stored.body, call.ref.id, replay_headers)
    try:
        status, body, events = _run(handler, call, expand, kwargs)
    except BaseException:
        # A failed request leaves nothing behind: the key can be retried, even with new params.
        idempotency_release(account=call.account, key=key)
        raise
    # Stored before webhooks go out, so a retry racing the deliveries is replayed at once.
    idempotency_store(account=call.account, key=key, status=status, body=body)
    events_deliver(event_ids=events, now=call.now)
    return _json_response(status, body, call.ref.id, headers)


def _dispatch(
    request: HttpRequest, handlers: dict[str, Handler], kwargs: dict[str, Any], request_id: str
) -> HttpResponse:
    api_key = _api_key(request)
    account = account_for_key(api_key=api_key)
    preconfigured_apply(account=account, api_key=api_key)
    if "Stripe-Account" in request.headers:
        raise errors.invalid("The Stripe sandbox does not simulate Connect (Stripe-Account).")
    handler = handlers.get(request.method or "")
    if handler is None:
        raise errors.unrecognized_url(request.method or "", request.path)
    params = _params(request)
    expand = expand_paths_parse(params.pop("expand", None))
    key = request.headers.get("Idempotency-Key", "") if request.method == "POST" else ""
    call = ApiCall(
        request=request,
        account=account,
        params=params,
        ref=RequestRef(id=request_id, idempotency_key=idempotency_key_check(key)),
        now=now_unix(),
    )
    if key:
        return _idempotent_run(handler, call, expand, kwargs)
    status, body, events = _run(handler, call, expand, kwargs)
    events_deliver(event_ids=events, now=call.now)
    return _json_response(status, body, request_id)


def _internal_error(request_id: str) -> StripeApiError:
    return StripeApiError(
        500, f"An unexpected error occurred (request {request_id}).", type=errors.API_ERROR
    )


def stripe_api(**handlers: Handler) -> Callable[..., HttpResponse]:
    """A view serving `handlers` by HTTP method (GET=…, POST=…, DELETE=…).

    The `api` fault knob applies first, to every call of the `/v1/…` API.
    """

    @csrf_exempt
    def view(request: HttpRequest, **kwargs: Any) -> HttpResponse:
        request_id = new_id("req_", 14)
        try:
            if KNOBS.api_fault_fails():
                raise _internal_error(request_id)
            return _dispatch(request, handlers, kwargs, request_id)
        except StripeApiError as exc:
            error = exc
        except Exception:
            # Stripe answers even its own failures in JSON; the traceback goes to the log.
            logger.exception("stripe sandbox request %s failed", request_id)
            error = _internal_error(request_id)
        response = error_response(error)
        response["Request-Id"] = request_id
        response["Stripe-Version"] = API_VERSION
        return response

    return view


def _no_params(call: ApiCall) -> None:
    reject_unknown(call.params, ())


def _page_url_builder(request: HttpRequest, page: str) -> Callable[[str], str]:
    return lambda session_id: request.build_absolute_uri(
        reverse(f"sandbox_stripe:{page}", args=[session_id])
    )


# Handlers --------------------------------------------------------------------------------------


def _session_create(call: ApiCall) -> ApiResult:
    if is_setup_mode(call.params):
        session = setup_session_create(
            account=call.account,
            request=setup_session_request_parse(call.params, now=call.now),
            setup_url_for=_page_url_builder(call.request, "setup"),
            now=call.now,
        )
        return ApiResult(checkout_session_to_dict(session))
    request = checkout_session_request_parse(call.params, now=call.now)
    session = checkout_session_create(
        account=call.account,
        request=request,
        pay_url_for=_page_url_builder(call.request, "pay"),
        now=call.now,
    )
    return ApiResult(checkout_session_to_dict(session))


def _session_retrieve(call: ApiCall, session_id: str) -> ApiResult:
    _no_params(call)
    session = selectors.checkout_session_get(account=call.account, session_id=session_id)
    events = checkout_session_expire_if_due(session_id=session.id, now=call.now)
    if events:
        session.refresh_from_db()
    return ApiResult(checkout_session_to_dict(session), events)


def _session_expire(call: ApiCall, session_id: str) -> ApiResult:
    _no_params(call)
    session = selectors.checkout_session_get(account=call.account, session_id=session_id)
    session, events = checkout_session_expire(session=session, now=call.now, request=call.ref)
    return ApiResult(checkout_session_to_dict(session), events)


def _session_line_items(call: ApiCall, session_id: str) -> ApiResult:
    reject_unknown(call.params, ("limit", "starting_after", "ending_before"))
    session = selectors.checkout_session_get(account=call.account, session_id=session_id)
    return ApiResult(line_items_to_list(session))


def _intent_retrieve(call: ApiCall, intent_id: str) -> ApiResult:
    reject_unknown(call.params, ("client_secret",))
    intent = selectors.payment_intent_get(account=call.account, intent_id=intent_id)
    return ApiResult(payment_intent_to_dict(intent))


def _charge_retrieve(call: ApiCall, charge_id: str) -> ApiResult:
    _no_params(call)
    return ApiResult(
        charge_to_dict(selectors.charge_get(account=call.account, charge_id=charge_id))
    )


def _refund_create(call: ApiCall) -> ApiResult:
    request = refund_request_parse(call.params)
    refund, events = refund_create(
        account=call.account, request=request, now=call.now, request_ref=call.ref
    )
    return ApiResult(refund_to_dict(refund), events)


def _refund_retrieve(call: ApiCall, refund_id: str) -> ApiResult:
    _no_params(call)
    return ApiResult(
        refund_to_dict(selectors.refund_get(account=call.account, refund_id=refund_id))
    )


def _endpoint_create(call: ApiCall) -> ApiResult:
    request = webhook_endpoint_create_parse(call.params)
    endpoint, secret = webhook_endpoint_create(account=call.account, request=request, now=call.now)
    return ApiResult(webhook_endpoint_to_dict(endpoint, secret=secret))


def _list_limit(call: ApiCall) -> int:
    reject_unknown(call.params, ("limit", "starting_after", "ending_before"))
    raw = call.params.get("limit", str(DEFAULT_LIST_LIMIT))
    if not isinstance(raw, str) or not raw.isdigit() or not 1 <= int(raw) <= MAX_LIST_LIMIT:
        raise errors.invalid(
            f"Invalid limit: must be an integer between 1 and {MAX_LIST_LIMIT}", param="limit"
        )
    return int(raw)


def _endpoint_list(call: ApiCall) -> ApiResult:
    endpoints, has_more = selectors.webhook_endpoints_list(
        account=call.account, limit=_list_limit(call)
    )
    data = [webhook_endpoint_to_dict(endpoint) for endpoint in endpoints]
    return ApiResult(list_object(data, "/v1/webhook_endpoints", has_more=has_more))


def _endpoint_retrieve(call: ApiCall, endpoint_id: str) -> ApiResult:
    _no_params(call)
    endpoint = selectors.webhook_endpoint_get(account=call.account, endpoint_id=endpoint_id)
    return ApiResult(webhook_endpoint_to_dict(endpoint))


def _endpoint_update(call: ApiCall, endpoint_id: str) -> ApiResult:
    request = webhook_endpoint_update_parse(call.params)
    endpoint = selectors.webhook_endpoint_get(account=call.account, endpoint_id=endpoint_id)
    return ApiResult(
        webhook_endpoint_to_dict(webhook_endpoint_update(endpoint=endpoint, request=request))
    )


def _endpoint_delete(call: ApiCall, endpoint_id: str) -> ApiResult:
    _no_params(call)
    endpoint = selectors.webhook_endpoint_get(account=call.account, endpoint_id=endpoint_id)
    webhook_endpoint_delete(endpoint=endpoint)
    return ApiResult({"id": endpoint_id, "object": "webhook_endpoint", "deleted": True})


def _event_retrieve(call: ApiCall, event_id: str) -> ApiResult:
    _no_params(call)
    return ApiResult(event_to_dict(selectors.event_get(account=call.account, event_id=event_id)))


sessions_api = stripe_api(POST=_session_create)
session_api = stripe_api(GET=_session_retrieve)
session_expire_api = stripe_api(POST=_session_expire)
session_line_items_api = stripe_api(GET=_session_line_items)
payment_intent_api = stripe_api(GET=_intent_retrieve)
charge_api = stripe_api(GET=_charge_retrieve)
refunds_api = stripe_api(POST=_refund_create)
refund_api = stripe_api(GET=_refund_retrieve)
webhook_endpoints_api = stripe_api(POST=_endpoint_create, GET=_endpoint_list)
webhook_endpoint_api = stripe_api(
    GET=_endpoint_retrieve, POST=_endpoint_update, DELETE=_endpoint_delete
)
event_api = stripe_api(GET=_event_retrieve)
unrecognized_api = stripe_api()


# Test controls ---------------------------------------------------------------------------------


def _control_object(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise errors.invalid("The request body is not valid JSON") from None
    if not isinstance(data, dict):
        raise errors.invalid("The request body must be a JSON object")
    return data


def _control_response(body: Any) -> HttpResponse:
    return HttpResponse(json.dumps(body, indent=2), content_type="application/json")


control: Final = Control(
    knobs=KNOBS,
    dialect=ControlDialect(
        error=StripeApiError,
        error_response=error_response,
        invalid=lambda message, field: errors.invalid(message, param=field),
        method_not_allowed=lambda: StripeApiError(405, "Method not allowed"),
        parse_object=_control_object,
        respond=_control_response,
    ),
    flush=flush,
    dashboard_refund=lambda _request, payment, amount: dashboard_refund(payment, amount),
)
