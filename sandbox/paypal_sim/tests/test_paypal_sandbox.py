"""The PayPal simulator over real HTTP: OAuth, orders, the hosted page, captures, refunds, webhooks
and fault knobs.

Everything is driven with httpx against `live_server`; webhooks land on a tiny `http.server`
receiver running in a thread, exactly as a merchant endpoint would receive them, and are verified
offline the way PayPal documents it (certificate from PAYPAL-CERT-URL, CRC32 of the raw body) and
through the verify-webhook-signature API.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import subprocess
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from django.db import connection
from django.utils import timezone

from sandbox.paypal_sim.errors import PayPalApiError
from sandbox.paypal_sim.jsonfmt import dumps_bytes
from sandbox.paypal_sim.knobs import knobs_get, knobs_reset, knobs_set
from sandbox.paypal_sim.models import (
    PaypalAccessToken,
    PaypalCapture,
    PaypalHeldEvent,
    PaypalOrder,
    PaypalRefund,
    PaypalWebhookDelivery,
    PaypalWebhookEvent,
)
from sandbox.paypal_sim.services import dashboard_refund, flush
from sandbox.paypal_sim.signing import certificate_path, certificate_pem, sign_headers
from testsupport.database import database_owner

pytestmark = pytest.mark.django_db(transaction=True)

CLIENT_ID = "AeA1QIZXiflr1_-r0U2UbWTziOWX1GRQer5jkUq4ZfWT5qwb6qQRPq7jDtv57TL4POEEezGLdutcxnkJ"
SECRET = "EGnHDxD_qRPdaLdZz8iCr8N7_MzF-YHPTkjs6NKYQvQSBngp4PTTVWkPZRbL"
OTHER_CLIENT_ID = "AZ-other-merchant-client-id-0002"
OTHER_SECRET = "EO-other-merchant-secret-0002"
RETURN_URL = "https://shop.example/paypal/return?order=ord_0001&lang=ar"
CANCEL_URL = "https://shop.example/paypal/cancel?order=ord_0001"
FIXTURES = Path("/work/shared/fixtures/paypal")
PAYPAL_ID = re.compile(r"[A-Z0-9]{17}")
ISO_SECONDS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def decimal_json(data: bytes | str) -> Any:
    return json.loads(data, parse_float=Decimal)


# Webhook receiver ------------------------------------------------------------------------------


@dataclass
class Delivery:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def event(self) -> dict[str, Any]:
        return decimal_json(self.body)


@dataclass
class Receiver:
    url: str
    status: int = 200
    deliveries: list[Delivery] = field(default_factory=list)

    def events(self) -> list[str]:
        return [delivery.event["event_type"] for delivery in self.deliveries]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            headers = {name.lower(): value for name, value in self.headers.items()}
            # Recorded before answering: the sandbox waits for the answer, so once the API call
            # or the hosted page has answered, the delivery is already in the list.
            state.deliveries.append(Delivery(self.path, headers, body))
            self.send_response(state.status)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/webhooks/paypal"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


# API helpers -----------------------------------------------------------------------------------


@pytest.fixture
def paypal_url(live_server: Any) -> str:
    return f"{live_server.url}/sandbox/paypal"


def basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def token_request(paypal_url: str, authorization: str | None, **form: str) -> httpx.Response:
    headers = {} if authorization is None else {"Authorization": authorization}
    data = form or {"grant_type": "client_credentials"}
    return httpx.post(f"{paypal_url}/v1/oauth2/token", data=data, headers=headers)


def access_token(paypal_url: str, client_id: str = CLIENT_ID, secret: str = SECRET) -> str:
    response = token_request(paypal_url, basic(client_id, secret))
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def client_for(paypal_url: str, token: str) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token}"}
    return httpx.Client(base_url=paypal_url, headers=headers, timeout=30, trust_env=False)


@pytest.fixture
def api(paypal_url: str) -> Iterator[httpx.Client]:
    with client_for(paypal_url, access_token(paypal_url)) as client:
        yield client


@pytest.fixture
def other_api(paypal_url: str) -> Iterator[httpx.Client]:
    with client_for(paypal_url, access_token(paypal_url, OTHER_CLIENT_ID, OTHER_SECRET)) as client:
        yield client


@pytest.fixture
def browser() -> Iterator[httpx.Client]:
    """The payer's browser: no token, redirects inspected one by one."""
    with httpx.Client(timeout=30, trust_env=False, follow_redirects=False) as client:
        yield client


@pytest.fixture
def webhook_id(api: httpx.Client, receiver: Receiver) -> str:
    """The merchant's webhook, subscribed to every event, pointing at the receiver."""
    response = api.post(
        "/v1/notifications/webhooks", json={"url": receiver.url, "event_types": [{"name": "*"}]}
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def order_body(**unit_overrides: Any) -> dict[str, Any]:
    unit: dict[str, Any] = {
        "reference_id": "ord_0001",
        "custom_id": "att_0001",
        "invoice_id": "INV-0001",
        "description": "Order ord_0001 at Wasla Shop",
        "amount": {"currency_code": "SAR", "value": "10.00"},
    }
    unit.update(unit_overrides)
    return {
        "intent": "CAPTURE",
        "purchase_units": [unit],
        "payment_source": {
            "paypal": {
                "experience_context": {
                    "return_url": RETURN_URL,
                    "cancel_url": CANCEL_URL,
                    "user_action": "PAY_NOW",
                    "shipping_preference": "NO_SHIPPING",
                }
            }
        },
    }


def create(api: httpx.Client, body: dict[str, Any] | None = None, **headers: str) -> dict[str, Any]:
    response = api.post("/v2/checkout/orders", json=body or order_body(), headers=headers)
    assert response.status_code == 201, response.text
    return decimal_json(response.content)


def fetch(api: httpx.Client, path: str) -> dict[str, Any]:
    response = api.get(path)
    assert response.status_code == 200, response.text
    return decimal_json(response.content)


def links(resource: dict[str, Any]) -> dict[str, dict[str, str]]:
    return {link["rel"]: link for link in resource["links"]}


def checkout_url(order: dict[str, Any]) -> str:
    found = links(order)
    return (found.get("payer-action") or found["approve"])["href"]


def submit(browser: httpx.Client, order: dict[str, Any], outcome: str) -> httpx.Response:
    return browser.post(checkout_url(order), data={"outcome": outcome})


def capture(api: httpx.Client, order_id: str, request_id: str | None = None) -> httpx.Response:
    headers = {"PayPal-Request-Id": request_id} if request_id else {}
    return api.post(f"/v2/checkout/orders/{order_id}/capture", json={}, headers=headers)


def refund(
    api: httpx.Client, capture_id: str, body: dict[str, Any] | None = None, request_id: str = ""
) -> httpx.Response:
    headers = {"PayPal-Request-Id": request_id} if request_id else {}
    path = f"/v2/payments/captures/{capture_id}/refund"
    if body is None:
        return api.post(path, headers=headers)
    return api.post(path, json=body, headers=headers)


def paid_order(api: httpx.Client, browser: httpx.Client, **unit: Any) -> dict[str, Any]:
    """An order approved on the hosted page and captured; returns its capture."""
    order = create(api, order_body(**unit))
    submit(browser, order, "succeed")
    response = capture(api, order["id"])
    assert response.status_code == 201, response.text
    return decimal_json(response.content)["purchase_units"][0]["payments"]["captures"][0]


def assert_paypal_error(response: httpx.Response, status: int, issue: str | None = None) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    names = {
        400: "INVALID_REQUEST",
        401: "AUTHENTICATION_FAILURE",
        404: "RESOURCE_NOT_FOUND",
        405: "METHOD_NOT_SUPPORTED",
        422: "UNPROCESSABLE_ENTITY",
    }
    assert body["name"] == names[status]
    assert body["message"]
    assert re.fullmatch(r"[0-9a-f]{13}", body["debug_id"])
    assert len(body["details"]) == 1
    assert body["details"][0]["description"]
    if issue is not None:
        assert body["details"][0]["issue"] == issue
    assert body["links"][0]["rel"] == "information_link"


# Signature checks ------------------------------------------------------------------------------


def signed_message(delivery: Delivery, webhook_id: str) -> bytes:
    """What PayPal signs, built exactly as its docs say: CRC32 of the raw body, in decimal."""
    headers = delivery.headers
    crc = zlib.crc32(delivery.body) & 0xFFFFFFFF
    return (
        f"{headers['paypal-transmission-id']}|{headers['paypal-transmission-time']}|"
        f"{webhook_id}|{crc}"
    ).encode()


def verifies_with(delivery: Delivery, webhook_id: str, pem: bytes) -> bool:
    public_key = x509.load_pem_x509_certificate(pem).public_key()
    assert isinstance(public_key, rsa.RSAPublicKey)
    signature = base64.b64decode(delivery.headers["paypal-transmission-sig"])
    try:
        public_key.verify(
            signature, signed_message(delivery, webhook_id), padding.PKCS1v15(), hashes.SHA256()
        )
    except InvalidSignature:
        return False
    return True


def verifies_offline(delivery: Delivery, webhook_id: str) -> bool:
    """Download the certificate from PAYPAL-CERT-URL and check the signature with it."""
    assert delivery.headers["paypal-auth-algo"] == "SHA256withRSA"
    certificate = httpx.get(delivery.headers["paypal-cert-url"], trust_env=False)
    assert certificate.status_code == 200
    return verifies_with(delivery, webhook_id, certificate.content)


def verification_status(api: httpx.Client, delivery: Delivery, webhook_id: str) -> str:
    """Ask verify-webhook-signature, sending the event parsed, as a real integration does."""
    headers = delivery.headers
    response = api.post(
        "/v1/notifications/verify-webhook-signature",
        json={
            "auth_algo": headers["paypal-auth-algo"],
            "cert_url": headers["paypal-cert-url"],
            "transmission_id": headers["paypal-transmission-id"],
            "transmission_sig": headers["paypal-transmission-sig"],
            "transmission_time": headers["paypal-transmission-time"],
            "webhook_id": webhook_id,
            "webhook_event": json.loads(delivery.body),
        },
    )
    assert response.status_code == 200, response.text
    return str(response.json()["verification_status"])


def assert_genuine(api: httpx.Client, delivery: Delivery, webhook_id: str) -> None:
    headers = delivery.headers
    assert headers["content-type"] == "application/json"
    assert UUID.fullmatch(headers["paypal-transmission-id"])
    assert ISO_SECONDS.fullmatch(headers["paypal-transmission-time"])
    assert verifies_offline(delivery, webhook_id)
    assert verification_status(api, delivery, webhook_id) == "SUCCESS"


def assert_envelope(event: dict[str, Any], event_type: str, resource_type: str) -> None:
    assert list(event) == [
        "id",
        "event_version",
        "create_time",
        "resource_type",
        "resource_version",
        "event_type",
        "summary",
        "resource",
        "links",
    ]
    assert re.fullmatch(r"WH-[A-Z0-9]{17}-[A-Z0-9]{17}", event["id"])
    assert event["event_version"] == "1.0"
    assert event["resource_version"] == "2.0"
    assert event["event_type"] == event_type
    assert event["resource_type"] == resource_type
    assert ISO_SECONDS.fullmatch(event["create_time"])
    assert event["summary"]
    assert {link["rel"] for link in event["links"]} == {"self", "resend"}


# Hosted page helpers ---------------------------------------------------------------------------


@dataclass
class Form:
    method: str
    buttons: list[dict[str, str]] = field(default_factory=list)


class FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []
        self._open: Form | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        if tag == "form":
            self._open = Form(method=attributes.get("method", "get").lower())
            self.forms.append(self._open)
        elif tag == "button" and self._open is not None:
            self._open.buttons.append(attributes)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._open = None


def forms_of(html: str) -> list[Form]:
    parser = FormParser()
    parser.feed(html)
    return parser.forms


def assert_outcome_form(html: str) -> None:
    forms = forms_of(html)
    assert len(forms) == 1
    assert forms[0].method == "post"
    outcomes = {(b.get("name"), b.get("value"), b.get("id")) for b in forms[0].buttons}
    assert outcomes == {
        ("outcome", "succeed", "pay-succeed"),
        ("outcome", "decline", "pay-decline"),
        ("outcome", "cancel", "pay-cancel"),
    }
    assert all(b.get("type", "submit") == "submit" for b in forms[0].buttons)


def assert_returned(response: httpx.Response, order_id: str) -> str:
    """The redirect to return_url with token and PayerID appended; returns the PayerID."""
    assert response.status_code == 302, response.text
    location = urlsplit(response.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == RETURN_URL.split("?")[0]
    query = parse_qs(location.query)
    assert query.pop("PayerID")[0]
    assert query == {"order": ["ord_0001"], "lang": ["ar"], "token": [order_id]}
    return parse_qs(location.query)["PayerID"][0]


# OAuth -----------------------------------------------------------------------------------------


def test_token_is_issued_to_a_new_client_and_again_to_the_same_pair(paypal_url: str) -> None:
    response = token_request(paypal_url, basic(CLIENT_ID, SECRET))

    assert response.status_code == 200, response.text
    body = response.json()
    assert list(body) == ["scope", "access_token", "token_type", "app_id", "expires_in", "nonce"]
    assert body["access_token"].startswith("A21AA")
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 32400
    assert re.fullmatch(r"APP-[A-Z0-9]{17}", body["app_id"])
    assert "https://uri.paypal.com/services/payments/refund" in body["scope"].split()
    assert body["nonce"]
    again = token_request(paypal_url, basic(CLIENT_ID, SECRET)).json()
    assert again["access_token"] != body["access_token"]
    assert again["app_id"] == body["app_id"]
    control = httpx.get(f"{paypal_url}/_control/").json()
    assert control["token_requests"] == {CLIENT_ID: 2}


def test_a_known_client_id_with_another_secret_is_an_invalid_client(paypal_url: str) -> None:
    access_token(paypal_url)

    response = token_request(paypal_url, basic(CLIENT_ID, "EWrong-secret"))

    assert response.status_code == 401
    assert response.json() == {
        "error": "invalid_client",
        "error_description": "Client Authentication failed",
    }


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Bearer A21AAabc",
        "Basic",
        "Basic !!!not-base64!!!",
        "Basic " + base64.b64encode(b"no-colon-here").decode(),
        "Basic " + base64.b64encode(b"client-id-only:").decode(),
        "Basic " + base64.b64encode(b":secret-only").decode(),
        "Basic " + base64.b64encode(b"\xff\xfe:\xfd").decode(),
    ],
)
def test_token_without_usable_basic_credentials_is_401(
    paypal_url: str, authorization: str | None
) -> None:
    response = token_request(paypal_url, authorization)

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert httpx.get(f"{paypal_url}/_control/").json()["token_requests"] == {}


@pytest.mark.parametrize(
    "form", [{"grant_type": "password"}, {"grant_type": ""}, {"scope": "openid"}]
)
def test_token_with_a_bad_grant_type_is_400(paypal_url: str, form: dict[str, str]) -> None:
    response = token_request(paypal_url, basic(CLIENT_ID, SECRET), **form)

    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_grant_type"


def test_token_grant_type_must_be_a_form_field(paypal_url: str) -> None:
    response = httpx.post(
        f"{paypal_url}/v1/oauth2/token",
        json={"grant_type": "client_credentials"},
        headers={"Authorization": basic(CLIENT_ID, SECRET)},
    )

    assert response.status_code == 400
    assert response.json() == {
        "error": "unsupported_grant_type",
        "error_description": "Grant Type is NULL",
    }


def test_token_endpoint_is_post_only(paypal_url: str) -> None:
    response = httpx.get(f"{paypal_url}/v1/oauth2/token")

    assert response.status_code == 405
    assert response.headers["allow"] == "POST"


@pytest.mark.parametrize(
    "authorization", [None, "Bearer", "Bearer A21AAunknown-token", "Basic Zm9vOmJhcg==", "A21AA"]
)
def test_api_calls_need_a_live_bearer_token(paypal_url: str, authorization: str | None) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}

    response = httpx.post(f"{paypal_url}/v2/checkout/orders", json=order_body(), headers=headers)

    assert_paypal_error(response, 401, "INVALID_TOKEN")
    assert PaypalOrder.objects.count() == 0


def test_an_expired_token_is_refused(api: httpx.Client) -> None:
    PaypalAccessToken.objects.update(expires_at=timezone.now())

    assert_paypal_error(api.post("/v2/checkout/orders", json=order_body()), 401)


def test_one_token_serves_many_calls_and_is_counted_once(
    api: httpx.Client, paypal_url: str
) -> None:
    for _ in range(3):
        create(api)

    assert httpx.get(f"{paypal_url}/_control/").json()["token_requests"] == {CLIENT_ID: 1}


# Orders ----------------------------------------------------------------------------------------


def test_create_returns_an_order_awaiting_the_payer(api: httpx.Client, paypal_url: str) -> None:
    order = create(api)

    assert PAYPAL_ID.fullmatch(order["id"])
    assert order["status"] == "PAYER_ACTION_REQUIRED"
    assert order["intent"] == "CAPTURE"
    assert order["payment_source"] == {"paypal": {}}
    unit = order["purchase_units"][0]
    assert len(order["purchase_units"]) == 1
    assert {k: unit[k] for k in ("reference_id", "custom_id", "invoice_id", "description")} == {
        "reference_id": "ord_0001",
        "custom_id": "att_0001",
        "invoice_id": "INV-0001",
        "description": "Order ord_0001 at Wasla Shop",
    }
    assert unit["amount"] == {"currency_code": "SAR", "value": "10.00"}
    assert unit["payee"]["email_address"]
    assert ISO_SECONDS.fullmatch(order["create_time"])
    assert order["links"] == [
        {"href": f"{paypal_url}/v2/checkout/orders/{order['id']}", "rel": "self", "method": "GET"},
        {
            "href": f"{paypal_url}/checkoutnow/{order['id']}/",
            "rel": "payer-action",
            "method": "GET",
        },
    ]
    assert fetch(api, f"/v2/checkout/orders/{order['id']}") == order


def test_legacy_application_context_gets_an_approve_link(
    api: httpx.Client, paypal_url: str
) -> None:
    body = order_body()
    del body["payment_source"]
    body["application_context"] = {"return_url": RETURN_URL, "cancel_url": CANCEL_URL}

    order = create(api, body)

    # Like PayPal: an application_context order starts CREATED, not PAYER_ACTION_REQUIRED.
    assert order["status"] == "CREATED"
    assert "payment_source" not in order
    found = links(order)
    assert "payer-action" not in found
    assert found["approve"]["href"] == f"{paypal_url}/checkoutnow/{order['id']}/"
    assert found["capture"]["method"] == "POST"


def test_prefer_return_minimal_gives_the_short_form(api: httpx.Client) -> None:
    order = create(api, None, Prefer="return=minimal")

    assert list(order) == ["id", "status", "payment_source", "links"]


@pytest.mark.parametrize(
    ("currency", "value", "echoed"),
    [
        ("SAR", "10.5", "10.50"),
        ("KWD", "1.500", "1.500"),
        ("KWD", "2", "2.000"),
        ("JPY", "1000", "1000"),
        ("USD", "0.01", "0.01"),
    ],
)
def test_amounts_are_exact_decimal_strings_per_currency(
    api: httpx.Client, currency: str, value: str, echoed: str
) -> None:
    order = create(api, order_body(amount={"currency_code": currency, "value": value}))

    assert order["purchase_units"][0]["amount"] == {"currency_code": currency, "value": echoed}


def test_paypal_request_id_replays_the_original_order(
    api: httpx.Client, other_api: httpx.Client
) -> None:
    first = api.post("/v2/checkout/orders", json=order_body(), headers={"PayPal-Request-Id": "r1"})
    again = api.post("/v2/checkout/orders", json=order_body(), headers={"PayPal-Request-Id": "r1"})
    other_key = api.post(
        "/v2/checkout/orders", json=order_body(), headers={"PayPal-Request-Id": "r2"}
    )
    other_account = other_api.post(
        "/v2/checkout/orders", json=order_body(), headers={"PayPal-Request-Id": "r1"}
    )

    assert first.status_code == again.status_code == 201
    assert again.content == first.content
    assert other_key.json()["id"] != first.json()["id"]
    assert other_account.json()["id"] != first.json()["id"]
    assert PaypalOrder.objects.count() == 3


def test_concurrent_creates_with_one_request_id_make_one_order(api: httpx.Client) -> None:
    barrier = threading.Barrier(6)
    bodies: list[bytes] = []
    token = api.headers["Authorization"]

    def post() -> None:
        barrier.wait()
        response = httpx.post(
            f"{api.base_url}v2/checkout/orders",
            json=order_body(),
            headers={"Authorization": token, "PayPal-Request-Id": "same-request"},
            timeout=30,
        )
        bodies.append(response.content)

    threads = [threading.Thread(target=post) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(set(bodies)) == 1
    assert PaypalOrder.objects.count() == 1


def _raw(body: dict[str, Any]) -> str:
    return json.dumps(body)


def _without(key: str) -> str:
    body = order_body()
    del body[key]
    return _raw(body)


def _context(**changes: Any) -> str:
    body = order_body()
    context = body["payment_source"]["paypal"]["experience_context"]
    context.update(changes)
    return _raw({**body, "payment_source": {"paypal": {"experience_context": context}}})


def _amount(value: Any, currency: Any = "SAR") -> str:
    return _raw(order_body(amount={"currency_code": currency, "value": value}))


INVALID_ORDERS: dict[str, tuple[str | bytes, int, str]] = {
    "malformed json": ('{"intent": "CAPTURE", ', 400, "MALFORMED_REQUEST_JSON"),
    "not an object": ("[1, 2]", 400, "MALFORMED_REQUEST_JSON"),
    "empty body": ("", 400, "MALFORMED_REQUEST_JSON"),
    "not utf-8": (b'{"intent": "CAPTURE\xff"}', 400, "MALFORMED_REQUEST_JSON"),
    "missing intent": (_without("intent"), 400, "MISSING_REQUIRED_PARAMETER"),
    "authorize intent": (
        _raw({**order_body(), "intent": "AUTHORIZE"}),
        400,
        "INVALID_PARAMETER_VALUE",
    ),
    "numeric intent": (_raw({**order_body(), "intent": 1}), 400, "INVALID_PARAMETER_VALUE"),
    "missing purchase units": (_without("purchase_units"), 400, "MISSING_REQUIRED_PARAMETER"),
    "empty purchase units": (
        _raw({**order_body(), "purchase_units": []}),
        400,
        "INVALID_ARRAY_MIN_ITEMS",
    ),
    "two purchase units": (
        _raw({**order_body(), "purchase_units": order_body()["purchase_units"] * 2}),
        400,
        "INVALID_ARRAY_MAX_ITEMS",
    ),
    "purchase unit not an object": (
        _raw({**order_body(), "purchase_units": ["x"]}),
        400,
        "INVALID_PARAMETER_SYNTAX",
    ),
    "missing amount": (
        _raw({**order_body(), "purchase_units": [{"reference_id": "x"}]}),
        400,
        "MISSING_REQUIRED_PARAMETER",
    ),
    "numeric value": (_amount(10), 400, "INVALID_PARAMETER_SYNTAX"),
    "float value": (_amount(10.5), 400, "INVALID_PARAMETER_SYNTAX"),
    "boolean value": (_amount(True), 400, "INVALID_PARAMETER_SYNTAX"),
    "null value": (_amount(None), 400, "MISSING_REQUIRED_PARAMETER"),
    "exponent value": (_amount("1e3"), 400, "INVALID_PARAMETER_SYNTAX"),
    "NaN value": (_amount("NaN"), 400, "INVALID_PARAMETER_SYNTAX"),
    "comma value": (_amount("10,00"), 400, "INVALID_PARAMETER_SYNTAX"),
    "padded value": (_amount(" 10.00"), 400, "INVALID_PARAMETER_SYNTAX"),
    "very long value": (_amount("1" * 40), 400, "INVALID_PARAMETER_SYNTAX"),
    "too large value": (_amount("1" * 20), 400, "INVALID_PARAMETER_VALUE"),
    "negative value": (_amount("-1.00"), 422, "CANNOT_BE_ZERO_OR_NEGATIVE"),
    "zero value": (_amount("0.00"), 422, "CANNOT_BE_ZERO_OR_NEGATIVE"),
    "over-precise SAR": (_amount("10.001"), 422, "DECIMAL_PRECISION"),
    "over-precise KWD": (_amount("1.0005", "KWD"), 422, "DECIMAL_PRECISION"),
    "fractional JPY": (_amount("100.5", "JPY"), 422, "DECIMAL_PRECISION"),
    "lowercase currency": (_amount("10.00", "sar"), 400, "INVALID_PARAMETER_SYNTAX"),
    "numeric currency": (_amount("10.00", 682), 400, "INVALID_PARAMETER_SYNTAX"),
    "unsupported currency": (_amount("10.00", "XYZ"), 422, "CURRENCY_NOT_SUPPORTED"),
    "long description": (
        _raw(order_body(description="x" * 128)),
        400,
        "INVALID_STRING_LENGTH",
    ),
    "numeric custom_id": (_raw(order_body(custom_id=7)), 400, "INVALID_PARAMETER_SYNTAX"),
    "nul in description": (
        _raw(order_body(description="a\u0000b")),
        400,
        "INVALID_PARAMETER_SYNTAX",
    ),
    "lone surrogate": (
        _raw(order_body(description="x")).replace('"x"', '"\\ud800"'),
        400,
        "INVALID_PARAMETER_SYNTAX",
    ),
    "deep nesting": (
        _raw(order_body(items=0)).replace('"items": 0', '"items": ' + "[" * 100 + "]" * 100),
        400,
        "MALFORMED_REQUEST_JSON",
    ),
    "huge exponent anywhere": (
        _raw(order_body(items=0)).replace('"items": 0', '"items": 1e999999'),
        400,
        "INVALID_PARAMETER_VALUE",
    ),
    "NaN literal anywhere": (
        _raw(order_body(items=0)).replace('"items": 0', '"items": NaN'),
        400,
        "MALFORMED_REQUEST_JSON",
    ),
    "no context at all": (_without("payment_source"), 400, "MISSING_REQUIRED_PARAMETER"),
    "card payment source": (
        _raw({**order_body(), "payment_source": {"card": {"number": "4111111111111111"}}}),
        400,
        "INVALID_PARAMETER_VALUE",
    ),
    "missing return_url": (_context(return_url=None), 400, "MISSING_REQUIRED_PARAMETER"),
    "relative return_url": (_context(return_url="/return"), 400, "INVALID_PARAMETER_SYNTAX"),
    "javascript return_url": (
        _context(return_url="javascript:alert(1)"),
        400,
        "INVALID_PARAMETER_SYNTAX",
    ),
    "return_url with newline": (
        _context(return_url="https://shop.example/\r\nX: y"),
        400,
        "INVALID_PARAMETER_SYNTAX",
    ),
    "return_url with bad port": (
        _context(return_url="https://shop.example:99999/"),
        400,
        "INVALID_PARAMETER_SYNTAX",
    ),
    "ftp cancel_url": (_context(cancel_url="ftp://shop.example/"), 400, "INVALID_PARAMETER_SYNTAX"),
    "unknown user_action": (_context(user_action="BUY"), 400, "INVALID_PARAMETER_VALUE"),
    "unknown shipping_preference": (
        _context(shipping_preference="DRONE"),
        400,
        "INVALID_PARAMETER_VALUE",
    ),
}


@pytest.mark.parametrize(
    ("body", "status", "issue"), INVALID_ORDERS.values(), ids=INVALID_ORDERS.keys()
)
def test_invalid_orders_are_refused_never_500(
    api: httpx.Client, body: str | bytes, status: int, issue: str
) -> None:
    response = api.post(
        "/v2/checkout/orders", content=body, headers={"Content-Type": "application/json"}
    )

    assert_paypal_error(response, status, issue)
    assert PaypalOrder.objects.count() == 0


def test_error_details_point_at_the_field(api: httpx.Client) -> None:
    response = api.post("/v2/checkout/orders", content=_amount("10.001"))

    detail = response.json()["details"][0]
    assert detail["field"] == "/purchase_units/0/amount/value"
    assert detail["location"] == "body"


@pytest.mark.parametrize("request_id", ["x" * 109, "tab\there", "caf\u00e9"])
def test_bad_request_ids_are_refused(api: httpx.Client, request_id: str) -> None:
    response = api.post(
        "/v2/checkout/orders",
        json=order_body(),
        headers=[("PayPal-Request-Id", request_id.encode())],
    )

    assert_paypal_error(response, 400, "INVALID_PARAMETER_VALUE")


def test_another_accounts_resources_are_not_found(
    api: httpx.Client, other_api: httpx.Client, browser: httpx.Client
) -> None:
    captured = paid_order(api, browser)
    order_id = captured["supplementary_data"]["related_ids"]["order_id"]
    refunded = refund(api, captured["id"], {"amount": {"currency_code": "SAR", "value": "1.00"}})
    refund_id = refunded.json()["id"]
    waiting = create(api)

    for response in [
        other_api.get(f"/v2/checkout/orders/{order_id}"),
        capture(other_api, waiting["id"]),
        other_api.get(f"/v2/payments/captures/{captured['id']}"),
        refund(other_api, captured["id"]),
        other_api.get(f"/v2/payments/refunds/{refund_id}"),
    ]:
        assert_paypal_error(response, 404, "INVALID_RESOURCE_ID")
    assert PaypalRefund.objects.count() == 1


@pytest.mark.parametrize(
    "path",
    [
        "/v2/checkout/orders/5O190127TN364715T",
        "/v2/payments/captures/5O190127TN364715T",
        "/v2/payments/refunds/5O190127TN364715T",
        "/v1/notifications/webhooks/5O190127TN364715T",
        "/v1/notifications/webhooks-events/WH-nothing",
    ],
)
def test_unknown_resources_are_not_found(api: httpx.Client, path: str) -> None:
    assert_paypal_error(api.get(path), 404)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v2/checkout/orders/%00"),
        ("POST", "/v2/checkout/orders/%00/capture"),
        ("GET", "/v2/payments/captures/%00"),
        ("POST", "/v2/payments/captures/%00/refund"),
        ("GET", "/v2/payments/refunds/%00"),
        ("GET", "/v1/notifications/webhooks/%00"),
        ("GET", "/v1/notifications/webhooks-events/%00"),
        ("GET", "/v2/checkout/orders/" + "A" * 300),
    ],
)
def test_ids_that_cannot_exist_are_not_found_never_500(
    api: httpx.Client, method: str, path: str
) -> None:
    assert_paypal_error(api.request(method, path), 404)


@pytest.mark.parametrize("unknown", ["a\u0000b", "x" * 300, "5O190127TN364715T"])
def test_resend_to_an_unknown_webhook_id_is_400(
    api: httpx.Client, browser: httpx.Client, receiver: Receiver, webhook_id: str, unknown: str
) -> None:
    order = create(api)
    submit(browser, order, "succeed")
    event_id = receiver.deliveries[0].event["id"]

    response = api.post(
        f"/v1/notifications/webhooks-events/{event_id}/resend",
        json={"webhook_ids": [webhook_id, unknown]},
    )

    assert_paypal_error(response, 400)
    assert len(receiver.deliveries) == 1


def test_unsupported_method_is_refused(api: httpx.Client) -> None:
    response = api.delete("/v2/checkout/orders")

    assert_paypal_error(response, 405)
    assert response.headers["allow"] == "POST"


# Hosted approval page --------------------------------------------------------------------------


def test_hosted_page_has_one_form_with_the_three_outcomes(
    api: httpx.Client, browser: httpx.Client
) -> None:
    order = create(api, order_body(amount={"currency_code": "KWD", "value": "12.5"}))

    page = browser.get(checkout_url(order))

    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "12.500\u00a0د.ك.\u200f" in page.text  # Arabic unless the visitor picked English
    assert "بيئة اختبار" in page.text
    assert "sb-buyer@personal.example.com" in page.text
    assert "ادفع الآن" in page.text
    assert_outcome_form(page.text)

    browser.cookies.set("wasla_language", "en")
    page = browser.get(checkout_url(order))
    assert "KWD\u00a012.500" in page.text
    assert "Sandbox" in page.text
    assert "Pay Now" in page.text


@pytest.mark.parametrize("order_id", ["5O190127TN364715T", "%00", "A" * 300])
def test_unknown_hosted_page_is_404(browser: httpx.Client, paypal_url: str, order_id: str) -> None:
    page = browser.get(f"{paypal_url}/checkoutnow/{order_id}/")
    posted = browser.post(f"{paypal_url}/checkoutnow/{order_id}/", data={"outcome": "succeed"})

    assert page.status_code == posted.status_code == 404
    assert forms_of(page.text) == []


def test_succeed_approves_notifies_then_capture_completes(
    api: httpx.Client, browser: httpx.Client, receiver: Receiver, webhook_id: str
) -> None:
    order = create(api)

    response = submit(browser, order, "succeed")

    payer_id = assert_returned(response, order["id"])
    approved = fetch(api, f"/v2/checkout/orders/{order['id']}")
    assert approved["status"] == "APPROVED"
    assert approved["payer"]["payer_id"] == payer_id
    assert approved["payer"]["email_address"] == "sb-buyer@personal.example.com"
    assert approved["payment_source"]["paypal"]["account_id"] == payer_id
    assert links(approved)["capture"]["method"] == "POST"
    assert receiver.events() == ["CHECKOUT.ORDER.APPROVED"]
    delivery = receiver.deliveries[0]
    assert delivery.path == "/webhooks/paypal"
    assert_envelope(delivery.event, "CHECKOUT.ORDER.APPROVED", "checkout-order")
    assert delivery.event["resource"]["id"] == order["id"]
    assert delivery.event["resource"]["status"] == "APPROVED"
    assert_genuine(api, delivery, webhook_id)

    captured = capture(api, order["id"])

    assert captured.status_code == 201, captured.text
    completed = captured.json()
    assert completed["status"] == "COMPLETED"
    capture_object = completed["purchase_units"][0]["payments"]["captures"][0]
    assert PAYPAL_ID.fullmatch(capture_object["id"])
    assert capture_object["status"] == "COMPLETED"
    assert capture_object["amount"] == {"currency_code": "SAR", "value": "10.00"}
    assert capture_object["final_capture"] is True
    assert capture_object["custom_id"] == "att_0001"
    assert capture_object["invoice_id"] == "INV-0001"
    assert capture_object["supplementary_data"] == {"related_ids": {"order_id": order["id"]}}
    assert ISO_SECONDS.fullmatch(capture_object["create_time"])
    assert ISO_SECONDS.fullmatch(capture_object["update_time"])
    assert set(links(capture_object)) == {"self", "refund", "up"}
    assert fetch(api, f"/v2/checkout/orders/{order['id']}") == completed
    assert receiver.events() == ["CHECKOUT.ORDER.APPROVED", "PAYMENT.CAPTURE.COMPLETED"]
    delivery = receiver.deliveries[1]
    assert_envelope(delivery.event, "PAYMENT.CAPTURE.COMPLETED", "capture")
    assert delivery.event["resource"] == capture_object
    assert delivery.event["resource"] == fetch(api, f"/v2/payments/captures/{capture_object['id']}")
    assert_genuine(api, delivery, webhook_id)


def test_decline_approves_but_the_capture_is_declined(
    api: httpx.Client, browser: httpx.Client, receiver: Receiver, webhook_id: str
) -> None:
    order = create(api)

    assert_returned(submit(browser, order, "decline"), order["id"])
    declined = capture(api, order["id"])

    assert_paypal_error(declined, 422, "INSTRUMENT_DECLINED")
    after = fetch(api, f"/v2/checkout/orders/{order['id']}")
    assert after["status"] == "APPROVED"
    assert after["purchase_units"][0]["payments"]["captures"][0]["status"] == "DECLINED"
    assert receiver.events() == ["CHECKOUT.ORDER.APPROVED", "PAYMENT.CAPTURE.DENIED"]
    denied = receiver.deliveries[1]
    assert_envelope(denied.event, "PAYMENT.CAPTURE.DENIED", "capture")
    assert denied.event["resource"]["status"] == "DECLINED"
    assert denied.event["resource"]["supplementary_data"]["related_ids"]["order_id"] == order["id"]
    assert "refund" not in links(denied.event["resource"])
    assert_genuine(api, denied, webhook_id)

    again = capture(api, order["id"])

    assert_paypal_error(again, 422, "INSTRUMENT_DECLINED")
    assert len(receiver.deliveries) == 2
    assert PaypalCapture.objects.count() == 1


def test_cancel_returns_to_cancel_url_and_changes_nothing(
    api: httpx.Client, browser: httpx.Client, receiver: Receiver, webhook_id: str
) -> None:
    order = create(api)

    response = submit(browser, order, "cancel")

    assert response.status_code == 302
    location = urlsplit(response.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == CANCEL_URL.split("?")[0]
    assert parse_qs(location.query) == {"order": ["ord_0001"], "token": [order["id"]]}
    assert fetch(api, f"/v2/checkout/orders/{order['id']}") == order
    assert receiver.deliveries == []
    assert PaypalWebhookEvent.objects.count() == 0
    assert_outcome_form(browser.get(checkout_url(order)).text)


def test_cancel_without_cancel_url_shows_a_page(api: httpx.Client, browser: httpx.Client) -> None:
    body = order_body()
    del body["payment_source"]["paypal"]["experience_context"]["cancel_url"]
    order = create(api, body)

    response = submit(browser, order, "cancel")

    assert response.status_code == 200
    assert "CANCELLED" in response.text
    assert fetch(api, f"/v2/checkout/orders/{order['id']}")["status"] == "PAYER_ACTION_REQUIRED"


def test_invalid_outcome_is_rejected_without_approving(
    api: httpx.Client, browser: httpx.Client
) -> None:
    order = create(api)

    response = submit(browser, order, "refund")

    assert response.status_code == 400
    assert_outcome_form(response.text)
    assert fetch(api, f"/v2/checkout/orders/{order['id']}")["status"] == "PAYER_ACTION_REQUIRED"


def test_return_url_without_query_gets_one(api: httpx.Client, browser: httpx.Client) -> None:
    body = order_body()
    body["payment_source"]["paypal"]["experience_context"]["return_url"] = "https://shop.example/r"
    order = create(api, body)

    response = submit(browser, order, "succeed")

    assert response.headers["location"].startswith(f"https://shop.example/r?token={order['id']}&")


def test_completed_order_page_shows_it_and_posting_changes_nothing(
    api: httpx.Client, browser: httpx.Client, receiver: Receiver, webhook_id: str
) -> None:
    order = create(api)
    submit(browser, order, "succeed")
    capture(api, order["id"])
    before = fetch(api, f"/v2/checkout/orders/{order['id']}")

    page = browser.get(checkout_url(order))
    again = submit(browser, order, "decline")

    assert page.status_code == 200
    assert "COMPLETED" in page.text
    assert forms_of(page.text) == []
    assert f"token={order['id']}" in page.text
    assert_returned(again, order["id"])
    assert fetch(api, f"/v2/checkout/orders/{order['id']}") == before
    assert len(receiver.deliveries) == 2


def test_concurrent_submissions_approve_once(
    api: httpx.Client, receiver: Receiver, webhook_id: str
) -> None:
    order = create(api)
    barrier = threading.Barrier(6)
    statuses: list[int] = []

    def click() -> None:
        barrier.wait()
        response = httpx.post(checkout_url(order), data={"outcome": "succeed"}, timeout=30)
        statuses.append(response.status_code)

    threads = [threading.Thread(target=click) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert statuses == [302] * 6
    assert receiver.events() == ["CHECKOUT.ORDER.APPROVED"]


def test_failing_receiver_does_not_break_the_hosted_page(
    api: httpx.Client, browser: httpx.Client, receiver: Receiver, webhook_id: str
) -> None:
    receiver.status = 500
    order = create(api)

    assert_returned(submit(browser, order, "succeed"), order["id"])
    assert capture(api, order["id"]).status_code == 201
    assert [d.status_code for d in PaypalWebhookDelivery.objects.all()] == [500, 500]


def test_unreachable_receiver_does_not_break_the_hosted_page(
    api: httpx.Client, browser: httpx.Client
) -> None:
    api.post(
        "/v1/notifications/webhooks",
        json={"url": "http://127.0.0.1:9/nothing-listens", "event_types": [{"name": "*"}]},
    )
    order = create(api)

    assert_returned(submit(browser, order, "succeed"), order["id"])
    delivery = PaypalWebhookDelivery.objects.get()
    assert delivery.status_code is None
    assert delivery.error


# Captures --------------------------------------------------------------------------------------


def test_capture_before_approval_is_refused(api: httpx.Client, receiver: Receiver) -> None:
    order = create(api)

    assert_paypal_error(capture(api, order["id"]), 422, "ORDER_NOT_APPROVED")
    assert fetch(api, f"/v2/checkout/orders/{order['id']}") == order
    assert PaypalCapture.objects.count() == 0


def test_double_capture_is_refused_unless_replayed(
    api: httpx.Client, browser: httpx.Client, receiver: Receiver, webhook_id: str
) -> None:
    order = create(api)
    submit(browser, order, "succeed")
    first = capture(api, order["id"], request_id="capture-1")

    replayed = capture(api, order["id"], request_id="capture-1")
    second = capture(api, order["id"], request_id="capture-2")
    bare = capture(api, order["id"])

    assert first.status_code == replayed.status_code == 201
    assert replayed.content == first.content
    assert_paypal_error(second, 422, "ORDER_ALREADY_CAPTURED")
    assert_paypal_error(bare, 422, "ORDER_ALREADY_CAPTURED")
    assert PaypalCapture.objects.count() == 1
    assert receiver.events() == ["CHECKOUT.ORDER.APPROVED", "PAYMENT.CAPTURE.COMPLETED"]


def test_capture_of_an_order_pending_on_another_request_id_is_not_replayed(
    api: httpx.Client, browser: httpx.Client
) -> None:
    order = create(api)
    refused = capture(api, order["id"], request_id="early")
    submit(browser, order, "succeed")

    retried = capture(api, order["id"], request_id="early")

    assert_paypal_error(refused, 422, "ORDER_NOT_APPROVED")
    assert retried.status_code == 201


@pytest.mark.parametrize("body", ["not json", "[1]", '"x"'])
def test_capture_with_a_malformed_body_is_400(
    api: httpx.Client, browser: httpx.Client, body: str
) -> None:
    order = create(api)
    submit(browser, order, "succeed")

    response = api.post(f"/v2/checkout/orders/{order['id']}/capture", content=body)

    assert_paypal_error(response, 400, "MALFORMED_REQUEST_JSON")
    assert PaypalCapture.objects.count() == 0


def test_capture_accepts_an_empty_body(api: httpx.Client, browser: httpx.Client) -> None:
    order = create(api)
    submit(browser, order, "succeed")

    response = api.post(
        f"/v2/checkout/orders/{order['id']}/capture", headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 201, response.text


def test_legacy_order_can_be_approved_and_captured(
    api: httpx.Client, browser: httpx.Client
) -> None:
    body = order_body()
    del body["payment_source"]
    body["application_context"] = {"return_url": RETURN_URL}
    order = create(api, body)

    assert_returned(submit(browser, order, "succeed"), order["id"])
    response = capture(api, order["id"])

    assert response.status_code == 201
    assert response.json()["payment_source"]["paypal"]["email_address"]


# Refunds ---------------------------------------------------------------------------------------


def test_partial_then_full_refunds_and_their_webhooks(
    api: httpx.Client, browser: httpx.Client, receiver: Receiver, webhook_id: str, paypal_url: str
) -> None:
    captured = paid_order(api, browser, amount={"currency_code": "SAR", "value": "100.00"})

    partial = refund(
        api,
        captured["id"],
        {
            "amount": {"currency_code": "SAR", "value": "30.50"},
            "note_to_payer": "Sorry about the scratch",
            "invoice_id": "RF-0001",
        },
    )

    assert partial.status_code == 201, partial.text
    first = partial.json()
    assert PAYPAL_ID.fullmatch(first["id"])
    assert first["status"] == "COMPLETED"
    assert first["amount"] == {"currency_code": "SAR", "value": "30.50"}
    assert first["note_to_payer"] == "Sorry about the scratch"
    assert first["invoice_id"] == "RF-0001"
    assert first["seller_payable_breakdown"]["total_refunded_amount"]["value"] == "30.50"
    assert links(first)["up"]["href"] == f"{paypal_url}/v2/payments/captures/{captured['id']}"
    assert fetch(api, f"/v2/payments/refunds/{first['id']}") == first
    state = fetch(api, f"/v2/payments/captures/{captured['id']}")
    assert state["status"] == "PARTIALLY_REFUNDED"
    event = receiver.deliveries[-1]
    assert_envelope(event.event, "PAYMENT.CAPTURE.REFUNDED", "refund")
    assert event.event["resource"] == first
    assert_genuine(api, event, webhook_id)

    rest = refund(api, captured["id"])

    assert rest.status_code == 201, rest.text
    assert rest.json()["amount"] == {"currency_code": "SAR", "value": "69.50"}
    state = fetch(api, f"/v2/payments/captures/{captured['id']}")
    assert state["status"] == "REFUNDED"
    assert "refund" not in links(state)
    order_id = state["supplementary_data"]["related_ids"]["order_id"]
    order = fetch(api, f"/v2/checkout/orders/{order_id}")
    payments = order["purchase_units"][0]["payments"]
    assert [r["id"] for r in payments["refunds"]] == [first["id"], rest.json()["id"]]
    assert receiver.events()[-2:] == ["PAYMENT.CAPTURE.REFUNDED", "PAYMENT.CAPTURE.REFUNDED"]

    assert_paypal_error(refund(api, captured["id"]), 422, "CAPTURE_FULLY_REFUNDED")


def test_refund_above_what_remains_is_refused(api: httpx.Client, browser: httpx.Client) -> None:
    captured = paid_order(api, browser)
    refund(api, captured["id"], {"amount": {"currency_code": "SAR", "value": "4.00"}})

    response = refund(api, captured["id"], {"amount": {"currency_code": "SAR", "value": "6.01"}})

    assert_paypal_error(response, 422, "REFUND_AMOUNT_EXCEEDED")
    assert fetch(api, f"/v2/payments/captures/{captured['id']}")["status"] == "PARTIALLY_REFUNDED"
    assert PaypalRefund.objects.count() == 1


def test_refund_request_id_replays_without_refunding_twice(
    api: httpx.Client, browser: httpx.Client, receiver: Receiver, webhook_id: str
) -> None:
    captured = paid_order(api, browser)
    body = {"amount": {"currency_code": "SAR", "value": "2.00"}}

    first = refund(api, captured["id"], body, request_id="refund-1")
    again = refund(api, captured["id"], body, request_id="refund-1")

    assert first.status_code == again.status_code == 201
    assert again.content == first.content
    assert PaypalRefund.objects.count() == 1
    assert receiver.events().count("PAYMENT.CAPTURE.REFUNDED") == 1


def test_concurrent_refunds_never_exceed_the_capture(
    api: httpx.Client, browser: httpx.Client
) -> None:
    captured = paid_order(api, browser)
    barrier = threading.Barrier(5)
    statuses: list[int] = []
    token = api.headers["Authorization"]

    def post() -> None:
        barrier.wait()
        response = httpx.post(
            f"{api.base_url}v2/payments/captures/{captured['id']}/refund",
            json={"amount": {"currency_code": "SAR", "value": "4.00"}},
            headers={"Authorization": token},
            timeout=30,
        )
        statuses.append(response.status_code)

    threads = [threading.Thread(target=post) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(statuses) == [201, 201, 422, 422, 422]
    assert PaypalCapture.objects.get().refunded_amount == Decimal("8.00")


INVALID_REFUNDS: dict[str, tuple[str, int, str]] = {
    "malformed json": ('{"amount": ', 400, "MALFORMED_REQUEST_JSON"),
    "numeric value": (
        '{"amount": {"currency_code": "SAR", "value": 1}}',
        400,
        "INVALID_PARAMETER_SYNTAX",
    ),
    "negative value": (
        '{"amount": {"currency_code": "SAR", "value": "-1.00"}}',
        422,
        "CANNOT_BE_ZERO_OR_NEGATIVE",
    ),
    "over-precise": (
        '{"amount": {"currency_code": "SAR", "value": "1.001"}}',
        422,
        "DECIMAL_PRECISION",
    ),
    "other currency": (
        '{"amount": {"currency_code": "USD", "value": "1.00"}}',
        422,
        "REFUND_CAPTURE_CURRENCY_MISMATCH",
    ),
    "missing currency": ('{"amount": {"value": "1.00"}}', 400, "MISSING_REQUIRED_PARAMETER"),
    "long note": (json.dumps({"note_to_payer": "x" * 256}), 400, "INVALID_STRING_LENGTH"),
}


@pytest.mark.parametrize(
    ("body", "status", "issue"), INVALID_REFUNDS.values(), ids=INVALID_REFUNDS.keys()
)
def test_invalid_refunds_are_refused_never_500(
    api: httpx.Client, browser: httpx.Client, body: str, status: int, issue: str
) -> None:
    captured = paid_order(api, browser)

    response = api.post(f"/v2/payments/captures/{captured['id']}/refund", content=body)

    assert_paypal_error(response, status, issue)
    assert PaypalRefund.objects.count() == 0


def test_a_declined_capture_cannot_be_refunded(api: httpx.Client, browser: httpx.Client) -> None:
    order = create(api)
    submit(browser, order, "decline")
    capture(api, order["id"])
    declined = PaypalCapture.objects.get()

    assert_paypal_error(refund(api, declined.id), 422, "REFUND_NOT_ALLOWED")


# Webhook registration and events ---------------------------------------------------------------


def test_webhooks_can_be_registered_listed_and_deleted(
    api: httpx.Client, receiver: Receiver, paypal_url: str
) -> None:
    created = api.post(
        "/v1/notifications/webhooks",
        json={
            "url": receiver.url,
            "event_types": [
                {"name": "PAYMENT.CAPTURE.COMPLETED"},
                {"name": "PAYMENT.CAPTURE.REFUNDED"},
            ],
        },
    )

    assert created.status_code == 201, created.text
    webhook = created.json()
    assert PAYPAL_ID.fullmatch(webhook["id"])
    assert webhook["url"] == receiver.url
    assert [item["name"] for item in webhook["event_types"]] == [
        "PAYMENT.CAPTURE.COMPLETED",
        "PAYMENT.CAPTURE.REFUNDED",
    ]
    self_href = f"{paypal_url}/v1/notifications/webhooks/{webhook['id']}"
    assert links(webhook)["self"]["href"] == self_href
    assert fetch(api, f"/v1/notifications/webhooks/{webhook['id']}") == webhook
    assert fetch(api, "/v1/notifications/webhooks") == {"webhooks": [webhook]}

    deleted = api.delete(f"/v1/notifications/webhooks/{webhook['id']}")

    assert deleted.status_code == 204
    assert_paypal_error(api.get(f"/v1/notifications/webhooks/{webhook['id']}"), 404)


def test_a_webhook_url_is_registered_once(api: httpx.Client, receiver: Receiver) -> None:
    body = {"url": receiver.url, "event_types": [{"name": "*"}]}
    api.post("/v1/notifications/webhooks", json=body)

    assert_paypal_error(
        api.post("/v1/notifications/webhooks", json=body), 400, "WEBHOOK_URL_ALREADY_EXISTS"
    )


@pytest.mark.parametrize(
    "body",
    [
        {"event_types": [{"name": "*"}]},
        {"url": "not a url", "event_types": [{"name": "*"}]},
        {"url": "https://shop.example/hook", "event_types": []},
        {"url": "https://shop.example/hook", "event_types": [{"name": "PAYMENT.SALE.NOPE"}]},
        {"url": "https://shop.example/hook", "event_types": ["*"]},
        {"url": "https://shop.example/hook"},
    ],
)
def test_invalid_webhook_registrations_are_400(api: httpx.Client, body: dict[str, Any]) -> None:
    assert_paypal_error(api.post("/v1/notifications/webhooks", json=body), 400)


def test_events_go_only_to_webhooks_subscribed_to_them(
    api: httpx.Client, browser: httpx.Client, receiver: Receiver
) -> None:
    api.post(
        "/v1/notifications/webhooks",
        json={"url": receiver.url, "event_types": [{"name": "PAYMENT.CAPTURE.COMPLETED"}]},
    )

    paid_order(api, browser)

    assert receiver.events() == ["PAYMENT.CAPTURE.COMPLETED"]
    assert PaypalWebhookEvent.objects.count() == 2


def test_events_can_be_fetched_and_resent(
    api: httpx.Client, browser: httpx.Client, receiver: Receiver, webhook_id: str
) -> None:
    order = create(api)
    submit(browser, order, "succeed")
    sent = receiver.deliveries[0]

    fetched = api.get(f"/v1/notifications/webhooks-events/{sent.event['id']}")
    resent = api.post(
        f"/v1/notifications/webhooks-events/{sent.event['id']}/resend",
        json={"webhook_ids": [webhook_id]},
    )

    assert fetched.content == sent.body
    assert resent.status_code == 202
    assert len(receiver.deliveries) == 2
    assert receiver.deliveries[1].body == sent.body
    assert_genuine(api, receiver.deliveries[1], webhook_id)


# Signature verification API --------------------------------------------------------------------


def test_verify_api_fails_tampered_events_and_foreign_webhook_ids(
    api: httpx.Client,
    other_api: httpx.Client,
    browser: httpx.Client,
    receiver: Receiver,
    webhook_id: str,
) -> None:
    order = create(api)
    submit(browser, order, "succeed")
    delivery = receiver.deliveries[0]
    tampered_event = delivery.event
    tampered_event["resource"]["status"] = "COMPLETED"
    tampered = Delivery(delivery.path, delivery.headers, json.dumps(tampered_event).encode())

    assert verification_status(api, tampered, webhook_id) == "FAILURE"
    assert verification_status(api, delivery, "5O190127TN364715T") == "FAILURE"
    assert verification_status(other_api, delivery, webhook_id) == "FAILURE"
    assert not verifies_offline(delivery, "5O190127TN364715T")
    wrong_headers = {**delivery.headers, "paypal-auth-algo": "SHA1withRSA"}
    wrong_algo = Delivery(delivery.path, wrong_headers, delivery.body)
    assert verification_status(api, wrong_algo, webhook_id) == "FAILURE"


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        "{}",
        '{"auth_algo": 1, "cert_url": "x", "transmission_id": "x", "transmission_sig": "x", '
        '"transmission_time": "x", "webhook_id": "x", "webhook_event": {}}',
        '{"auth_algo": "SHA256withRSA", "cert_url": "x", "transmission_id": "x", '
        '"transmission_sig": "x", "transmission_time": "x", "webhook_id": "x", '
        '"webhook_event": []}',
    ],
)
def test_verify_api_rejects_malformed_requests(api: httpx.Client, body: str) -> None:
    response = api.post("/v1/notifications/verify-webhook-signature", content=body)

    assert_paypal_error(response, 400)


def test_verify_api_answers_failure_for_garbage_signatures(
    api: httpx.Client, webhook_id: str
) -> None:
    response = api.post(
        "/v1/notifications/verify-webhook-signature",
        json={
            "auth_algo": "SHA256withRSA",
            "cert_url": "http://[::1/broken",
            "transmission_id": "x",
            "transmission_sig": "%%% not base64 %%%",
            "transmission_time": "x",
            "webhook_id": webhook_id,
            "webhook_event": {"price": 1.5, "name": "caf\u00e9"},
        },
    )

    assert response.json() == {"verification_status": "FAILURE"}


def test_real_paypal_samples_verify_in_canonical_form_only(
    api: httpx.Client, webhook_id: str, paypal_url: str
) -> None:
    """The verify API re-serialises webhook_event canonically (compact, UTF-8, keys in order)
    before taking the CRC32, so a body signed in any other layout does not verify there."""
    for sample in sorted(FIXTURES.glob("*.json")):
        original = sample.read_bytes()
        event = json.loads(original)
        canonical = json.dumps(event, separators=(",", ":"), ensure_ascii=False).encode()
        assert canonical == dumps_bytes(decimal_json(original))
        headers = sign_headers(canonical, webhook_id, _cert_url(paypal_url))
        pretty = sign_headers(original, webhook_id, _cert_url(paypal_url))

        assert verification_status(api, _as_delivery(headers, canonical), webhook_id) == "SUCCESS"
        assert verification_status(api, _as_delivery(pretty, original), webhook_id) == "FAILURE"
        assert verifies_offline(_as_delivery(pretty, original), webhook_id), sample.name


def _cert_url(paypal_url: str) -> str:
    return paypal_url.split("/sandbox/")[0] + certificate_path()


def _as_delivery(headers: dict[str, str], body: bytes) -> Delivery:
    return Delivery("/", {name.lower(): value for name, value in headers.items()}, body)


# Fault knobs -----------------------------------------------------------------------------------


DEFAULT_KNOBS = {
    "webhook": "send",
    "delay_seconds": 0.0,
    "api": "ok",
    "timeout_seconds": 5.0,
    "api_fail_count": 0,
    "held": 0,
    "token_requests": {},
}


def test_control_endpoint_reads_sets_and_resets_knobs(paypal_url: str) -> None:
    control = f"{paypal_url}/_control/"

    assert httpx.get(control).json() == DEFAULT_KNOBS
    assert httpx.post(control, json={"webhook": "duplicate"}).json()["webhook"] == "duplicate"
    assert httpx.get(control).json()["webhook"] == "duplicate"
    changed = {"delay_seconds": 0.75, "api": "timeout", "timeout_seconds": 3, "api_fail_count": 1}
    assert httpx.post(control, json=changed).json() == {
        **DEFAULT_KNOBS,
        "webhook": "duplicate",
        **changed,
    }
    assert httpx.delete(control).json() == DEFAULT_KNOBS
    assert knobs_get().webhook == "send"


@pytest.mark.parametrize(
    "body",
    [
        '{"webhook": "sometimes"}',
        '{"webhook": 1}',
        '{"delay": 5}',
        "not json",
        '{"delay_seconds": -1}',
        '{"delay_seconds": "2"}',
        '{"api": "flaky"}',
        '{"timeout_seconds": false}',
        '{"api_fail_count": 2.5}',
    ],
)
def test_control_endpoint_rejects_bad_knobs(paypal_url: str, body: str) -> None:
    response = httpx.post(f"{paypal_url}/_control/", content=body)

    assert_paypal_error(response, 400)
    assert httpx.get(f"{paypal_url}/_control/").json() == DEFAULT_KNOBS


def test_knobs_can_be_set_from_python() -> None:
    for mode in ["drop", "duplicate", "bad_signature", "foreign_cert", "hold", "send"]:
        assert knobs_set(webhook=mode).webhook == mode
    with pytest.raises(ValueError, match="webhook must be one of"):
        knobs_set(webhook="sometimes")
    knobs_set(webhook="drop")
    knobs = knobs_set(api="error_500", api_fail_count=3, delay_seconds=0.5, timeout_seconds=9)
    assert (knobs.webhook, knobs.api, knobs.api_fail_count) == ("drop", "error_500", 3)
    assert (knobs.delay_seconds, knobs.timeout_seconds) == (0.5, 9.0)
    with pytest.raises(ValueError, match="timeout_seconds must be between 0 and"):
        knobs_set(timeout_seconds=-1)
    assert knobs_reset().webhook == "send"
    assert knobs_get().api == "ok"


def test_drop_knob_changes_state_but_sends_nothing(
    api: httpx.Client, browser: httpx.Client, receiver: Receiver, webhook_id: str
) -> None:
    knobs_set(webhook="drop")

    paid_order(api, browser)

    assert receiver.deliveries == []
    assert PaypalWebhookEvent.objects.count() == 2
    assert PaypalWebhookDelivery.objects.count() == 0


def test_duplicate_knob_delivers_each_event_twice(
    api: httpx.Client, browser: httpx.Client, receiver: Receiver, webhook_id: str
) -> None:
    knobs_set(webhook="duplicate")
    order = create(api)

    submit(browser, order, "succeed")

    assert len(receiver.deliveries) == 2
    first, second = receiver.deliveries
    assert first.body == second.body
    assert first.event["id"] == second.event["id"]
    assert first.headers["paypal-transmission-id"] != second.headers["paypal-transmission-id"]
    assert_genuine(api, first, webhook_id)
    assert_genuine(api, second, webhook_id)


def test_bad_signature_knob_signs_another_message(
    api: httpx.Client, browser: httpx.Client, receiver: Receiver, webhook_id: str
) -> None:
    knobs_set(webhook="bad_signature")
    order = create(api)

    submit(browser, order, "succeed")

    delivery = receiver.deliveries[0]
    assert delivery.event["event_type"] == "CHECKOUT.ORDER.APPROVED"
    assert delivery.headers["paypal-cert-url"].endswith(".pem")
    assert not verifies_offline(delivery, webhook_id)
    assert verification_status(api, delivery, webhook_id) == "FAILURE"


def test_foreign_cert_knob_points_outside_any_allow_list(
    api: httpx.Client, browser: httpx.Client, receiver: Receiver, webhook_id: str
) -> None:
    knobs_set(webhook="foreign_cert")
    order = create(api)

    submit(browser, order, "succeed")

    delivery = receiver.deliveries[0]
    cert_url = urlsplit(delivery.headers["paypal-cert-url"])
    assert cert_url.hostname == "certs.attacker.example"
    assert not verifies_with(delivery, webhook_id, certificate_pem().encode())
    assert verification_status(api, delivery, webhook_id) == "FAILURE"


# Signing helpers and secrets at rest -----------------------------------------------------------


def test_sign_headers_known_message_layout() -> None:
    body = b'{"id":"WH-1"}'
    headers = sign_headers(
        body,
        "1JE4291016473214C",
        "http://127.0.0.1:8000/sandbox/paypal/certs/CERT-x.pem",
        transmission_id="69cd13f0-d67a-11e5-baa3-778b53f4ae55",
        transmission_time="2026-11-22T05:30:00Z",
    )

    assert headers["PAYPAL-TRANSMISSION-ID"] == "69cd13f0-d67a-11e5-baa3-778b53f4ae55"
    assert headers["PAYPAL-TRANSMISSION-TIME"] == "2026-11-22T05:30:00Z"
    assert headers["PAYPAL-AUTH-ALGO"] == "SHA256withRSA"
    assert headers["PAYPAL-CERT-URL"] == "http://127.0.0.1:8000/sandbox/paypal/certs/CERT-x.pem"
    crc = zlib.crc32(body) & 0xFFFFFFFF
    message = f"69cd13f0-d67a-11e5-baa3-778b53f4ae55|2026-11-22T05:30:00Z|1JE4291016473214C|{crc}"
    public_key = x509.load_pem_x509_certificate(certificate_pem().encode()).public_key()
    assert isinstance(public_key, rsa.RSAPublicKey)
    public_key.verify(
        base64.b64decode(headers["PAYPAL-TRANSMISSION-SIG"]),
        message.encode(),
        padding.PKCS1v15(),
        hashes.SHA256(),
    )


def test_certificate_is_self_signed_for_a_year(paypal_url: str) -> None:
    certificate = x509.load_pem_x509_certificate(certificate_pem().encode())

    common_name = certificate.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value
    assert common_name == "messageverificationcerts.sandbox.paypal.example"
    assert certificate.issuer == certificate.subject
    validity = certificate.not_valid_after_utc - certificate.not_valid_before_utc
    assert 365 <= validity.days <= 366
    public_key = certificate.public_key()
    assert isinstance(public_key, rsa.RSAPublicKey)
    assert public_key.key_size == 2048
    served = httpx.get(_cert_url(paypal_url))
    assert served.status_code == 200
    assert served.text == certificate_pem()
    assert httpx.get(f"{paypal_url}/certs/CERT-00000000-00000000-00000000.pem").status_code == 404


def test_no_secret_or_token_in_plaintext_in_a_database_dump(
    api: httpx.Client, browser: httpx.Client, receiver: Receiver, webhook_id: str
) -> None:
    paid_order(api, browser)
    token = api.headers["Authorization"].removeprefix("Bearer ")
    settings_dict = connection.settings_dict

    dump = subprocess.run(
        [
            "pg_dump",
            "--data-only",
            "--host",
            settings_dict["HOST"] or "127.0.0.1",
            "--port",
            str(settings_dict["PORT"] or 5432),
            "--username",
            database_owner(),  # a backup is the owner's: the app role sees no tenant rows
            settings_dict["NAME"],
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout

    assert "sandbox_paypal_paypalorder" in dump
    assert CLIENT_ID in dump  # the client id is an identifier, not a secret
    assert hashlib.sha256(SECRET.encode()).hexdigest() in dump
    assert SECRET not in dump
    assert token not in dump
    assert token[:40] not in dump
    assert base64.b64encode(f"{CLIENT_ID}:{SECRET}".encode()).decode() not in dump
    assert "PRIVATE KEY" not in dump


# Dashboard refunds -----------------------------------------------------------------------------


def wait_for(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.05)


@pytest.mark.parametrize("by", ["capture", "order"])
def test_dashboard_refund_sends_a_genuine_capture_refunded_event(
    api: httpx.Client,
    browser: httpx.Client,
    receiver: Receiver,
    webhook_id: str,
    paypal_url: str,
    by: str,
) -> None:
    captured = paid_order(api, browser)
    order_id = PaypalCapture.objects.get().order_id
    receiver.deliveries.clear()
    payment = captured["id"] if by == "capture" else order_id

    response = httpx.post(
        f"{paypal_url}/_control/dashboard_refund", json={"payment": payment, "amount": "2.50"}
    )

    assert response.status_code == 200, response.text
    refund = response.json()
    assert PAYPAL_ID.fullmatch(refund["id"])
    assert refund["status"] == "COMPLETED"
    assert refund["amount"] == {"currency_code": "SAR", "value": "2.50"}
    assert fetch(api, f"/v2/payments/refunds/{refund['id']}") == refund
    assert fetch(api, f"/v2/payments/captures/{captured['id']}")["status"] == "PARTIALLY_REFUNDED"
    assert receiver.events() == ["PAYMENT.CAPTURE.REFUNDED"]
    delivery = receiver.deliveries[0]
    assert_envelope(delivery.event, "PAYMENT.CAPTURE.REFUNDED", "refund")
    assert delivery.event["resource"] == refund
    assert_genuine(api, delivery, webhook_id)

    # From Python, without a request: the links and the certificate URL still point at the host
    # the order was created through.
    rest = dashboard_refund(payment)

    assert rest["amount"] == {"currency_code": "SAR", "value": "7.50"}
    assert links(rest)["self"]["href"] == f"{paypal_url}/v2/payments/refunds/{rest['id']}"
    assert fetch(api, f"/v2/payments/captures/{captured['id']}")["status"] == "REFUNDED"
    assert receiver.events() == ["PAYMENT.CAPTURE.REFUNDED"] * 2
    assert_genuine(api, receiver.deliveries[1], webhook_id)
    with pytest.raises(PayPalApiError) as caught:
        dashboard_refund(payment)
    assert caught.value.issue == "CAPTURE_FULLY_REFUNDED"


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"payment": "5O190127TN364715T"}, 404),
        ({"payment": "bad id!"}, 404),
        ({"payment": "CAPTURE", "amount": "10.01"}, 422),
        ({"payment": "CAPTURE", "amount": "1.001"}, 422),
        ({"payment": "CAPTURE", "amount": "-1"}, 400),
        ({"payment": "CAPTURE", "amount": ""}, 400),
        ({"payment": 12}, 400),
        ({"payment": "CAPTURE", "note": "x"}, 400),
    ],
)
def test_dashboard_refund_refusals(
    api: httpx.Client,
    browser: httpx.Client,
    paypal_url: str,
    body: dict[str, Any],
    status: int,
) -> None:
    captured = paid_order(api, browser)
    body = {key: captured["id"] if value == "CAPTURE" else value for key, value in body.items()}

    response = httpx.post(f"{paypal_url}/_control/dashboard_refund", json=body)

    assert_paypal_error(response, status)
    assert PaypalRefund.objects.count() == 0


def test_dashboard_refund_of_an_uncaptured_order_is_not_found(
    api: httpx.Client, paypal_url: str
) -> None:
    order = create(api)

    response = httpx.post(f"{paypal_url}/_control/dashboard_refund", json={"payment": order["id"]})

    assert_paypal_error(response, 404)


# Hold and flush --------------------------------------------------------------------------------


def test_hold_keeps_events_until_a_reverse_flush(
    api: httpx.Client,
    browser: httpx.Client,
    receiver: Receiver,
    webhook_id: str,
    paypal_url: str,
) -> None:
    knobs_set(webhook="hold")
    captured = paid_order(api, browser)
    refund = dashboard_refund(captured["id"], Decimal("1.00"))

    assert receiver.deliveries == []
    assert PaypalWebhookDelivery.objects.count() == 0
    assert httpx.get(f"{paypal_url}/_control/").json()["held"] == 3

    flushed = httpx.post(f"{paypal_url}/_control/flush", json={"order": "reverse"})

    assert flushed.status_code == 200, flushed.text
    assert flushed.json() == {"sent": 3}
    assert receiver.events() == [
        "PAYMENT.CAPTURE.REFUNDED",
        "PAYMENT.CAPTURE.COMPLETED",
        "CHECKOUT.ORDER.APPROVED",
    ]
    assert receiver.deliveries[0].event["resource"]["id"] == refund["id"]
    for delivery in receiver.deliveries:
        assert_genuine(api, delivery, webhook_id)
    assert PaypalHeldEvent.objects.count() == 0
    assert httpx.post(f"{paypal_url}/_control/flush").json() == {"sent": 0}


def test_flush_forward_with_duplicates_delivers_each_event_twice(
    api: httpx.Client, browser: httpx.Client, receiver: Receiver, webhook_id: str
) -> None:
    knobs_set(webhook="hold")
    captured = paid_order(api, browser)
    refund(api, captured["id"], {"amount": {"currency_code": "SAR", "value": "3.00"}})

    assert flush(duplicate=True) == 6

    assert receiver.events() == [
        "CHECKOUT.ORDER.APPROVED",
        "CHECKOUT.ORDER.APPROVED",
        "PAYMENT.CAPTURE.COMPLETED",
        "PAYMENT.CAPTURE.COMPLETED",
        "PAYMENT.CAPTURE.REFUNDED",
        "PAYMENT.CAPTURE.REFUNDED",
    ]
    first, second = receiver.deliveries[:2]
    assert first.body == second.body
    assert first.headers["paypal-transmission-id"] != second.headers["paypal-transmission-id"]
    assert_genuine(api, second, webhook_id)


def test_a_held_resend_goes_only_to_the_webhooks_it_named(
    api: httpx.Client, browser: httpx.Client, receiver: Receiver, webhook_id: str
) -> None:
    other = api.post(
        "/v1/notifications/webhooks",
        json={"url": receiver.url + "/other", "event_types": [{"name": "*"}]},
    ).json()["id"]
    order = create(api)
    submit(browser, order, "succeed")
    receiver.deliveries.clear()
    event_id = PaypalWebhookEvent.objects.get().id
    knobs_set(webhook="hold")

    resent = api.post(
        f"/v1/notifications/webhooks-events/{event_id}/resend", json={"webhook_ids": [other]}
    )

    assert resent.status_code == 202, resent.text
    assert receiver.deliveries == []
    assert flush() == 1
    assert [delivery.path for delivery in receiver.deliveries] == ["/webhooks/paypal/other"]
    assert_genuine(api, receiver.deliveries[0], other)


@pytest.mark.parametrize("body", ['{"order": "random"}', '{"duplicate": null}', '{"a": 1}'])
def test_flush_refuses_bad_parameters(paypal_url: str, body: str) -> None:
    assert_paypal_error(httpx.post(f"{paypal_url}/_control/flush", content=body), 400)


def test_reset_discards_held_events(
    api: httpx.Client, browser: httpx.Client, receiver: Receiver, webhook_id: str, paypal_url: str
) -> None:
    knobs_set(webhook="hold")
    submit(browser, create(api), "succeed")

    assert httpx.delete(f"{paypal_url}/_control/").json()["held"] == 0

    assert flush() == 0
    assert receiver.deliveries == []


# Delayed delivery ------------------------------------------------------------------------------


def test_delayed_event_arrives_later_without_holding_up_the_redirect(
    api: httpx.Client, browser: httpx.Client, receiver: Receiver, webhook_id: str
) -> None:
    order = create(api)
    knobs_set(delay_seconds=1.0)

    started = time.monotonic()
    response = submit(browser, order, "succeed")

    assert time.monotonic() - started < 0.9
    assert_returned(response, order["id"])
    assert receiver.deliveries == []
    assert fetch(api, f"/v2/checkout/orders/{order['id']}")["status"] == "APPROVED"
    wait_for(lambda: PaypalWebhookDelivery.objects.count() == 1)
    assert receiver.events() == ["CHECKOUT.ORDER.APPROVED"]
    assert_genuine(api, receiver.deliveries[0], webhook_id)


# API faults ------------------------------------------------------------------------------------


def assert_internal_error(response: httpx.Response) -> None:
    assert response.status_code == 500, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["name"] == "INTERNAL_SERVER_ERROR"
    assert body["message"]
    assert re.fullmatch(r"[0-9a-f]{13}", body["debug_id"])
    assert body["links"][0]["rel"] == "information_link"


def test_api_error_500_changes_nothing(
    api: httpx.Client, browser: httpx.Client, paypal_url: str
) -> None:
    captured = paid_order(api, browser)
    knobs_set(api="error_500")

    responses = [
        token_request(paypal_url, basic(CLIENT_ID, SECRET)),
        api.post("/v2/checkout/orders", json=order_body()),
        refund(api, captured["id"]),
        api.get(f"/v2/payments/captures/{captured['id']}"),
        api.get("/v1/notifications/webhooks"),
    ]

    for response in responses:
        assert_internal_error(response)
    assert PaypalOrder.objects.count() == 1
    assert PaypalRefund.objects.count() == 0
    assert PaypalAccessToken.objects.count() == 1
    assert httpx.get(f"{paypal_url}/_control/").status_code == 200
    assert httpx.get(_cert_url(paypal_url)).status_code == 200


def test_api_timeout_creates_the_order_after_the_client_gave_up(
    api: httpx.Client, paypal_url: str
) -> None:
    knobs_set(api="timeout", timeout_seconds=1.5)

    with pytest.raises(httpx.ReadTimeout):
        api.post("/v2/checkout/orders", json=order_body(), timeout=0.5)

    assert PaypalOrder.objects.count() == 0
    wait_for(lambda: PaypalOrder.objects.count() == 1)
    knobs_reset()
    order_id = PaypalOrder.objects.get().id
    assert fetch(api, f"/v2/checkout/orders/{order_id}")["status"] == "PAYER_ACTION_REQUIRED"


def test_api_timeout_applies_to_the_token_endpoint(paypal_url: str) -> None:
    knobs_set(api="timeout", timeout_seconds=1.0, api_fail_count=1)

    with pytest.raises(httpx.ReadTimeout):
        httpx.post(
            f"{paypal_url}/v1/oauth2/token",
            data={"grant_type": "client_credentials"},
            headers={"Authorization": basic(CLIENT_ID, SECRET)},
            timeout=0.3,
        )

    wait_for(lambda: PaypalAccessToken.objects.count() == 1)
    assert access_token(paypal_url)
    assert knobs_get().api == "ok"


def test_api_fail_count_fails_only_the_next_calls(api: httpx.Client) -> None:
    knobs_set(api="error_500", api_fail_count=2)
    request_id = "order-retry-0001"

    statuses = [
        api.post(
            "/v2/checkout/orders", json=order_body(), headers={"PayPal-Request-Id": request_id}
        ).status_code
        for _ in range(4)
    ]

    assert statuses == [500, 500, 201, 201]
    assert PaypalOrder.objects.count() == 1
    knobs = knobs_get()
    assert (knobs.api, knobs.api_fail_count) == ("ok", 0)
