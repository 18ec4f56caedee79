"""The Stripe simulator over real HTTP, driven by the official `stripe` package unchanged.

The API is called through `stripe.StripeClient` pointed at `live_server`; the hosted pages with
httpx, as a browser would; webhooks land on a tiny `http.server` receiver in a thread and are
verified with `stripe.Webhook.construct_event`, exactly as a merchant endpoint verifies them.
The fixtures are in `conftest.py`, the helpers in `support.py`.
"""

from __future__ import annotations

import hashlib
import hmac
import subprocess
import threading
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import stripe
from django.db import connection

from sandbox.stripe_sim.errors import StripeApiError
from sandbox.stripe_sim.formdata import form_parse
from sandbox.stripe_sim.knobs import knobs_get, knobs_reset, knobs_set
from sandbox.stripe_sim.models import (
    StripeCharge,
    StripeCheckoutSession,
    StripeEvent,
    StripeHeldEvent,
    StripeIdempotencyKey,
    StripeRefund,
)
from sandbox.stripe_sim.services import dashboard_refund, flush
from sandbox.stripe_sim.signing import stripe_signature_header
from sandbox.stripe_sim.tests.support import (
    SECRET,
    Endpoint,
    FormParser,
    Receiver,
    assert_error,
    client_for,
    endpoint_create,
)
from testsupport.database import database_owner

pytestmark = pytest.mark.django_db(transaction=True)

SUCCESS_URL = "https://shop.example/checkout/done?session_id={CHECKOUT_SESSION_ID}&lang=ar"
CANCEL_URL = "https://shop.example/checkout/cancelled?order=ORD-0001"
ENVELOPE_KEYS = {
    "id",
    "object",
    "api_version",
    "created",
    "data",
    "livemode",
    "pending_webhooks",
    "request",
    "type",
}


# API helpers -----------------------------------------------------------------------------------


def session_params(**overrides: Any) -> dict[str, Any]:
    params: dict[str, Any] = {
        "mode": "payment",
        "success_url": SUCCESS_URL,
        "cancel_url": CANCEL_URL,
        "line_items": [
            {
                "price_data": {
                    "currency": "sar",
                    "unit_amount": 1050,
                    "product_data": {"name": "Order ORD-0001"},
                },
                "quantity": 2,
            }
        ],
        "client_reference_id": "att_0001",
        "metadata": {"attempt_id": "att_0001", "tenant": "t-7"},
        "payment_intent_data": {"metadata": {"attempt_id": "att_0001", "order": "ORD-0001"}},
        "customer_email": "sara@example.com",
    }
    params.update(overrides)
    return params


def session_create(client: stripe.StripeClient, **overrides: Any) -> stripe.checkout.Session:
    return client.v1.checkout.sessions.create(params=session_params(**overrides))


# Hosted page helpers ---------------------------------------------------------------------------


def assert_outcome_form(html: str, id_prefix: str) -> None:
    parser = FormParser()
    parser.feed(html)
    assert len(parser.forms) == 1
    form = parser.forms[0]
    assert form.method == "post"
    assert [(b["name"], b["value"], b["id"]) for b in form.buttons] == [
        ("outcome", "succeed", f"{id_prefix}-succeed"),
        ("outcome", "decline", f"{id_prefix}-decline"),
        ("outcome", "cancel", f"{id_prefix}-cancel"),
    ]
    assert all(b.get("type") == "submit" for b in form.buttons)
    # The test card is shown as text; nothing asks the customer for card data.
    assert parser.inputs_anywhere == []


def submit(browser: httpx.Client, url: str, outcome: str) -> httpx.Response:
    return browser.post(url, data={"outcome": outcome})


def threeds_url(session: stripe.checkout.Session) -> str:
    return f"{session.url}3ds/"


def pay(browser: httpx.Client, session: stripe.checkout.Session) -> httpx.Response:
    """Pay on the hosted page and pass 3-D Secure; returns the redirect to the merchant."""
    first = submit(browser, session.url, "succeed")
    assert first.status_code == 302, first.text
    assert first.headers["location"].endswith(urlsplit(threeds_url(session)).path)
    return submit(browser, threeds_url(session), "succeed")


def success_location(session_id: str) -> str:
    return SUCCESS_URL.replace("{CHECKOUT_SESSION_ID}", session_id)


# Checkout Sessions -----------------------------------------------------------------------------


def test_create_returns_an_open_unpaid_session(
    client: stripe.StripeClient, stripe_url: str
) -> None:
    before = int(time.time())

    session = session_create(client)

    assert session.object == "checkout.session"
    assert session.id.startswith("cs_test_")
    assert session.url == f"{stripe_url}/pay/{session.id}/"
    assert session.status == "open"
    assert session.payment_status == "unpaid"
    assert session.payment_intent is None
    assert session.amount_total == 2100
    assert session.amount_subtotal == 2100
    assert session.currency == "sar"
    assert session.client_reference_id == "att_0001"
    assert session.metadata.to_dict() == {"attempt_id": "att_0001", "tenant": "t-7"}
    assert session.success_url == SUCCESS_URL
    assert session.cancel_url == CANCEL_URL
    assert session.customer_email == "sara@example.com"
    assert session.mode == "payment"
    assert session.livemode is False
    assert session.ui_mode == "hosted_page"
    assert before <= session.created <= int(time.time())
    assert session.expires_at == session.created + 24 * 60 * 60

    fetched = client.v1.checkout.sessions.retrieve(session.id)
    assert fetched.to_dict() == session.to_dict()


def test_currency_is_accepted_in_either_case_and_answered_lower_case(
    client: stripe.StripeClient,
) -> None:
    items = session_params()["line_items"]
    items[0]["price_data"]["currency"] = "SAR"

    assert session_create(client, line_items=items).currency == "sar"


def test_optional_fields_may_be_left_out(client: stripe.StripeClient) -> None:
    session = client.v1.checkout.sessions.create(
        params={
            "mode": "payment",
            "success_url": "https://shop.example/ok",
            "line_items": session_params()["line_items"],
        }
    )

    assert session.cancel_url is None
    assert session.client_reference_id is None
    assert session.metadata.to_dict() == {}
    assert session.customer_email is None


def test_expires_at_is_honoured_within_stripes_bounds(
    client: stripe.StripeClient, raw: httpx.Client
) -> None:
    expires_at = int(time.time()) + 3600

    assert session_create(client, expires_at=expires_at).expires_at == expires_at
    too_soon = session_params(expires_at=int(time.time()) + 60)
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.checkout.sessions.create(params=too_soon)
    assert caught.value.param == "expires_at"


def test_nested_form_encoding_is_parsed(raw: httpx.Client) -> None:
    # Written by hand: percent-encoded and literal brackets, indexed lists, nested hashes.
    body = (
        "mode=payment"
        "&success_url=https%3A%2F%2Fshop.example%2Fdone%3Fs%3D%7BCHECKOUT_SESSION_ID%7D"
        "&line_items%5B0%5D%5Bprice_data%5D%5Bcurrency%5D=sar"
        "&line_items%5B0%5D%5Bprice_data%5D%5Bunit_amount%5D=1000"
        "&line_items%5B0%5D%5Bprice_data%5D%5Bproduct_data%5D%5Bname%5D=T-shirt%20%D8%A3%D8%B2%D8%B1%D9%82"
        "&line_items[0][quantity]=3"
        "&line_items[1][price_data][currency]=sar"
        "&line_items[1][price_data][unit_amount]=250"
        "&line_items[1][price_data][product_data][name]=Gift+wrap"
        "&line_items[1][price_data][product_data][description]=Red+paper"
        "&line_items[1][quantity]=1"
        "&metadata[attempt_id]=att_42&metadata[note]=a%26b%3Dc"
        "&payment_intent_data[metadata][attempt_id]=att_42"
        "&expand[]=line_items"
    )

    response = raw.post(
        "/v1/checkout/sessions",
        content=body,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )

    assert response.status_code == 200, response.text
    session = response.json()
    assert session["amount_total"] == 3 * 1000 + 250
    assert session["metadata"] == {"attempt_id": "att_42", "note": "a&b=c"}
    assert session["success_url"] == "https://shop.example/done?s={CHECKOUT_SESSION_ID}"
    items = session["line_items"]["data"]
    assert [(i["description"], i["quantity"], i["amount_total"]) for i in items] == [
        ("T-shirt أزرق", 3, 3000),
        ("Gift wrap", 1, 250),
    ]
    assert items[0]["price"]["unit_amount"] == 1000
    assert items[0]["price"]["currency"] == "sar"

    listed = raw.get(f"/v1/checkout/sessions/{session['id']}/line_items").json()
    assert listed["object"] == "list"
    assert listed["data"] == items


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"a=1&b=two", {"a": "1", "b": "two"}),
        (b"m[k]=v&m[x][y]=z", {"m": {"k": "v", "x": {"y": "z"}}}),
        (b"l[1]=b&l[0]=a", {"l": ["a", "b"]}),
        (b"l[]=a&l[]=b", {"l": ["a", "b"]}),
        (b"l[0][n]=a&l[1][n]=b", {"l": [{"n": "a"}, {"n": "b"}]}),
        (b"e=&m[k]=", {"e": "", "m": {"k": ""}}),
        (b"p=%E2%9C%93+ok", {"p": "\u2713 ok"}),
        (b"", {}),
    ],
)
def test_form_parse_builds_nested_values(body: bytes, expected: dict[str, Any]) -> None:
    assert form_parse(body) == expected


@pytest.mark.parametrize(
    "body",
    [
        b"a=%ff",
        b"\xff=1",
        b"a[b=1",
        b"a]=1",
        b"[a]=1",
        b"a=1&a=2",
        b"a=1&a[b]=2",
        b"a[b]=1&a=2",
        b"l[0]=x&l[k]=y",
        b"l[0]=x&l[00]=y",
        b"l[5000]=x",
        b"a=%00",
        b"a[b][c][d][e][f][g][h][i]=1",
        b"&".join(b"k%d=v" % i for i in range(1001)),
    ],
)
def test_form_parse_refuses_malformed_bodies(body: bytes) -> None:
    with pytest.raises(StripeApiError) as caught:
        form_parse(body)
    assert caught.value.status == 400


# Idempotency -----------------------------------------------------------------------------------


def test_same_idempotency_key_replays_the_first_response(client: stripe.StripeClient) -> None:
    options: dict[str, Any] = {"idempotency_key": "order-ORD-0001-attempt-1"}

    first = client.v1.checkout.sessions.create(params=session_params(), options=options)
    second = client.v1.checkout.sessions.create(params=session_params(), options=options)

    assert second.id == first.id
    assert second.to_dict() == first.to_dict()
    assert StripeCheckoutSession.objects.count() == 1


def test_replay_is_marked_and_byte_identical(raw: httpx.Client) -> None:
    body = {
        "mode": "payment",
        "success_url": "https://shop.example/ok",
        "line_items[0][price_data][currency]": "sar",
        "line_items[0][price_data][unit_amount]": "500",
        "line_items[0][price_data][product_data][name]": "Tea",
        "line_items[0][quantity]": "1",
    }
    headers = {"Idempotency-Key": "replay-me"}

    first = raw.post("/v1/checkout/sessions", data=body, headers=headers)
    second = raw.post("/v1/checkout/sessions", data=body, headers=headers)

    assert first.status_code == second.status_code == 200
    assert "Idempotent-Replayed" not in first.headers
    assert second.headers["Idempotent-Replayed"] == "true"
    assert second.headers["Idempotency-Key"] == "replay-me"
    assert second.headers["Original-Request"] == first.headers["Request-Id"]
    assert second.content == first.content


def test_same_key_with_other_params_is_an_idempotency_error(client: stripe.StripeClient) -> None:
    options: dict[str, Any] = {"idempotency_key": "order-ORD-0002"}
    client.v1.checkout.sessions.create(params=session_params(), options=options)

    with pytest.raises(stripe.IdempotencyError) as caught:
        client.v1.checkout.sessions.create(
            params=session_params(client_reference_id="att_other"), options=options
        )

    assert caught.value.http_status == 400
    error = caught.value.json_body["error"]
    assert error["type"] == "idempotency_error"
    assert error["message"].startswith(
        "Keys for idempotent requests can only be used with the same parameters they were "
        "first used with"
    )
    assert StripeCheckoutSession.objects.count() == 1


def test_same_key_on_another_endpoint_is_an_idempotency_error(
    client: stripe.StripeClient, receiver: Receiver
) -> None:
    options: dict[str, Any] = {"idempotency_key": "shared-key"}
    client.v1.checkout.sessions.create(params=session_params(), options=options)

    with pytest.raises(stripe.IdempotencyError):
        client.v1.webhook_endpoints.create(
            params={"url": receiver.url, "enabled_events": ["*"]}, options=options
        )


def test_idempotency_keys_are_scoped_to_the_account(
    client: stripe.StripeClient, other_client: stripe.StripeClient
) -> None:
    options: dict[str, Any] = {"idempotency_key": "same-key-two-merchants"}

    mine = client.v1.checkout.sessions.create(params=session_params(), options=options)
    theirs = other_client.v1.checkout.sessions.create(params=session_params(), options=options)

    assert mine.id != theirs.id


def test_a_failed_request_leaves_its_key_free(client: stripe.StripeClient) -> None:
    options: dict[str, Any] = {"idempotency_key": "fix-and-retry"}
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.checkout.sessions.create(params=session_params(mode="setup"), options=options)

    session = client.v1.checkout.sessions.create(params=session_params(), options=options)

    assert session.status == "open"


def test_sdk_generated_keys_make_every_create_distinct(client: stripe.StripeClient) -> None:
    assert session_create(client).id != session_create(client).id
    assert StripeIdempotencyKey.objects.filter(status_code=200).count() == 2


def test_overlong_idempotency_key_is_refused(raw: httpx.Client) -> None:
    response = raw.post(
        "/v1/checkout/sessions", data={"mode": "payment"}, headers={"Idempotency-Key": "k" * 256}
    )

    assert_error(response, 400)


# Authentication and scoping --------------------------------------------------------------------


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Bearer",
        "Bearer sk_test_",
        "Bearer sk_live_51WaslaSandboxKeyForTheStripeSimulator0001",
        "Bearer pk_test_51WaslaSandboxKeyForTheStripeSimulator0001",
        "Bearer rk_test_51WaslaSandboxKeyForTheStripeSimulator0001",
        "Basic !!notbase64",
        "Token sk_test_51WaslaSandboxKeyForTheStripeSimulator0001",
        SECRET,
    ],
)
def test_requests_without_a_test_secret_key_are_unauthorized(
    stripe_url: str, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}

    response = httpx.post(
        f"{stripe_url}/v1/checkout/sessions", data={"mode": "payment"}, headers=headers
    )

    error = assert_error(response, 401)
    assert "sk_test_51Wasla" not in error["message"]  # a key is never echoed back in full


def test_basic_auth_with_the_key_as_user_name_works(stripe_url: str) -> None:
    response = httpx.get(f"{stripe_url}/v1/events/evt_nope", auth=(SECRET, ""))

    assert_error(response, 404, code="resource_missing")


def test_the_sdk_reports_a_bad_key_as_an_authentication_error(stripe_url: str) -> None:
    with pytest.raises(stripe.AuthenticationError) as caught:
        session_create(client_for(stripe_url, "sk_live_nope"))

    assert caught.value.http_status == 401


def test_objects_are_invisible_to_another_key(
    client: stripe.StripeClient,
    other_client: stripe.StripeClient,
    browser: httpx.Client,
    endpoint: Endpoint,
) -> None:
    session = session_create(client)
    pay(browser, session)
    intent_id = client.v1.checkout.sessions.retrieve(session.id).payment_intent
    refund = client.v1.refunds.create(params={"payment_intent": intent_id, "amount": 100})
    event_id = StripeEvent.objects.first().id

    lookups: list[Callable[[], Any]] = [
        lambda: other_client.v1.checkout.sessions.retrieve(session.id),
        lambda: other_client.v1.checkout.sessions.expire(session.id),
        lambda: other_client.v1.payment_intents.retrieve(intent_id),
        lambda: other_client.v1.refunds.retrieve(refund.id),
        lambda: other_client.v1.refunds.create(params={"payment_intent": intent_id}),
        lambda: other_client.v1.webhook_endpoints.retrieve(endpoint.id),
        lambda: other_client.v1.webhook_endpoints.delete(endpoint.id),
        lambda: other_client.v1.events.retrieve(event_id),
    ]
    for lookup in lookups:
        with pytest.raises(stripe.InvalidRequestError) as caught:
            lookup()
        assert caught.value.http_status == 404
        assert caught.value.code == "resource_missing"

    assert client.v1.webhook_endpoints.retrieve(endpoint.id).id == endpoint.id


def test_unknown_ids_and_urls_are_404(raw: httpx.Client) -> None:
    error = assert_error(
        raw.get("/v1/checkout/sessions/cs_test_nope"), 404, code="resource_missing", param="id"
    )
    assert error["message"] == "No such checkout.session: 'cs_test_nope'"
    assert_error(raw.get("/v1/customers"), 404)
    assert_error(raw.delete("/v1/checkout/sessions"), 404)


def test_connect_requests_are_refused(raw: httpx.Client) -> None:
    response = raw.get("/v1/events/evt_1", headers={"Stripe-Account": "acct_123"})

    assert_error(response, 400)


# Validation ------------------------------------------------------------------------------------


def _item(**price_data: Any) -> dict[str, Any]:
    data = {"currency": "sar", "unit_amount": 1000, "product_data": {"name": "Order"}}
    data.update(price_data)
    return {"price_data": data, "quantity": 1}


@pytest.mark.parametrize(
    ("overrides", "param", "code"),
    [
        ({"line_items": None}, "line_items", "parameter_missing"),
        ({"mode": None}, "mode", "parameter_missing"),
        ({"success_url": None}, "success_url", "parameter_missing"),
        ({"success_url": ""}, "success_url", "parameter_invalid_empty"),
        ({"success_url": "/relative"}, "success_url", "url_invalid"),
        ({"cancel_url": "javascript:alert(1)"}, "cancel_url", "url_invalid"),
        ({"mode": "subscription"}, "mode", None),
        ({"mode": "bogus"}, "mode", None),
        (
            {"line_items": [_item(unit_amount=-5)]},
            "line_items[0][price_data][unit_amount]",
            "parameter_invalid_integer",
        ),
        (
            {"line_items": [_item(unit_amount="10.50")]},
            "line_items[0][price_data][unit_amount]",
            "parameter_invalid_integer",
        ),
        (
            {"line_items": [_item(unit_amount="ten")]},
            "line_items[0][price_data][unit_amount]",
            "parameter_invalid_integer",
        ),
        (
            {"line_items": [_item(unit_amount=100_000_000)]},
            "line_items[0][price_data][unit_amount]",
            "amount_too_large",
        ),
        ({"line_items": [_item(unit_amount=0)]}, "line_items", "amount_too_small"),
        ({"line_items": [_item(currency="xyz")]}, "line_items[0][price_data][currency]", None),
        (
            {"line_items": [_item(), _item(currency="usd")]},
            "line_items[1][price_data][currency]",
            None,
        ),
        (
            {"line_items": [_item(product_data={"description": "x"})]},
            "line_items[0][price_data][product_data][name]",
            "parameter_missing",
        ),
        (
            {"line_items": [{"price_data": _item()["price_data"]}]},
            "line_items[0][quantity]",
            "parameter_missing",
        ),
        (
            {"line_items": [{**_item(), "quantity": 0}]},
            "line_items[0][quantity]",
            "parameter_invalid_integer",
        ),
        (
            {"line_items": [{"price": "price_123", "quantity": 1}]},
            "line_items[0][price]",
            "resource_missing",
        ),
        (
            {"line_items": [_item(recurring={"interval": "month"})]},
            "line_items[0][price_data][recurring]",
            None,
        ),
        ({"metadata": {"k" * 41: "v"}}, f"metadata[{'k' * 41}]", None),
        ({"metadata": {"k": "v" * 501}}, "metadata[k]", None),
        ({"customer_email": "not-an-email"}, "customer_email", "email_invalid"),
        ({"client_reference_id": "r" * 201}, "client_reference_id", None),
        ({"ui_mode": "embedded_page"}, "ui_mode", None),
        ({"payment_intent_data": {"capture_method": "manual"}}, None, None),
        ({"shipping_rate": "shr_1"}, "shipping_rate", "parameter_unknown"),
        ({"expires_at": "soon"}, "expires_at", "parameter_invalid_integer"),
    ],
)
def test_invalid_session_params_are_400_with_stripes_error(
    client: stripe.StripeClient, overrides: dict[str, Any], param: str | None, code: str | None
) -> None:
    params = {key: value for key, value in session_params(**overrides).items() if value is not None}

    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.checkout.sessions.create(params=params)

    error = caught.value
    assert error.http_status == (404 if code == "resource_missing" else 400)
    assert error.json_body["error"]["type"] == "invalid_request_error"
    if param is not None:
        assert error.param == param
    assert error.code == code
    assert StripeCheckoutSession.objects.count() == 0


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"mode=payment&line_items[0]=x&line_items[zz]=y", None),
        (b"mode=payment&metadata=plain", None),
        (b"mode=payment&line_items=plain", None),
        (b"mode=payment&success_url[a]=b", None),
        (b"mode=%ff", None),
        (b"mode=payment&mode=payment", None),
        (b"mode=%00payment", None),
        (b"a[b=1", None),
        (b"line_items[0][price_data][unit_amount][x]=1", None),
        (b'{"mode": "payment"}', "application/json"),
        (b"--x\r\n", "multipart/form-data; boundary=x"),
        (b"expand=line_items", None),
        (b"expand[0]=customer", None),
        (b"line_items[0][price_data][unit_amount]=99999999999999999999999", None),
    ],
)
def test_malformed_bodies_are_400_never_500(
    raw: httpx.Client, body: bytes, content_type: str | None
) -> None:
    headers = {"Content-Type": content_type or "application/x-www-form-urlencoded"}

    response = raw.post("/v1/checkout/sessions", content=body, headers=headers)

    assert_error(response, 400)


def test_get_params_other_than_expand_are_refused(raw: httpx.Client) -> None:
    assert_error(raw.get("/v1/events/evt_1?limit=3"), 400, code="parameter_unknown")


# Expire ----------------------------------------------------------------------------------------


def test_expire_closes_an_open_session_and_notifies(
    client: stripe.StripeClient, receiver: Receiver, endpoint: Endpoint
) -> None:
    session = session_create(client)

    expired = client.v1.checkout.sessions.expire(
        session.id, options={"idempotency_key": "expire-1"}
    )

    assert expired.status == "expired"
    assert expired.payment_status == "unpaid"
    assert expired.url is None
    assert receiver.types() == ["checkout.session.expired"]
    event = receiver.deliveries[0].verified(endpoint.secret)
    assert event.data.object.id == session.id
    assert event.data.object.status == "expired"
    assert event.request.idempotency_key == "expire-1"
    assert event.request.id.startswith("req_")

    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.checkout.sessions.expire(session.id)
    assert caught.value.http_status == 400
    assert '"expired"' in caught.value.user_message
    assert len(receiver.deliveries) == 1


def test_a_session_past_expires_at_expires_when_read(
    client: stripe.StripeClient, receiver: Receiver, endpoint: Endpoint, browser: httpx.Client
) -> None:
    session = session_create(client)
    StripeCheckoutSession.objects.filter(pk=session.id).update(expires_at=int(time.time()) - 1)

    assert client.v1.checkout.sessions.retrieve(session.id).status == "expired"
    assert receiver.types() == ["checkout.session.expired"]
    page = browser.get(session.url)
    assert page.status_code == 200
    assert 'data-status="expired"' in page.text
    assert "منتهية الصلاحية" in page.text  # "Expired": the page speaks Arabic unless switched
    assert len(receiver.deliveries) == 1


# Hosted page -----------------------------------------------------------------------------------


def test_hosted_page_has_one_form_with_the_three_outcomes(
    client: stripe.StripeClient, browser: httpx.Client
) -> None:
    session = session_create(client)

    page = browser.get(session.url)

    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "21.00\u00a0ر.س." in page.text  # Arabic unless the visitor picked English
    assert "Order ORD-0001" in page.text
    assert "بيئة اختبار" in page.text
    assert "4242 4242 4242 4242" in page.text
    assert "sara@example.com" in page.text
    assert_outcome_form(page.text, "pay")

    challenge = browser.get(threeds_url(session))
    assert challenge.status_code == 200
    assert "21.00\u00a0ر.س." in challenge.text
    assert_outcome_form(challenge.text, "3ds")


def test_hosted_page_in_english_names_the_store_from_the_intent_description(
    client: stripe.StripeClient, browser: httpx.Client
) -> None:
    """Checkout names the account's business; the sandbox has no business profile, so it
    shows the `payment_intent_data.description` a platform sets to the store's name."""
    session = session_create(client, payment_intent_data={"description": "Qahwa House"})
    browser.cookies.set("wasla_language", "en")
    page = browser.get(session.url)
    assert '<html lang="en" dir="ltr">' in page.text
    assert "SAR\u00a021.00" in page.text
    assert 'id="merchant-name">Qahwa House<' in page.text
    assert "Cancel and return to Qahwa House" in page.text
    assert "to confirm this payment to Qahwa House" in browser.get(threeds_url(session)).text
    plain = session_create(client)
    assert 'id="merchant-name">Sandbox merchant<' in browser.get(plain.url).text


def test_hosted_page_escapes_merchant_text(
    client: stripe.StripeClient, browser: httpx.Client
) -> None:
    items = [_item(product_data={"name": "<script>alert(1)</script>"})]
    session = session_create(client, line_items=items)

    page = browser.get(session.url)

    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;" in page.text


def test_unknown_hosted_page_is_404(browser: httpx.Client, stripe_url: str) -> None:
    assert browser.get(f"{stripe_url}/pay/cs_test_nope/").status_code == 404
    assert browser.post(f"{stripe_url}/pay/cs_test_nope/3ds/").status_code == 404


def test_succeed_through_3ds_completes_and_sends_a_verified_event(
    client: stripe.StripeClient, browser: httpx.Client, receiver: Receiver, endpoint: Endpoint
) -> None:
    session = session_create(client)
    seen_by_receiver: list[str] = []
    # The merchant re-fetches the session while handling the webhook: it must be committed.
    receiver.on_delivery = lambda delivery: seen_by_receiver.append(
        client.v1.checkout.sessions.retrieve(delivery.event["data"]["object"]["id"]).status
    )

    response = pay(browser, session)

    assert response.status_code == 302
    assert response.headers["location"] == success_location(session.id)
    assert seen_by_receiver == ["complete"]
    assert len(receiver.deliveries) == 1
    delivery = receiver.deliveries[0]
    assert delivery.path == "/webhooks/stripe"
    assert delivery.headers["content-type"] == "application/json; charset=utf-8"
    event = delivery.verified(endpoint.secret)
    assert event.type == "checkout.session.completed"
    envelope = delivery.event
    assert set(envelope) == ENVELOPE_KEYS
    assert envelope["object"] == "event"
    assert envelope["id"].startswith("evt_")
    assert envelope["api_version"] == stripe.api_version
    assert envelope["livemode"] is False
    assert envelope["pending_webhooks"] == 1
    assert envelope["request"] == {"id": None, "idempotency_key": None}
    sent = envelope["data"]["object"]
    assert sent["id"] == session.id
    assert sent["status"] == "complete"
    assert sent["payment_status"] == "paid"
    assert sent["metadata"] == {"attempt_id": "att_0001", "tenant": "t-7"}
    assert sent["client_reference_id"] == "att_0001"
    assert sent["payment_intent"].startswith("pi_")

    settled = client.v1.checkout.sessions.retrieve(session.id)
    assert settled.status == "complete"
    assert settled.payment_status == "paid"
    assert settled.payment_intent == sent["payment_intent"]
    assert settled.customer_details.email == "sara@example.com"
    intent = client.v1.payment_intents.retrieve(settled.payment_intent)
    assert intent.status == "succeeded"
    assert intent.amount == intent.amount_received == 2100
    assert intent.currency == "sar"
    assert intent.metadata.to_dict() == {"attempt_id": "att_0001", "order": "ORD-0001"}
    assert intent.latest_charge.startswith("ch_")
    assert intent.last_payment_error is None

    stored = client.v1.events.retrieve(envelope["id"])
    assert stored.type == "checkout.session.completed"
    assert stored.data.object.id == session.id
    assert stored.pending_webhooks == 0  # the endpoint answered 2xx


def test_expand_follows_the_links_between_objects(
    client: stripe.StripeClient, browser: httpx.Client
) -> None:
    session = session_create(client)
    pay(browser, session)

    expanded = client.v1.checkout.sessions.retrieve(
        session.id, params={"expand": ["payment_intent.latest_charge", "line_items"]}
    )

    assert expanded.payment_intent.object == "payment_intent"
    charge = expanded.payment_intent.latest_charge
    assert charge.object == "charge"
    assert charge.status == "succeeded"
    assert charge.amount_captured == 2100
    assert charge.payment_method_details.card.last4 == "4242"
    assert expanded.line_items.data[0].quantity == 2
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.checkout.sessions.retrieve(session.id, params={"expand": ["customer"]})


@pytest.mark.parametrize("page", ["pay", "3ds"])
def test_decline_fails_the_intent_and_keeps_the_session_open(
    client: stripe.StripeClient,
    browser: httpx.Client,
    receiver: Receiver,
    endpoint: Endpoint,
    page: str,
) -> None:
    session = session_create(client)
    url = session.url if page == "pay" else threeds_url(session)

    response = submit(browser, url, "decline")

    assert response.status_code == 302
    assert response.headers["location"] == CANCEL_URL
    assert receiver.types() == ["payment_intent.payment_failed"]
    event = receiver.deliveries[0].verified(endpoint.secret)
    intent = event.data.object
    assert intent.object == "payment_intent"
    assert intent.status == "requires_payment_method"
    assert intent.metadata.to_dict() == {"attempt_id": "att_0001", "order": "ORD-0001"}
    error = intent.last_payment_error
    assert (error.code, error.decline_code, error.message) == (
        "card_declined",
        "generic_decline",
        "Your card was declined.",
    )
    assert error.type == "card_error"
    assert error.charge == intent.latest_charge
    still_open = client.v1.checkout.sessions.retrieve(session.id)
    assert still_open.status == "open"
    assert still_open.payment_status == "unpaid"
    assert still_open.payment_intent == intent.id
    fetched = client.v1.payment_intents.retrieve(intent.id)
    assert fetched.status == "requires_payment_method"
    assert fetched.amount_received == 0
    assert "Your card was declined." in browser.get(session.url).text


def test_paying_after_a_decline_reuses_the_intent(
    client: stripe.StripeClient, browser: httpx.Client, receiver: Receiver, endpoint: Endpoint
) -> None:
    session = session_create(client)
    submit(browser, session.url, "decline")
    failed_intent = receiver.deliveries[0].event["data"]["object"]

    pay(browser, session)

    assert receiver.types() == ["payment_intent.payment_failed", "checkout.session.completed"]
    intent = client.v1.payment_intents.retrieve(failed_intent["id"])
    assert intent.status == "succeeded"
    assert intent.last_payment_error is None
    assert intent.latest_charge != failed_intent["latest_charge"]


def test_decline_without_cancel_url_returns_to_success_url(
    client: stripe.StripeClient, browser: httpx.Client
) -> None:
    params = session_params()
    del params["cancel_url"]
    session = client.v1.checkout.sessions.create(params=params)

    response = submit(browser, session.url, "decline")

    assert response.headers["location"] == success_location(session.id)


@pytest.mark.parametrize("page", ["pay", "3ds"])
def test_cancel_expires_the_session_and_notifies(
    client: stripe.StripeClient,
    browser: httpx.Client,
    receiver: Receiver,
    endpoint: Endpoint,
    page: str,
) -> None:
    session = session_create(client)
    url = session.url if page == "pay" else threeds_url(session)

    response = submit(browser, url, "cancel")

    assert response.status_code == 302
    assert response.headers["location"] == CANCEL_URL
    assert receiver.types() == ["checkout.session.expired"]
    event = receiver.deliveries[0].verified(endpoint.secret)
    assert event.data.object.status == "expired"
    assert client.v1.checkout.sessions.retrieve(session.id).status == "expired"


def test_a_finished_session_changes_nothing_and_sends_nothing(
    client: stripe.StripeClient, browser: httpx.Client, receiver: Receiver, endpoint: Endpoint
) -> None:
    session = session_create(client)
    pay(browser, session)
    first = client.v1.checkout.sessions.retrieve(session.id).to_dict()

    for url in (session.url, threeds_url(session)):
        for outcome in ("succeed", "decline", "cancel"):
            again = submit(browser, url, outcome)
            assert again.status_code == 302
            assert again.headers["location"] == success_location(session.id)

    assert client.v1.checkout.sessions.retrieve(session.id).to_dict() == first
    assert len(receiver.deliveries) == 1
    page = browser.get(session.url)
    assert page.status_code == 200
    assert 'data-status="complete"' in page.text
    assert "مدفوع" in page.text
    assert 'id="return-link"' in page.text
    assert browser.get(threeds_url(session)).status_code == 302


def test_concurrent_submissions_settle_once(
    client: stripe.StripeClient, receiver: Receiver, endpoint: Endpoint
) -> None:
    session = session_create(client)
    barrier = threading.Barrier(6)
    statuses: list[int] = []

    def click() -> None:
        barrier.wait()
        response = httpx.post(threeds_url(session), data={"outcome": "succeed"}, timeout=30)
        statuses.append(response.status_code)

    threads = [threading.Thread(target=click) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert statuses == [302] * 6
    assert receiver.types() == ["checkout.session.completed"]
    assert StripeEvent.objects.count() == 1


def test_invalid_outcome_is_rejected_without_settling(
    client: stripe.StripeClient, browser: httpx.Client
) -> None:
    session = session_create(client)

    for url in (session.url, threeds_url(session)):
        response = submit(browser, url, "refund")
        assert response.status_code == 400
        assert "اختر نتيجة العملية." in response.text  # "Choose an outcome."

    assert client.v1.checkout.sessions.retrieve(session.id).status == "open"


@pytest.mark.parametrize("receiver_status", [500, 404])
def test_failing_receiver_does_not_break_the_hosted_page(
    client: stripe.StripeClient,
    browser: httpx.Client,
    receiver: Receiver,
    endpoint: Endpoint,
    receiver_status: int,
) -> None:
    receiver.status = receiver_status
    session = session_create(client)

    response = pay(browser, session)

    assert response.headers["location"] == success_location(session.id)
    assert len(receiver.deliveries) == 1
    assert StripeEvent.objects.get().pending_webhooks == 1  # still waiting for a 2xx


def test_unreachable_receiver_does_not_break_the_hosted_page(
    client: stripe.StripeClient, browser: httpx.Client
) -> None:
    endpoint_create(client, "http://127.0.0.1:9/webhooks/stripe")
    session = session_create(client)

    response = pay(browser, session)

    assert response.headers["location"] == success_location(session.id)
    assert client.v1.checkout.sessions.retrieve(session.id).status == "complete"


# Webhook endpoints -----------------------------------------------------------------------------


def test_endpoint_secret_is_shown_only_at_creation(
    client: stripe.StripeClient, receiver: Receiver
) -> None:
    created = client.v1.webhook_endpoints.create(
        params={
            "url": receiver.url,
            "enabled_events": ["checkout.session.completed", "charge.refunded"],
            "description": "Wasla tenant t-7",
            "metadata": {"tenant": "t-7"},
        }
    )

    assert created.object == "webhook_endpoint"
    assert created.id.startswith("we_")
    assert created.secret.startswith("whsec_")
    assert created.status == "enabled"
    assert created.url == receiver.url
    assert created.enabled_events == ["checkout.session.completed", "charge.refunded"]
    fetched = client.v1.webhook_endpoints.retrieve(created.id)
    assert "secret" not in fetched.to_dict()
    assert fetched.description == "Wasla tenant t-7"
    listed = client.v1.webhook_endpoints.list()
    assert [endpoint.id for endpoint in listed.data] == [created.id]


def test_deleted_endpoint_is_gone_and_gets_nothing(
    client: stripe.StripeClient, browser: httpx.Client, receiver: Receiver, endpoint: Endpoint
) -> None:
    deleted = client.v1.webhook_endpoints.delete(endpoint.id)

    assert deleted.deleted is True
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.webhook_endpoints.retrieve(endpoint.id)
    pay(browser, session_create(client))
    assert receiver.deliveries == []
    assert StripeEvent.objects.get().pending_webhooks == 0


def test_events_go_only_to_enabled_endpoints_listening_for_them(
    client: stripe.StripeClient, browser: httpx.Client, receiver: Receiver
) -> None:
    failures = endpoint_create(
        client, receiver.url + "/failures", ["payment_intent.payment_failed"]
    )
    everything = endpoint_create(client, receiver.url + "/all", ["*"])
    disabled = endpoint_create(client, receiver.url + "/disabled", ["*"])
    client.v1.webhook_endpoints.update(disabled.id, params={"disabled": True})
    session = session_create(client)

    submit(browser, session.url, "decline")
    pay(browser, session)

    by_path = [(d.path, d.event["type"]) for d in receiver.deliveries]
    assert by_path == [
        ("/webhooks/stripe/failures", "payment_intent.payment_failed"),
        ("/webhooks/stripe/all", "payment_intent.payment_failed"),
        ("/webhooks/stripe/all", "checkout.session.completed"),
    ]
    # Each endpoint gets its own signature, with its own secret.
    receiver.deliveries[0].verified(failures.secret)
    receiver.deliveries[1].verified(everything.secret)
    with pytest.raises(stripe.SignatureVerificationError):
        receiver.deliveries[1].verified(failures.secret)
    assert receiver.deliveries[0].event["pending_webhooks"] == 2


@pytest.mark.parametrize(
    "params",
    [
        {"enabled_events": ["*"]},
        {"url": "not a url", "enabled_events": ["*"]},
        {"url": "https://shop.example/hook"},
        {"url": "https://shop.example/hook", "enabled_events": ["Not An Event"]},
        {"url": "https://shop.example/hook", "enabled_events": ["*"], "connect": True},
    ],
)
def test_invalid_endpoint_params_are_400(
    client: stripe.StripeClient, params: dict[str, Any]
) -> None:
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.webhook_endpoints.create(params=params)

    assert caught.value.http_status == 400


# Fault knobs -----------------------------------------------------------------------------------


DEFAULT_KNOBS = {
    "webhook": "send",
    "delay_seconds": 0.0,
    "api": "ok",
    "timeout_seconds": 5.0,
    "api_fail_count": 0,
    "held": 0,
}


def test_control_endpoint_reads_sets_and_resets_knobs(stripe_url: str) -> None:
    url = f"{stripe_url}/_control/"

    assert httpx.get(url).json() == DEFAULT_KNOBS
    assert httpx.post(url, json={"webhook": "stale_timestamp"}).json() == {
        **DEFAULT_KNOBS,
        "webhook": "stale_timestamp",
    }
    assert knobs_get().webhook == "stale_timestamp"
    changed = {"delay_seconds": 0.5, "api": "error_500", "timeout_seconds": 1, "api_fail_count": 2}
    assert httpx.post(url, json=changed).json() == {
        **DEFAULT_KNOBS,
        "webhook": "stale_timestamp",
        **changed,
    }
    assert httpx.delete(url).json() == DEFAULT_KNOBS
    assert httpx.put(url).status_code == 405


@pytest.mark.parametrize(
    "body",
    [
        '{"webhook": "sometimes"}',
        '{"delay": 5}',
        "[]",
        "{",
        '{"webhook": 1}',
        '{"delay_seconds": -0.5}',
        '{"delay_seconds": "1"}',
        '{"api": "slow"}',
        '{"timeout_seconds": 100000}',
        '{"api_fail_count": -2}',
        '{"api_fail_count": true}',
    ],
)
def test_control_endpoint_rejects_bad_knobs(stripe_url: str, body: str) -> None:
    response = httpx.post(f"{stripe_url}/_control/", content=body)

    assert_error(response, 400)
    assert httpx.get(f"{stripe_url}/_control/").json() == DEFAULT_KNOBS


def test_knobs_can_be_set_from_python() -> None:
    assert knobs_set(webhook="duplicate").webhook == "duplicate"
    assert knobs_get().webhook == "duplicate"
    knobs = knobs_set(api="timeout", timeout_seconds=0.2, delay_seconds=3, api_fail_count=1)
    assert (knobs.webhook, knobs.api, knobs.timeout_seconds) == ("duplicate", "timeout", 0.2)
    assert (knobs.delay_seconds, knobs.api_fail_count) == (3.0, 1)
    assert knobs_reset().webhook == "send"
    assert knobs_get().api == "ok"
    with pytest.raises(ValueError, match="webhook must be one of"):
        knobs_set(webhook="sometimes")
    with pytest.raises(ValueError, match="api must be one of"):
        knobs_set(api="sometimes")


def test_drop_knob_settles_but_delivers_nothing(
    client: stripe.StripeClient, browser: httpx.Client, receiver: Receiver, endpoint: Endpoint
) -> None:
    knobs_set(webhook="drop")
    session = session_create(client)

    pay(browser, session)

    assert receiver.deliveries == []
    assert client.v1.checkout.sessions.retrieve(session.id).status == "complete"
    event = StripeEvent.objects.get()
    assert client.v1.events.retrieve(event.id).pending_webhooks == 1


def test_duplicate_knob_delivers_the_same_event_twice(
    client: stripe.StripeClient, browser: httpx.Client, receiver: Receiver, endpoint: Endpoint
) -> None:
    knobs_set(webhook="duplicate")

    pay(browser, session_create(client))

    assert len(receiver.deliveries) == 2
    first, second = receiver.deliveries
    assert first.body == second.body
    assert first.verified(endpoint.secret).id == second.verified(endpoint.secret).id


def test_bad_signature_knob_fails_verification(
    client: stripe.StripeClient, browser: httpx.Client, receiver: Receiver, endpoint: Endpoint
) -> None:
    knobs_set(webhook="bad_signature")

    pay(browser, session_create(client))

    delivery = receiver.deliveries[0]
    assert delivery.signature.startswith("t=")
    with pytest.raises(stripe.SignatureVerificationError):
        delivery.verified(endpoint.secret)


def test_stale_timestamp_knob_fails_verification_only_by_age(
    client: stripe.StripeClient, browser: httpx.Client, receiver: Receiver, endpoint: Endpoint
) -> None:
    knobs_set(webhook="stale_timestamp")

    pay(browser, session_create(client))

    delivery = receiver.deliveries[0]
    signed_at = int(delivery.signature.split(",")[0].removeprefix("t="))
    assert 590 <= int(time.time()) - signed_at <= 620
    with pytest.raises(stripe.SignatureVerificationError, match="tolerance"):
        delivery.verified(endpoint.secret)
    event = stripe.Webhook.construct_event(
        delivery.body, delivery.signature, endpoint.secret, tolerance=3600
    )
    assert event.type == "checkout.session.completed"


# Refunds ---------------------------------------------------------------------------------------


@pytest.fixture
def paid_intent(client: stripe.StripeClient, browser: httpx.Client, receiver: Receiver) -> str:
    session = session_create(client)
    pay(browser, session)
    receiver.deliveries.clear()
    return client.v1.checkout.sessions.retrieve(session.id).payment_intent


def test_partial_then_full_refund_then_nothing_left(
    client: stripe.StripeClient, receiver: Receiver, endpoint: Endpoint, paid_intent: str
) -> None:
    partial = client.v1.refunds.create(
        params={
            "payment_intent": paid_intent,
            "amount": 600,
            "reason": "requested_by_customer",
            "metadata": {"refund_id": "rf_1"},
        }
    )

    assert partial.object == "refund"
    assert partial.id.startswith("re_")
    assert partial.status == "succeeded"
    assert partial.amount == 600
    assert partial.currency == "sar"
    assert partial.payment_intent == paid_intent
    assert partial.reason == "requested_by_customer"
    assert partial.metadata.to_dict() == {"refund_id": "rf_1"}
    assert receiver.types() == ["charge.refunded", "refund.created"]
    charge = receiver.deliveries[0].verified(endpoint.secret).data.object
    assert charge.object == "charge"
    assert charge.id == partial.charge
    assert (charge.amount, charge.amount_refunded, charge.refunded) == (2100, 600, False)
    assert [refund.id for refund in charge.refunds.data] == [partial.id]
    assert receiver.deliveries[1].verified(endpoint.secret).data.object.id == partial.id

    rest = client.v1.refunds.create(params={"payment_intent": paid_intent})

    assert rest.amount == 1500
    charge = receiver.deliveries[2].event["data"]["object"]
    assert (charge["amount_refunded"], charge["refunded"]) == (2100, True)
    assert [refund["id"] for refund in charge["refunds"]["data"]] == [rest.id, partial.id]
    assert client.v1.refunds.retrieve(partial.id).amount == 600

    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.refunds.create(params={"payment_intent": paid_intent, "amount": 1})
    assert caught.value.http_status == 400
    assert caught.value.code == "charge_already_refunded"
    assert len(receiver.deliveries) == 4


def test_refunding_more_than_remains_is_refused(
    client: stripe.StripeClient, receiver: Receiver, endpoint: Endpoint, paid_intent: str
) -> None:
    client.v1.refunds.create(params={"payment_intent": paid_intent, "amount": 2000})

    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.refunds.create(params={"payment_intent": paid_intent, "amount": 101})

    assert caught.value.http_status == 400
    assert caught.value.code == "amount_too_large"
    assert caught.value.param == "amount"
    assert client.v1.refunds.create(params={"payment_intent": paid_intent}).amount == 100


def test_refund_by_charge_id(client: stripe.StripeClient, paid_intent: str) -> None:
    charge_id = client.v1.payment_intents.retrieve(paid_intent).latest_charge

    refund = client.v1.refunds.create(params={"charge": charge_id, "amount": 50})

    assert refund.charge == charge_id
    assert refund.payment_intent == paid_intent


PAID = "the paid intent"


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({}, 400),
        ({"payment_intent": "pi_nope"}, 404),
        ({"charge": "ch_nope"}, 404),
        ({"payment_intent": PAID, "amount": 0}, 400),
        ({"payment_intent": PAID, "amount": -1}, 400),
        ({"payment_intent": PAID, "amount": "1.5"}, 400),
        ({"payment_intent": PAID, "reason": "changed_mind"}, 400),
        ({"payment_intent": PAID, "charge": "ch_other"}, 400),
        ({"payment_intent": PAID, "currency": "sar"}, 400),
    ],
)
def test_invalid_refunds_are_refused(
    client: stripe.StripeClient, paid_intent: str, params: dict[str, Any], status: int
) -> None:
    params = {key: paid_intent if value == PAID else value for key, value in params.items()}

    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.refunds.create(params=params)

    assert caught.value.http_status == status


def test_an_unpaid_intent_cannot_be_refunded(
    client: stripe.StripeClient, browser: httpx.Client
) -> None:
    session = session_create(client)
    submit(browser, session.url, "decline")
    intent_id = client.v1.checkout.sessions.retrieve(session.id).payment_intent

    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.refunds.create(params={"payment_intent": intent_id})

    assert caught.value.http_status == 400
    assert caught.value.param == "payment_intent"


def test_concurrent_refunds_never_exceed_the_charge(
    client: stripe.StripeClient, paid_intent: str, stripe_url: str
) -> None:
    barrier = threading.Barrier(5)
    outcomes: list[int] = []

    def refund() -> None:
        own = client_for(stripe_url)
        barrier.wait()
        try:
            own.v1.refunds.create(params={"payment_intent": paid_intent, "amount": 1000})
            outcomes.append(200)
        except stripe.InvalidRequestError as exc:
            outcomes.append(exc.http_status or 0)

    threads = [threading.Thread(target=refund) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == [200, 200, 400, 400, 400]


# Secrets at rest and signing -------------------------------------------------------------------


def test_database_dump_holds_no_plaintext_keys_or_secrets(
    client: stripe.StripeClient, browser: httpx.Client, receiver: Receiver, endpoint: Endpoint
) -> None:
    session = client.v1.checkout.sessions.create(
        params=session_params(), options={"idempotency_key": "dump-check"}
    )
    pay(browser, session)
    intent_id = client.v1.checkout.sessions.retrieve(session.id).payment_intent
    client.v1.refunds.create(params={"payment_intent": intent_id, "amount": 100})
    assert len(receiver.deliveries) == 3

    database = connection.settings_dict
    command = ["pg_dump", "--data-only", "--no-owner", "--dbname", database["NAME"]]
    for option, key in (("--host", "HOST"), ("--port", "PORT")):
        if database.get(key):
            command += [option, str(database[key])]
    command += ["--username", database_owner()]  # the app role sees no tenant rows
    dump = subprocess.run(command, capture_output=True, check=True, text=True).stdout

    assert "sandbox_stripe_stripewebhookendpoint" in dump
    assert endpoint.id in dump
    assert "sk_test_" not in dump
    assert "whsec_" not in dump
    assert hashlib.sha256(SECRET.encode()).hexdigest() in dump


def test_signature_header_matches_stripes_formula_and_official_helper() -> None:
    payload = b'{"id": "evt_1", "object": "event"}'
    secret = "whsec_test_secret"

    header = stripe_signature_header(payload, secret, timestamp=1_700_000_000)

    expected = hmac.new(secret.encode(), b"1700000000." + payload, hashlib.sha256).hexdigest()
    assert header == f"t=1700000000,v1={expected}"
    now_header = stripe_signature_header(payload, secret)
    assert stripe.Webhook.construct_event(payload, now_header, secret).id == "evt_1"
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(payload, header, secret)  # far outside the tolerance


# Dashboard refunds -----------------------------------------------------------------------------

SESSION_FORM = (
    "mode=payment&success_url=https%3A%2F%2Fshop.example%2Fdone"
    "&line_items[0][price_data][currency]=sar&line_items[0][price_data][unit_amount]=1000"
    "&line_items[0][price_data][product_data][name]=Item&line_items[0][quantity]=1"
)
FORM_HEADERS = {"Content-Type": "application/x-www-form-urlencoded"}


def wait_for(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.05)


@pytest.mark.parametrize("by", ["payment_intent", "checkout_session"])
def test_dashboard_refund_sends_the_same_verified_events_as_the_api(
    client: stripe.StripeClient,
    browser: httpx.Client,
    receiver: Receiver,
    endpoint: Endpoint,
    stripe_url: str,
    by: str,
) -> None:
    session = session_create(client)
    pay(browser, session)
    receiver.deliveries.clear()
    intent_id = client.v1.checkout.sessions.retrieve(session.id).payment_intent
    payment = intent_id if by == "payment_intent" else session.id

    response = httpx.post(
        f"{stripe_url}/_control/dashboard_refund", json={"payment": payment, "amount": "6.00"}
    )

    assert response.status_code == 200, response.text
    refund = response.json()
    assert refund["object"] == "refund"
    assert refund["id"].startswith("re_")
    assert (refund["amount"], refund["currency"], refund["status"]) == (600, "sar", "succeeded")
    assert refund["payment_intent"] == intent_id
    assert receiver.types() == ["charge.refunded", "refund.created"]
    charge = receiver.deliveries[0].verified(endpoint.secret).data.object
    assert (charge.amount_refunded, charge.refunded) == (600, False)
    created = receiver.deliveries[1].verified(endpoint.secret)
    assert created.data.object.id == refund["id"]
    assert client.v1.refunds.retrieve(refund["id"]).amount == 600

    rest = dashboard_refund(payment)

    assert rest["amount"] == 1500
    assert receiver.types()[2:] == ["charge.refunded", "refund.created"]
    charge = receiver.deliveries[2].verified(endpoint.secret).data.object
    assert (charge.amount_refunded, charge.refunded) == (2100, True)
    with pytest.raises(StripeApiError) as caught:
        dashboard_refund(payment, Decimal("1"))
    assert caught.value.status == 400


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"payment": "pi_nope"}, 404),
        ({"payment": "cs_test_nope"}, 404),
        ({"payment": "ch_nope"}, 404),
        ({"payment": "PAID", "amount": "21.01"}, 400),
        ({"payment": "PAID", "amount": "0.001"}, 400),
        ({"payment": "PAID", "amount": "0"}, 400),
        ({"payment": "PAID", "amount": "1e3"}, 400),
        ({"payment": "PAID", "amount": 5.5}, 400),
        ({}, 400),
        ({"payment": "PAID", "reason": "fraudulent"}, 400),
    ],
)
def test_dashboard_refund_refusals(
    stripe_url: str, paid_intent: str, body: dict[str, Any], status: int
) -> None:
    body = {key: paid_intent if value == "PAID" else value for key, value in body.items()}

    response = httpx.post(f"{stripe_url}/_control/dashboard_refund", json=body)

    assert_error(response, status)
    assert StripeRefund.objects.count() == 0


def test_dashboard_refund_of_an_unpaid_session_is_refused(
    client: stripe.StripeClient, stripe_url: str
) -> None:
    session = session_create(client)

    response = httpx.post(f"{stripe_url}/_control/dashboard_refund", json={"payment": session.id})

    assert_error(response, 400)


# Hold and flush --------------------------------------------------------------------------------


def test_hold_keeps_events_until_a_reverse_flush(
    client: stripe.StripeClient,
    browser: httpx.Client,
    receiver: Receiver,
    endpoint: Endpoint,
    stripe_url: str,
) -> None:
    knobs_set(webhook="hold")
    session = session_create(client)
    pay(browser, session)
    refund = dashboard_refund(session.id, Decimal("5.00"))

    assert receiver.deliveries == []
    assert httpx.get(f"{stripe_url}/_control/").json()["held"] == 3
    assert client.v1.checkout.sessions.retrieve(session.id).status == "complete"

    flushed = httpx.post(f"{stripe_url}/_control/flush", json={"order": "reverse"})

    assert flushed.status_code == 200, flushed.text
    assert flushed.json() == {"sent": 3}
    assert receiver.types() == ["refund.created", "charge.refunded", "checkout.session.completed"]
    events = [delivery.verified(endpoint.secret) for delivery in receiver.deliveries]
    assert events[0].data.object.id == refund["id"]
    assert events[2].data.object.id == session.id
    assert StripeHeldEvent.objects.count() == 0
    assert httpx.post(f"{stripe_url}/_control/flush").json() == {"sent": 0}


def test_flush_forward_with_duplicates_delivers_each_event_twice(
    client: stripe.StripeClient, browser: httpx.Client, receiver: Receiver, endpoint: Endpoint
) -> None:
    knobs_set(webhook="hold")
    session = session_create(client)
    pay(browser, session)
    intent_id = client.v1.checkout.sessions.retrieve(session.id).payment_intent
    client.v1.refunds.create(params={"payment_intent": intent_id, "amount": 100})

    assert flush(order="forward", duplicate=True) == 6

    assert receiver.types() == [
        "checkout.session.completed",
        "checkout.session.completed",
        "charge.refunded",
        "charge.refunded",
        "refund.created",
        "refund.created",
    ]
    first, second = receiver.deliveries[:2]
    assert first.body == second.body
    assert first.verified(endpoint.secret).id == second.verified(endpoint.secret).id


@pytest.mark.parametrize("body", ['{"order": "backwards"}', '{"duplicate": 1}', '{"x": 1}'])
def test_flush_refuses_bad_parameters(stripe_url: str, body: str) -> None:
    assert_error(httpx.post(f"{stripe_url}/_control/flush", content=body), 400)


def test_reset_discards_held_events(
    client: stripe.StripeClient,
    browser: httpx.Client,
    receiver: Receiver,
    endpoint: Endpoint,
    stripe_url: str,
) -> None:
    knobs_set(webhook="hold")
    pay(browser, session_create(client))

    assert httpx.delete(f"{stripe_url}/_control/").json() == DEFAULT_KNOBS

    assert flush() == 0
    assert receiver.deliveries == []


# Delayed delivery ------------------------------------------------------------------------------


def test_delayed_events_arrive_later_in_order_without_holding_up_the_caller(
    client: stripe.StripeClient, browser: httpx.Client, receiver: Receiver, endpoint: Endpoint
) -> None:
    session = session_create(client)
    knobs_set(delay_seconds=1.0)

    started = time.monotonic()
    response = pay(browser, session)

    assert time.monotonic() - started < 0.9
    assert response.headers["location"] == success_location(session.id)
    assert receiver.deliveries == []
    wait_for(lambda: len(receiver.deliveries) == 1)
    assert receiver.deliveries[0].verified(endpoint.secret).type == "checkout.session.completed"

    intent_id = client.v1.checkout.sessions.retrieve(session.id).payment_intent
    client.v1.refunds.create(params={"payment_intent": intent_id, "amount": 100})

    assert len(receiver.deliveries) == 1
    wait_for(lambda: len(receiver.deliveries) == 3)
    assert receiver.types()[1:] == ["charge.refunded", "refund.created"]
    assert all(delivery.verified(endpoint.secret) for delivery in receiver.deliveries)


# API faults ------------------------------------------------------------------------------------


def test_api_error_500_changes_nothing(
    raw: httpx.Client, stripe_url: str, paid_intent: str
) -> None:
    knobs_set(api="error_500")

    created = raw.post("/v1/checkout/sessions", content=SESSION_FORM, headers=FORM_HEADERS)
    refunded = raw.post("/v1/refunds", data={"payment_intent": paid_intent})
    fetched = raw.get(f"/v1/payment_intents/{paid_intent}")

    for response in (created, refunded, fetched):
        assert_error(response, 500, type="api_error")
        assert response.headers["request-id"].startswith("req_")
    assert StripeCheckoutSession.objects.count() == 1
    assert StripeRefund.objects.count() == 0
    assert httpx.get(f"{stripe_url}/_control/").status_code == 200


def test_the_sdk_gives_up_on_a_lasting_500(stripe_url: str) -> None:
    knobs_set(api="error_500")
    client = stripe.StripeClient(SECRET, base_addresses={"api": stripe_url}, max_network_retries=1)

    with pytest.raises(stripe.APIError) as caught:
        session_create(client)

    assert caught.value.http_status == 500
    assert StripeCheckoutSession.objects.count() == 0


def test_api_fail_count_lets_the_sdk_retry_succeed_once(stripe_url: str) -> None:
    knobs_set(api="error_500", api_fail_count=1)
    client = stripe.StripeClient(SECRET, base_addresses={"api": stripe_url}, max_network_retries=2)

    session = session_create(client)

    assert StripeCheckoutSession.objects.get().id == session.id
    knobs = knobs_get()
    assert (knobs.api, knobs.api_fail_count) == ("ok", 0)


def test_api_fail_count_fails_only_the_next_calls(raw: httpx.Client) -> None:
    knobs_set(api="error_500", api_fail_count=2)

    statuses = [
        raw.post("/v1/checkout/sessions", content=SESSION_FORM, headers=FORM_HEADERS).status_code
        for _ in range(3)
    ]

    assert statuses == [500, 500, 200]
    assert StripeCheckoutSession.objects.count() == 1


def test_api_timeout_creates_the_session_after_the_client_gave_up(stripe_url: str) -> None:
    knobs_set(api="timeout", timeout_seconds=1.5)

    with pytest.raises(httpx.ReadTimeout):
        httpx.post(
            f"{stripe_url}/v1/checkout/sessions",
            content=SESSION_FORM,
            headers={**FORM_HEADERS, "Authorization": f"Bearer {SECRET}"},
            timeout=0.5,
        )

    assert StripeCheckoutSession.objects.count() == 0
    wait_for(lambda: StripeCheckoutSession.objects.count() == 1)
    knobs_reset()
    session_id = StripeCheckoutSession.objects.get().id
    assert client_for(stripe_url).v1.checkout.sessions.retrieve(session_id).status == "open"


def test_api_timeout_then_sdk_retry_with_the_same_key_makes_one_session(
    stripe_url: str,
) -> None:
    knobs_set(api="timeout", timeout_seconds=1.0, api_fail_count=1)
    http_client = stripe.RequestsClient(timeout=0.4)
    client = stripe.StripeClient(
        SECRET, base_addresses={"api": stripe_url}, max_network_retries=2, http_client=http_client
    )
    started = time.monotonic()

    session = client.v1.checkout.sessions.create(
        params=session_params(), options={"idempotency_key": "retry-after-timeout"}
    )

    # Let the abandoned first request finish too: it creates the session or replays the retry's.
    time.sleep(max(0.0, started + 1.6 - time.monotonic()))
    assert StripeCheckoutSession.objects.get().id == session.id
    assert StripeIdempotencyKey.objects.get().status_code == 200
    assert StripeCharge.objects.count() == 0
