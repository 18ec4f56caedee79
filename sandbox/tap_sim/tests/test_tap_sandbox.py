"""The Tap simulator over real HTTP: API, hosted pages, webhooks and fault knobs.

Everything is driven with httpx against `live_server`; webhooks land on a tiny `http.server`
receiver running in a thread, exactly as a merchant endpoint would receive them.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx
import pytest
from django.db import connection

from sandbox.tap_sim.errors import TapApiError
from sandbox.tap_sim.knobs import knobs_get, knobs_reset, knobs_set
from sandbox.tap_sim.models import TapCharge, TapHeldWebhook, TapRefund
from sandbox.tap_sim.services import dashboard_refund, flush
from sandbox.tap_sim.signing import tap_hashstring

pytestmark = pytest.mark.django_db(transaction=True)

SECRET = "sk_test_XKokBfNWv6FIYuTMg5sLPjhJ"
OTHER_SECRET = "sk_test_another_merchant_0001"
RETURN_URL = "https://shop.example/checkout/return?order=ord_0001&lang=ar"
SOURCES = ["src_all", "src_card", "src_sa.mada", "src_sa.stcpay"]


def decimal_json(data: bytes | str) -> Any:
    return json.loads(data, parse_float=Decimal)


# Webhook receiver ------------------------------------------------------------------------------


@dataclass
class Delivery:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def charge(self) -> dict[str, Any]:
        return decimal_json(self.body)


@dataclass
class Receiver:
    url: str
    status: int = 200
    deliveries: list[Delivery] = field(default_factory=list)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            headers = {name.lower(): value for name, value in self.headers.items()}
            # Recorded before answering: the sandbox waits for the answer, so once the hosted
            # page has redirected, the delivery is already in the list.
            state.deliveries.append(Delivery(self.path, headers, body))
            self.send_response(state.status)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/webhooks/tap"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


# API helpers -----------------------------------------------------------------------------------


@pytest.fixture
def tap_url(live_server: Any) -> str:
    return f"{live_server.url}/sandbox/tap"


@pytest.fixture
def api(tap_url: str) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {SECRET}"}
    with httpx.Client(base_url=tap_url, headers=headers, timeout=30, trust_env=False) as client:
        yield client


@pytest.fixture
def browser() -> Iterator[httpx.Client]:
    """The customer's browser: no API key, redirects inspected one by one."""
    with httpx.Client(timeout=30, trust_env=False, follow_redirects=False) as client:
        yield client


def charge_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "amount": 10.5,
        "currency": "SAR",
        "customer_initiated": True,
        "threeDSecure": True,
        "save_card": False,
        "description": "Order ord_0001",
        "metadata": {"udf1": "tenant-7"},
        "reference": {"transaction": "txn_0001", "order": "ord_0001"},
        "receipt": {"email": True, "sms": False},
        "customer": {
            "first_name": "Sara",
            "email": "sara@example.com",
            "phone": {"country_code": "966", "number": "557877988"},
        },
        "merchant": {"id": ""},
        "source": {"id": "src_sa.mada"},
        "redirect": {"url": RETURN_URL},
    }
    body.update(overrides)
    return body


def create(api: httpx.Client, **overrides: Any) -> dict[str, Any]:
    response = api.post("/v2/charges", json=charge_body(**overrides))
    assert response.status_code == 200, response.text
    return decimal_json(response.content)


def fetch(api: httpx.Client, charge_id: str) -> dict[str, Any]:
    response = api.get(f"/v2/charges/{charge_id}")
    assert response.status_code == 200, response.text
    return decimal_json(response.content)


def assert_tap_error(response: httpx.Response, status: int) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    errors = response.json()["errors"]
    assert len(errors) == 1
    assert isinstance(errors[0]["code"], str)
    assert errors[0]["description"]


def assert_signed(delivery: Delivery, secret: str = SECRET) -> None:
    assert delivery.headers["content-type"] == "application/json"
    assert delivery.headers["hashstring"] == tap_hashstring(delivery.charge, secret)


# Hosted page helpers ---------------------------------------------------------------------------


@dataclass
class Form:
    method: str
    buttons: list[dict[str, str]] = field(default_factory=list)
    inputs: list[dict[str, str]] = field(default_factory=list)


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
        elif tag == "input" and self._open is not None:
            self._open.inputs.append(attributes)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._open = None


def forms_of(html: str) -> list[Form]:
    parser = FormParser()
    parser.feed(html)
    return parser.forms


def assert_outcome_form(html: str, id_prefix: str) -> Form:
    forms = forms_of(html)
    assert len(forms) == 1
    form = forms[0]
    assert form.method == "post"
    outcomes = {(b.get("name"), b.get("value"), b.get("id")) for b in form.buttons}
    assert outcomes == {
        ("outcome", "succeed", f"{id_prefix}-succeed"),
        ("outcome", "decline", f"{id_prefix}-decline"),
        ("outcome", "cancel", f"{id_prefix}-cancel"),
    }
    assert all(b.get("type", "submit") == "submit" for b in form.buttons)
    return form


def submit(browser: httpx.Client, url: str, outcome: str, **fields: str) -> httpx.Response:
    return browser.post(url, data={"outcome": outcome, **fields})


def assert_returned(response: httpx.Response, charge_id: str) -> None:
    assert response.status_code == 302, response.text
    location = urlsplit(response.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == RETURN_URL.split("?")[0]
    assert parse_qs(location.query) == {
        "order": ["ord_0001"],
        "lang": ["ar"],
        "tap_id": [charge_id],
    }


# Create ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("source", SOURCES)
def test_create_returns_an_initiated_charge_for_each_source(
    api: httpx.Client, live_server: Any, source: str
) -> None:
    response = api.post(
        "/v2/charges",
        json=charge_body(
            source={"id": source},
            post={"url": "https://shop.example/hooks/tap"},
            reference={"transaction": "txn_0001", "order": "ord_0001", "idempotent": "txn_0001"},
        ),
    )

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert b'"amount":10.5,' in response.content
    charge = decimal_json(response.content)
    assert charge["id"].startswith("chg_TS")
    assert charge["object"] == "charge"
    assert charge["live_mode"] is False
    assert charge["api_version"] == "V2"
    assert charge["status"] == "INITIATED"
    assert charge["amount"] == Decimal("10.5")
    assert charge["currency"] == "SAR"
    assert charge["threeDSecure"] is True
    assert charge["description"] == "Order ord_0001"
    assert charge["metadata"] == {"udf1": "tenant-7"}
    assert charge["customer"]["phone"] == {"country_code": "966", "number": "557877988"}
    assert charge["response"] == {"code": "100", "message": "Initiated"}
    reference = charge["reference"]
    assert reference["transaction"] == "txn_0001"
    assert reference["order"] == "ord_0001"
    assert reference["idempotent"] == "txn_0001"
    assert reference["track"].startswith("tck_")
    assert reference["payment"] == reference["gateway"] == ""
    transaction = charge["transaction"]
    assert transaction["url"] == f"{live_server.url}/sandbox/tap/pay/{charge['id']}/"
    assert transaction["created"].isdigit()
    assert len(transaction["created"]) == 13
    assert transaction["timezone"] == "UTC+03:00"
    assert transaction["expiry"] == {"period": 30, "type": "MINUTE"}
    assert charge["redirect"] == {"status": "PENDING", "url": RETURN_URL}
    assert charge["post"] == {
        "status": "PENDING",
        "url": "https://shop.example/hooks/tap",
        "attempt": 0,
    }
    expected_method = {"src_sa.mada": "MADA", "src_sa.stcpay": "STC_PAY"}.get(source)
    assert charge["source"]["id"] == source
    assert charge["source"]["payment_method"] == expected_method
    assert "card" not in charge


@pytest.mark.parametrize(
    ("raw_amount", "currency", "rendered"),
    [
        ("1", "SAR", b'"amount":1.0,'),
        ("12.250", "SAR", b'"amount":12.25,'),
        ("10.50", "USD", b'"amount":10.5,'),
        ("1.5", "KWD", b'"amount":1.5,'),
        ("0.125", "BHD", b'"amount":0.125,'),
    ],
)
def test_amount_is_a_short_json_number(
    api: httpx.Client, raw_amount: str, currency: str, rendered: bytes
) -> None:
    source = "src_sa.mada" if currency == "SAR" else "src_card"
    text = json.dumps(charge_body(currency=currency, source={"id": source}, amount=0))
    response = api.post(
        "/v2/charges",
        content=text.replace('"amount": 0', f'"amount": {raw_amount}'),
        headers={"Content-Type": "application/json"},
    )

    assert response.status_code == 200, response.text
    assert rendered in response.content
    assert TapCharge.objects.get().amount == Decimal(raw_amount)


def test_idempotent_replay_returns_the_original_charge(api: httpx.Client) -> None:
    reference = {"transaction": "txn_0042", "order": "ord_0042", "idempotent": "txn_0042"}
    first = create(api, reference=reference)

    replay = create(api, reference=reference, amount=99)

    assert replay["id"] == first["id"]
    assert replay["amount"] == Decimal("10.5")
    assert TapCharge.objects.count() == 1


def test_idempotent_values_are_scoped_to_the_key(api: httpx.Client, tap_url: str) -> None:
    reference = {"idempotent": "txn_0042"}
    mine = create(api, reference=reference)
    theirs = httpx.post(
        f"{tap_url}/v2/charges",
        json=charge_body(reference=reference),
        headers={"Authorization": f"Bearer {OTHER_SECRET}"},
    )

    assert theirs.status_code == 200
    assert theirs.json()["id"] != mine["id"]
    assert TapCharge.objects.count() == 2


def test_concurrent_idempotent_creates_make_one_charge(api: httpx.Client, tap_url: str) -> None:
    body = charge_body(reference={"idempotent": "txn_race"})
    barrier = threading.Barrier(6)
    ids: list[str] = []

    def create_once() -> None:
        barrier.wait()
        response = httpx.post(
            f"{tap_url}/v2/charges", json=body, headers={"Authorization": f"Bearer {SECRET}"}
        )
        ids.append(response.json()["id"])

    threads = [threading.Thread(target=create_once) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(ids) == 6
    assert len(set(ids)) == 1
    assert TapCharge.objects.count() == 1


def test_charges_without_idempotent_value_are_distinct(api: httpx.Client) -> None:
    assert create(api)["id"] != create(api)["id"]


def test_secret_key_is_never_stored_in_plaintext(api: httpx.Client) -> None:
    create(api)

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {connection.ops.quote_name(TapCharge._meta.db_table)}")
        dump = repr(cursor.fetchall())
    assert "sk_test" not in dump
    assert hashlib.sha256(SECRET.encode()).hexdigest() in dump


# Authentication and visibility -----------------------------------------------------------------


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Bearer",
        "Bearer sk_test_",
        "Bearer sk_live_XKokBfNWv6FIYuTMg5sLPjhJ",
        "Bearer pk_test_XKokBfNWv6FIYuTMg5sLPjhJ",
        "Basic c2tfdGVzdF94eXo6",
        "sk_test_XKokBfNWv6FIYuTMg5sLPjhJ",
    ],
)
def test_requests_without_a_test_secret_key_are_unauthorized(
    tap_url: str, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}

    response = httpx.post(f"{tap_url}/v2/charges", json=charge_body(), headers=headers)

    assert response.status_code == 401
    assert response.json() == {"errors": [{"code": "1111", "description": "Unauthorized"}]}
    assert TapCharge.objects.count() == 0


def test_get_requires_the_key_too(api: httpx.Client, tap_url: str) -> None:
    charge = create(api)

    response = httpx.get(f"{tap_url}/v2/charges/{charge['id']}")

    assert response.status_code == 401
    assert response.json()["errors"][0]["code"] == "1111"


def test_another_keys_charge_is_not_found(api: httpx.Client, tap_url: str) -> None:
    charge = create(api, source={"id": "src_sa.stcpay"})
    other = {"Authorization": f"Bearer {OTHER_SECRET}"}
    otp_body = {"gateway_response": {"name": "STC_PAY", "response": {"reference": {"otp": "1234"}}}}

    got = httpx.get(f"{tap_url}/v2/charges/{charge['id']}", headers=other)
    put = httpx.put(f"{tap_url}/v2/charges/{charge['id']}", json=otp_body, headers=other)

    assert_tap_error(got, 404)
    assert_tap_error(put, 404)
    assert TapCharge.objects.get().status == "INITIATED"


def test_unknown_charge_is_not_found(api: httpx.Client) -> None:
    assert_tap_error(api.get("/v2/charges/chg_TSdoesnotexist"), 404)


def test_unsupported_method_is_refused(api: httpx.Client) -> None:
    response = api.delete("/v2/charges")

    assert_tap_error(response, 405)
    assert response.headers["allow"] == "POST"


# Validation ------------------------------------------------------------------------------------


def _raw(**overrides: Any) -> str:
    return json.dumps(charge_body(**overrides))


INVALID_BODIES = {
    "malformed json": '{"amount": 10, "currency": ',
    "not an object": "[1, 2, 3]",
    "empty body": "",
    "not utf-8": b'{"amount": 10, "currency": "SAR\xff"}',
    "string amount": _raw(amount="10.50"),
    "boolean amount": _raw(amount=True),
    "null amount": _raw(amount=None),
    "missing amount": json.dumps({k: v for k, v in charge_body().items() if k != "amount"}),
    "negative amount": _raw(amount=-1),
    "zero amount": _raw(amount=0),
    "over-precise SAR": _raw(amount=10.001),
    "over-precise KWD": _raw(amount=1.0005, currency="KWD", source={"id": "src_card"}),
    "NaN amount": _raw(amount=0).replace('"amount": 0', '"amount": NaN'),
    "Infinity amount": _raw(amount=0).replace('"amount": 0', '"amount": Infinity'),
    "huge exponent amount": _raw(amount=0).replace('"amount": 0', '"amount": 1e999999'),
    "too large amount": _raw(amount=10**12),
    "unknown currency": _raw(currency="XYZ"),
    "numeric currency": _raw(currency=682),
    "unknown source": _raw(source={"id": "src_kw.knet"}),
    "source not an object": _raw(source="src_all"),
    "missing source": json.dumps({k: v for k, v in charge_body().items() if k != "source"}),
    "stcpay in USD": _raw(source={"id": "src_sa.stcpay"}, currency="USD", amount=10),
    "mada in AED": _raw(source={"id": "src_sa.mada"}, currency="AED", amount=10),
    "missing redirect": json.dumps({k: v for k, v in charge_body().items() if k != "redirect"}),
    "redirect without url": _raw(redirect={}),
    "relative redirect url": _raw(redirect={"url": "/return"}),
    "javascript redirect url": _raw(redirect={"url": "javascript:alert(1)"}),
    "redirect url with newline": _raw(redirect={"url": "https://shop.example/\r\nX: y"}),
    "broken ipv6 redirect url": _raw(redirect={"url": "http://[::1/return"}),
    "ftp post url": _raw(post={"url": "ftp://shop.example/hook"}),
    "numeric idempotent": _raw(reference={"idempotent": 42}),
    "long idempotent": _raw(reference={"idempotent": "x" * 256}),
    "metadata not an object": _raw(metadata=["a"]),
    "nul in description": _raw(description="a\u0000b"),
    "nul in metadata": _raw(metadata={"udf1": "a\u0000b"}),
    "lone surrogate": _raw(description="x").replace('"x"', '"\\ud800"'),
    "deep nesting": _raw(metadata={"a": 0}).replace('{"a": 0}', "[" * 100 + "]" * 100),
    "threeDSecure not a bool": _raw(threeDSecure="yes"),
    "expiry out of range": _raw(transaction={"expiry": {"period": 120, "type": "MINUTE"}}),
}


@pytest.mark.parametrize("body", INVALID_BODIES.values(), ids=INVALID_BODIES.keys())
def test_invalid_create_requests_are_400_never_500(api: httpx.Client, body: str | bytes) -> None:
    response = api.post("/v2/charges", content=body, headers={"Content-Type": "application/json"})

    assert_tap_error(response, 400)
    assert TapCharge.objects.count() == 0


def test_optional_expiry_is_echoed(api: httpx.Client) -> None:
    charge = create(api, transaction={"expiry": {"period": 10, "type": "MINUTE"}})

    assert charge["transaction"]["expiry"] == {"period": 10, "type": "MINUTE"}


def test_echoed_metadata_keeps_exact_numbers(api: httpx.Client) -> None:
    text = _raw(metadata={"udf1": 0}).replace('"udf1": 0', '"udf1": 0.1000000000000000055511')

    response = api.post("/v2/charges", content=text, headers={"Content-Type": "application/json"})

    assert response.status_code == 200, response.text
    assert b'"metadata":{"udf1":0.1000000000000000055511}' in response.content


# Hosted page -----------------------------------------------------------------------------------


@pytest.mark.parametrize("source", SOURCES)
def test_hosted_page_has_one_form_with_the_three_outcomes(
    api: httpx.Client, browser: httpx.Client, source: str
) -> None:
    charge = create(api, source={"id": source})

    page = browser.get(charge["transaction"]["url"])

    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "10.50\u00a0ر.س." in page.text  # Arabic unless the visitor picked English
    form = assert_outcome_form(page.text, "pay")
    otp_inputs = [i for i in form.inputs if i.get("name") == "otp"]
    if source == "src_sa.stcpay":
        assert len(otp_inputs) == 1
        assert otp_inputs[0]["id"] == "otp"
        assert otp_inputs[0]["placeholder"] == "أي 6 أرقام؛ والرمز 000000 يرفض العملية"
        assert "557877988" in page.text
    else:
        assert otp_inputs == []


def test_hosted_page_in_english_names_the_store_from_the_metadata(
    api: httpx.Client, browser: httpx.Client
) -> None:
    """Tap's page names the account's business; the sandbox has no business profile, so it
    shows the store name the platform sends in `metadata.store_name`."""
    charge = create(api, metadata={"udf1": "a-1", "store_name": "Nakheel Dates"})
    browser.cookies.set("wasla_language", "en")
    page = browser.get(charge["transaction"]["url"])
    assert '<html lang="en" dir="ltr">' in page.text
    assert 'id="merchant-name">Nakheel Dates<' in page.text
    assert "Pay SAR\u00a010.50" in page.text
    assert "Cancel and return to Nakheel Dates" in page.text
    without = create(api)
    assert 'id="merchant-name">Test merchant<' in browser.get(without["transaction"]["url"]).text


def test_the_hosted_pages_language_switch_goes_back_to_the_page(
    api: httpx.Client, browser: httpx.Client, tap_url: str
) -> None:
    page_url = create(api)["transaction"]["url"]
    page = browser.get(page_url)
    assert '<html lang="ar" dir="rtl">' in page.text
    switch = page.text.split('id="language-switch" href="')[1].split('"')[0]
    assert switch == "/sandbox/language/en/"
    base = tap_url.removesuffix("/sandbox/tap")
    answer = browser.get(base + switch, headers={"Referer": page_url})
    assert answer.status_code == 302
    assert answer.headers["location"] == page_url.removeprefix(base)
    assert browser.cookies["wasla_language"] == "en"
    assert '<html lang="en" dir="ltr">' in browser.get(page_url).text
    # Only back to a sandbox page of this host: anything else lands on the home page.
    for elsewhere in ("https://evil.example/sandbox/tap/pay/x/", f"{base}/admin/"):
        answer = browser.get(f"{base}/sandbox/language/ar/", params={"next": elsewhere})
        assert answer.headers["location"] == "/"
    # An unknown language changes nothing.
    answer = browser.get(f"{base}/sandbox/language/xx/", headers={"Referer": page_url})
    assert answer.status_code == 302
    assert "wasla_language=xx" not in answer.headers.get("set-cookie", "")


def test_unknown_hosted_page_is_404(browser: httpx.Client, tap_url: str) -> None:
    assert browser.get(f"{tap_url}/pay/chg_TSnope/").status_code == 404


def test_mada_succeed_captures_and_sends_a_signed_webhook(
    api: httpx.Client, browser: httpx.Client, receiver: Receiver
) -> None:
    charge = create(api, post={"url": receiver.url})

    response = submit(browser, charge["transaction"]["url"], "succeed")

    assert_returned(response, charge["id"])
    assert len(receiver.deliveries) == 1
    delivery = receiver.deliveries[0]
    assert delivery.path == "/webhooks/tap"
    assert_signed(delivery)
    assert b'"amount":10.5,' in delivery.body
    sent = delivery.charge
    assert sent["id"] == charge["id"]
    assert sent["status"] == "CAPTURED"
    assert sent["response"] == {"code": "000", "message": "Captured"}
    assert sent["source"]["payment_method"] == "MADA"
    assert sent["reference"]["gateway"]
    assert sent["reference"]["payment"]

    settled = fetch(api, charge["id"])
    assert settled["status"] == "CAPTURED"
    assert settled["reference"]["gateway"] == sent["reference"]["gateway"]
    assert settled["reference"]["payment"] == sent["reference"]["payment"]
    assert settled["post"] == {"status": "SUCCESS", "url": receiver.url, "attempt": 1}
    assert "card" not in settled


@pytest.mark.parametrize("source", ["src_card", "src_all"])
def test_card_succeed_goes_through_3ds_then_captures(
    api: httpx.Client, browser: httpx.Client, receiver: Receiver, live_server: Any, source: str
) -> None:
    charge = create(api, source={"id": source}, post={"url": receiver.url})
    pay_url = charge["transaction"]["url"]

    to_3ds = submit(browser, pay_url, "succeed")

    assert to_3ds.status_code == 302
    challenge_url = f"{pay_url}3ds/"
    assert urljoin(pay_url, to_3ds.headers["location"]) == challenge_url
    assert fetch(api, charge["id"])["status"] == "INITIATED"
    assert receiver.deliveries == []
    challenge = browser.get(challenge_url)
    assert challenge.status_code == 200
    assert_outcome_form(challenge.text, "3ds")

    done = submit(browser, challenge_url, "succeed")

    assert_returned(done, charge["id"])
    settled = fetch(api, charge["id"])
    assert settled["status"] == "CAPTURED"
    assert settled["source"]["payment_method"] == "MASTERCARD"
    assert settled["card"]["first_six"] == "512345"
    assert settled["card"]["last_four"] == "0008"
    assert settled["card"]["scheme"] == settled["card"]["brand"] == "MASTERCARD"
    assert len(receiver.deliveries) == 1
    assert_signed(receiver.deliveries[0])
    assert receiver.deliveries[0].charge["card"]["last_four"] == "0008"


@pytest.mark.parametrize(
    ("source", "page", "outcome", "status", "code"),
    [
        ("src_sa.mada", "", "decline", "DECLINED", ("507", "Declined")),
        ("src_sa.mada", "", "cancel", "CANCELLED", ("301", "Cancelled")),
        ("src_card", "", "decline", "DECLINED", ("507", "Declined")),
        ("src_all", "", "cancel", "CANCELLED", ("301", "Cancelled")),
        ("src_card", "3ds/", "decline", "DECLINED", ("507", "Declined")),
        ("src_card", "3ds/", "cancel", "CANCELLED", ("301", "Cancelled")),
        ("src_sa.stcpay", "", "decline", "DECLINED", ("507", "Declined")),
        ("src_sa.stcpay", "", "cancel", "CANCELLED", ("301", "Cancelled")),
    ],
)
def test_decline_and_cancel_settle_and_notify(
    api: httpx.Client,
    browser: httpx.Client,
    receiver: Receiver,
    source: str,
    page: str,
    outcome: str,
    status: str,
    code: tuple[str, str],
) -> None:
    charge = create(api, source={"id": source}, post={"url": receiver.url})

    response = submit(browser, charge["transaction"]["url"] + page, outcome)

    assert_returned(response, charge["id"])
    settled = fetch(api, charge["id"])
    assert settled["status"] == status
    assert (settled["response"]["code"], settled["response"]["message"]) == code
    assert settled["reference"]["gateway"]
    assert settled["reference"]["payment"]
    assert len(receiver.deliveries) == 1
    assert receiver.deliveries[0].charge["status"] == status
    assert_signed(receiver.deliveries[0])


def test_final_charge_page_shows_status_and_return_link(
    api: httpx.Client, browser: httpx.Client
) -> None:
    charge = create(api)
    submit(browser, charge["transaction"]["url"], "cancel")

    page = browser.get(charge["transaction"]["url"])

    assert page.status_code == 200
    assert "CANCELLED" in page.text
    assert forms_of(page.text) == []
    assert f"tap_id={charge['id']}" in page.text


def test_posting_a_final_charge_again_sends_no_second_webhook(
    api: httpx.Client, browser: httpx.Client, receiver: Receiver
) -> None:
    charge = create(api, post={"url": receiver.url})
    submit(browser, charge["transaction"]["url"], "succeed")
    first = fetch(api, charge["id"])

    again = submit(browser, charge["transaction"]["url"], "decline")

    assert_returned(again, charge["id"])
    assert fetch(api, charge["id"]) == first
    assert len(receiver.deliveries) == 1


def test_concurrent_submissions_settle_once(
    api: httpx.Client, receiver: Receiver, live_server: Any
) -> None:
    charge = create(api, post={"url": receiver.url})
    barrier = threading.Barrier(6)
    statuses: list[int] = []

    def click() -> None:
        barrier.wait()
        response = httpx.post(charge["transaction"]["url"], data={"outcome": "succeed"})
        statuses.append(response.status_code)

    threads = [threading.Thread(target=click) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert statuses == [302] * 6
    assert len(receiver.deliveries) == 1
    assert fetch(api, charge["id"])["post"]["attempt"] == 1


def test_invalid_outcome_is_rejected_without_settling(
    api: httpx.Client, browser: httpx.Client
) -> None:
    charge = create(api)

    response = submit(browser, charge["transaction"]["url"], "refund")

    assert response.status_code == 400
    assert_outcome_form(response.text, "pay")
    assert fetch(api, charge["id"])["status"] == "INITIATED"


def test_failing_receiver_does_not_break_the_hosted_page(
    api: httpx.Client, browser: httpx.Client, receiver: Receiver
) -> None:
    receiver.status = 500
    charge = create(api, post={"url": receiver.url})

    response = submit(browser, charge["transaction"]["url"], "succeed")

    assert_returned(response, charge["id"])
    assert fetch(api, charge["id"])["post"] == {
        "status": "ERROR",
        "url": receiver.url,
        "attempt": 1,
    }


def test_unreachable_receiver_does_not_break_the_hosted_page(
    api: httpx.Client, browser: httpx.Client
) -> None:
    charge = create(api, post={"url": "http://127.0.0.1:9/nothing-listens-here"})

    response = submit(browser, charge["transaction"]["url"], "succeed")

    assert_returned(response, charge["id"])
    settled = fetch(api, charge["id"])
    assert settled["status"] == "CAPTURED"
    assert settled["post"]["status"] == "ERROR"


def test_charge_without_post_url_settles_silently(api: httpx.Client, browser: httpx.Client) -> None:
    charge = create(api)

    response = submit(browser, charge["transaction"]["url"], "succeed")

    assert_returned(response, charge["id"])
    assert fetch(api, charge["id"])["post"] == {"status": "PENDING", "url": "", "attempt": 0}


def test_return_url_without_query_gets_one(api: httpx.Client, browser: httpx.Client) -> None:
    charge = create(api, redirect={"url": "https://shop.example/return#done"})

    response = submit(browser, charge["transaction"]["url"], "cancel")

    assert response.headers["location"] == f"https://shop.example/return?tap_id={charge['id']}#done"


# STC Pay ---------------------------------------------------------------------------------------


def otp_body(otp: Any) -> dict[str, Any]:
    return {"gateway_response": {"name": "STC_PAY", "response": {"reference": {"otp": otp}}}}


@pytest.mark.parametrize(("otp", "status"), [("123456", "CAPTURED"), ("000000", "DECLINED")])
def test_stcpay_page_applies_the_otp(
    api: httpx.Client, browser: httpx.Client, receiver: Receiver, otp: str, status: str
) -> None:
    charge = create(api, source={"id": "src_sa.stcpay"}, post={"url": receiver.url})

    response = submit(browser, charge["transaction"]["url"], "succeed", otp=otp)

    assert_returned(response, charge["id"])
    settled = fetch(api, charge["id"])
    assert settled["status"] == status
    assert settled["source"]["payment_method"] == "STC_PAY"
    assert len(receiver.deliveries) == 1
    assert_signed(receiver.deliveries[0])


@pytest.mark.parametrize("otp", [None, "", "12", "12345678901", "12a456"])
def test_stcpay_page_requires_a_valid_otp(
    api: httpx.Client, browser: httpx.Client, receiver: Receiver, otp: str | None
) -> None:
    charge = create(api, source={"id": "src_sa.stcpay"}, post={"url": receiver.url})
    fields = {} if otp is None else {"otp": otp}

    response = submit(browser, charge["transaction"]["url"], "succeed", **fields)

    assert response.status_code == 400
    assert 'role="alert"' in response.text
    assert_outcome_form(response.text, "pay")
    assert fetch(api, charge["id"])["status"] == "INITIATED"
    assert receiver.deliveries == []


@pytest.mark.parametrize(("otp", "status"), [("123456", "CAPTURED"), ("000000", "DECLINED")])
def test_stcpay_put_otp_settles_and_notifies(
    api: httpx.Client, receiver: Receiver, otp: str, status: str
) -> None:
    charge = create(api, source={"id": "src_sa.stcpay"}, post={"url": receiver.url})

    response = api.put(f"/v2/charges/{charge['id']}", json=otp_body(otp))

    assert response.status_code == 200, response.text
    updated = decimal_json(response.content)
    assert updated["status"] == status
    assert updated["post"] == {"status": "SUCCESS", "url": receiver.url, "attempt": 1}
    assert len(receiver.deliveries) == 1
    assert receiver.deliveries[0].charge["status"] == status
    assert_signed(receiver.deliveries[0])

    repeat = api.put(f"/v2/charges/{charge['id']}", json=otp_body("654321"))

    assert_tap_error(repeat, 400)
    assert fetch(api, charge["id"])["status"] == status
    assert len(receiver.deliveries) == 1


@pytest.mark.parametrize(
    "body",
    [
        otp_body("12"),
        otp_body(123456),
        otp_body(None),
        {"gateway_response": {"name": "MADA", "response": {"reference": {"otp": "123456"}}}},
        {"gateway_response": "STC_PAY"},
        {},
    ],
)
def test_stcpay_put_rejects_bad_bodies(api: httpx.Client, body: dict[str, Any]) -> None:
    charge = create(api, source={"id": "src_sa.stcpay"})

    assert_tap_error(api.put(f"/v2/charges/{charge['id']}", json=body), 400)
    assert fetch(api, charge["id"])["status"] == "INITIATED"


def test_put_otp_on_a_non_stcpay_charge_is_refused(api: httpx.Client) -> None:
    charge = create(api)

    assert_tap_error(api.put(f"/v2/charges/{charge['id']}", json=otp_body("123456")), 400)
    assert fetch(api, charge["id"])["status"] == "INITIATED"


# Fault knobs -----------------------------------------------------------------------------------


DEFAULT_KNOBS = {
    "webhook": "send",
    "delay_seconds": 0.0,
    "api": "ok",
    "timeout_seconds": 5.0,
    "api_fail_count": 0,
    "held": 0,
}


def test_control_endpoint_reads_sets_and_resets_knobs(tap_url: str) -> None:
    control = f"{tap_url}/_control/"

    assert httpx.get(control).json() == DEFAULT_KNOBS
    assert httpx.post(control, json={"webhook": "duplicate"}).json() == {
        **DEFAULT_KNOBS,
        "webhook": "duplicate",
    }
    changed = {"delay_seconds": 0.25, "api": "timeout", "timeout_seconds": 2, "api_fail_count": 3}
    assert httpx.post(control, json=changed).json() == {
        **DEFAULT_KNOBS,
        "webhook": "duplicate",
        **changed,
    }
    assert httpx.get(control).json()["api"] == "timeout"
    assert httpx.delete(control).json() == DEFAULT_KNOBS
    assert knobs_get().webhook == "send"
    assert knobs_get().api == "ok"


@pytest.mark.parametrize(
    "body",
    [
        '{"webhook": "sometimes"}',
        '{"webhook": 1}',
        '{"delay": 5}',
        "not json",
        '{"delay_seconds": -1}',
        '{"delay_seconds": "1"}',
        '{"delay_seconds": 1e9}',
        '{"api": "down"}',
        '{"timeout_seconds": true}',
        '{"api_fail_count": -1}',
        '{"api_fail_count": 1.5}',
        '{"webhook": "hold", "api": "down"}',
    ],
)
def test_control_endpoint_rejects_bad_knobs(tap_url: str, body: str) -> None:
    response = httpx.post(f"{tap_url}/_control/", content=body)

    assert_tap_error(response, 400)
    assert knobs_get().webhook == "send"
    assert httpx.get(f"{tap_url}/_control/").json() == DEFAULT_KNOBS


def test_knobs_can_be_set_from_python() -> None:
    assert knobs_set(webhook="drop").webhook == "drop"
    assert knobs_get().webhook == "drop"
    with pytest.raises(ValueError, match="webhook must be one of"):
        knobs_set(webhook="sometimes")
    knobs = knobs_set(delay_seconds=1.5, api="error_500", api_fail_count=2, timeout_seconds=0.5)
    assert (knobs.webhook, knobs.delay_seconds, knobs.api) == ("drop", 1.5, "error_500")
    assert (knobs.api_fail_count, knobs.timeout_seconds) == (2, 0.5)
    with pytest.raises(ValueError, match="api must be one of"):
        knobs_set(api="sometimes")
    reset = knobs_reset()
    assert (reset.webhook, reset.delay_seconds, reset.api) == ("send", 0.0, "ok")


def test_drop_knob_settles_but_sends_nothing(
    api: httpx.Client, browser: httpx.Client, receiver: Receiver, tap_url: str
) -> None:
    httpx.post(f"{tap_url}/_control/", json={"webhook": "drop"})
    charge = create(api, post={"url": receiver.url})

    response = submit(browser, charge["transaction"]["url"], "succeed")

    assert_returned(response, charge["id"])
    settled = fetch(api, charge["id"])
    assert settled["status"] == "CAPTURED"
    assert settled["post"]["attempt"] == 0
    assert receiver.deliveries == []


def test_duplicate_knob_delivers_the_same_body_twice(
    api: httpx.Client, browser: httpx.Client, receiver: Receiver
) -> None:
    knobs_set(webhook="duplicate")
    charge = create(api, post={"url": receiver.url})

    submit(browser, charge["transaction"]["url"], "succeed")

    assert len(receiver.deliveries) == 2
    first, second = receiver.deliveries
    assert first.body == second.body
    assert first.headers["hashstring"] == second.headers["hashstring"]
    assert_signed(first)
    assert fetch(api, charge["id"])["post"]["attempt"] == 2


def test_bad_signature_knob_signs_with_another_key(
    api: httpx.Client, browser: httpx.Client, receiver: Receiver
) -> None:
    knobs_set(webhook="bad_signature")
    charge = create(api, post={"url": receiver.url})

    submit(browser, charge["transaction"]["url"], "succeed")

    assert len(receiver.deliveries) == 1
    delivery = receiver.deliveries[0]
    assert len(delivery.headers["hashstring"]) == 64
    assert delivery.headers["hashstring"] != tap_hashstring(delivery.charge, SECRET)
    assert delivery.charge["status"] == "CAPTURED"


def test_bad_signature_knob_applies_to_stcpay_put(api: httpx.Client, receiver: Receiver) -> None:
    knobs_set(webhook="bad_signature")
    charge = create(api, source={"id": "src_sa.stcpay"}, post={"url": receiver.url})

    api.put(f"/v2/charges/{charge['id']}", json=otp_body("123456"))

    delivery = receiver.deliveries[0]
    assert delivery.headers["hashstring"] != tap_hashstring(delivery.charge, SECRET)


# hashstring known answers ----------------------------------------------------------------------


def test_hashstring_known_answer_sar_formats_two_decimals() -> None:
    charge = {
        "id": "chg_TS05A4420231233Zk5X1611456",
        "amount": Decimal("1.0"),
        "currency": "SAR",
        "status": "CAPTURED",
        "reference": {"gateway": "123456789012", "payment": "2312331234567890123"},
        "transaction": {"created": "1698392202943"},
    }
    message = (
        "x_idchg_TS05A4420231233Zk5X1611456x_amount1.00x_currencySAR"
        "x_gateway_reference123456789012x_payment_reference2312331234567890123"
        "x_statusCAPTUREDx_created1698392202943"
    )
    expected = hmac.new(SECRET.encode(), message.encode(), hashlib.sha256).hexdigest()

    assert tap_hashstring(charge, SECRET) == expected
    assert expected == "e8363baa18d7fe288e99e93fa60f5df36f2e95425f41a5c65456891d345cf0f0"


def test_hashstring_known_answer_kwd_formats_three_decimals_and_blank_references() -> None:
    # Parsed with plain json (amount becomes the float 1.5) and no reference object at all.
    charge = json.loads(
        '{"id": "chg_TS07A1520231433Hn2a1611789", "amount": 1.5, "currency": "KWD",'
        ' "status": "DECLINED", "transaction": {"created": "1698392299001"}}'
    )
    message = (
        "x_idchg_TS07A1520231433Hn2a1611789x_amount1.500x_currencyKWD"
        "x_gateway_referencex_payment_referencex_statusDECLINEDx_created1698392299001"
    )
    expected = hmac.new(SECRET.encode(), message.encode(), hashlib.sha256).hexdigest()

    assert tap_hashstring(charge, SECRET) == expected
    assert expected == "1ae85f9ad37a0c4733e0855038cc8c2d97e34f10a30b74411bc05a12853fb39b"


def test_hashstring_known_answer_for_a_refund_signs_its_own_created() -> None:
    refund = {
        "id": "re_TS02A5220231433Zq2K1611987",
        "object": "refund",
        "charge_id": "chg_TS05A4420231233Zk5X1611456",
        "amount": Decimal("2.5"),
        "currency": "SAR",
        "created": "1698395000123",
        "status": "REFUNDED",
        "reference": {"merchant": "rf_0001", "gateway": "998877665544", "payment": "77665544"},
        # A refund has no transaction object; if one were there it must not be used.
        "transaction": {"created": "1"},
    }
    message = (
        "x_idre_TS02A5220231433Zq2K1611987x_amount2.50x_currencySAR"
        "x_gateway_reference998877665544x_payment_reference77665544"
        "x_statusREFUNDEDx_created1698395000123"
    )
    expected = hmac.new(SECRET.encode(), message.encode(), hashlib.sha256).hexdigest()

    assert tap_hashstring(refund, SECRET) == expected
    assert expected == "cd67e07b33ea83f038adc23629170dec4e799f4180fa65a4b74d8c94c29f529e"


# Refunds ---------------------------------------------------------------------------------------


def wait_for(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.05)


def refund_body(charge_id: str, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "charge_id": charge_id,
        "amount": 4,
        "currency": "SAR",
        "reason": "requested_by_customer",
        "description": "Returned item",
        "reference": {"merchant": "rf_0001"},
        "metadata": {"udf1": "tenant-7"},
    }
    body.update(overrides)
    return body


def refund_create(api: httpx.Client, charge_id: str, **overrides: Any) -> dict[str, Any]:
    response = api.post("/v2/refunds", json=refund_body(charge_id, **overrides))
    assert response.status_code == 200, response.text
    return decimal_json(response.content)


def assert_refund_signed(delivery: Delivery, secret: str = SECRET) -> None:
    refund = delivery.charge
    message = (
        f"x_id{refund['id']}x_amount{refund['amount']:.2f}x_currency{refund['currency']}"
        f"x_gateway_reference{refund['reference']['gateway']}"
        f"x_payment_reference{refund['reference']['payment']}"
        f"x_status{refund['status']}x_created{refund['created']}"
    )
    expected = hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()
    assert delivery.headers["content-type"] == "application/json"
    assert delivery.headers["hashstring"] == expected
    assert tap_hashstring(refund, secret) == expected


@pytest.fixture
def captured(api: httpx.Client, browser: httpx.Client, receiver: Receiver) -> dict[str, Any]:
    """A SAR 10.50 mada charge paid on the hosted page, its webhook already received."""
    charge = create(api, post={"url": receiver.url})
    submit(browser, charge["transaction"]["url"], "succeed")
    receiver.deliveries.clear()
    return fetch(api, charge["id"])


def test_refund_is_refunded_at_once_and_sends_a_signed_webhook(
    api: httpx.Client, receiver: Receiver, captured: dict[str, Any]
) -> None:
    response = api.post(
        "/v2/refunds",
        json=refund_body(captured["id"], amount=4.5, post={"url": receiver.url + "?refund=1"}),
    )

    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    assert b'"amount":4.5,' in response.content
    refund = decimal_json(response.content)
    assert refund["id"].startswith("re_")
    assert refund["object"] == "refund"
    assert refund["api_version"] == "V2"
    assert refund["charge_id"] == captured["id"]
    assert (refund["amount"], refund["currency"]) == (Decimal("4.5"), "SAR")
    assert refund["created"].isdigit()
    assert len(refund["created"]) == 13
    assert refund["status"] == "REFUNDED"
    assert refund["response"] == {"code": "000", "message": "Refunded"}
    assert refund["reason"] == "requested_by_customer"
    assert refund["metadata"] == {"udf1": "tenant-7"}
    assert refund["reference"]["merchant"] == "rf_0001"
    assert refund["reference"]["gateway"]
    assert refund["reference"]["payment"]
    assert refund["post"] == {"url": receiver.url + "?refund=1", "status": "SUCCESS"}
    got = api.get(f"/v2/refunds/{refund['id']}")
    assert got.status_code == 200
    assert decimal_json(got.content) == refund

    assert len(receiver.deliveries) == 1
    delivery = receiver.deliveries[0]
    assert delivery.path == "/webhooks/tap?refund=1"
    assert delivery.charge == {**refund, "post": {**refund["post"], "status": "PENDING"}}
    assert_refund_signed(delivery)
    assert fetch(api, captured["id"])["status"] == "CAPTURED"


def test_refund_webhook_goes_to_the_charges_post_url_when_it_names_none(
    api: httpx.Client, receiver: Receiver, captured: dict[str, Any]
) -> None:
    refund = refund_create(api, captured["id"])

    assert refund["post"] == {"url": receiver.url, "status": "SUCCESS"}
    assert [d.charge["id"] for d in receiver.deliveries] == [refund["id"]]
    assert_refund_signed(receiver.deliveries[0])


def test_refund_of_a_charge_without_post_url_sends_nothing(
    api: httpx.Client, browser: httpx.Client, receiver: Receiver
) -> None:
    charge = create(api)
    submit(browser, charge["transaction"]["url"], "succeed")

    refund = refund_create(api, charge["id"])

    assert refund["post"] == {"url": "", "status": "PENDING"}
    assert receiver.deliveries == []


def test_partial_refunds_add_up_to_the_captured_amount_and_no_further(
    api: httpx.Client, receiver: Receiver, captured: dict[str, Any]
) -> None:
    first = refund_create(api, captured["id"], amount=4, reference={"merchant": "rf_1"})
    second = refund_create(api, captured["id"], amount=6.5, reference={"merchant": "rf_2"})

    assert first["id"] != second["id"]
    assert TapCharge.objects.get().amount_refunded == Decimal("10.5")
    over = api.post("/v2/refunds", json=refund_body(captured["id"], amount=0.01, reference={}))

    assert_tap_error(over, 400)
    assert over.json()["errors"][0]["code"] == "1132"
    assert TapRefund.objects.count() == 2
    assert len(receiver.deliveries) == 2


def test_refunding_more_than_captured_is_400_and_changes_nothing(
    api: httpx.Client, receiver: Receiver, captured: dict[str, Any]
) -> None:
    refund_create(api, captured["id"], amount=10, reference={"merchant": "rf_1"})

    response = api.post(
        "/v2/refunds", json=refund_body(captured["id"], amount=0.51, reference={"merchant": "x"})
    )

    assert_tap_error(response, 400)
    assert response.json()["errors"][0]["code"] == "1132"
    assert TapRefund.objects.count() == 1
    assert TapCharge.objects.get().amount_refunded == Decimal(10)
    assert len(receiver.deliveries) == 1


def test_same_merchant_reference_returns_the_original_refund(
    api: httpx.Client, receiver: Receiver, captured: dict[str, Any]
) -> None:
    first = refund_create(api, captured["id"], amount=4)

    replay = refund_create(api, captured["id"], amount=9)

    assert replay["id"] == first["id"]
    assert replay["amount"] == Decimal(4)
    assert TapRefund.objects.count() == 1
    assert TapCharge.objects.get().amount_refunded == Decimal(4)
    assert len(receiver.deliveries) == 1


def test_concurrent_refunds_with_one_merchant_reference_make_one(
    api: httpx.Client, tap_url: str, captured: dict[str, Any]
) -> None:
    barrier = threading.Barrier(6)
    ids: list[str] = []

    def refund_once() -> None:
        barrier.wait()
        response = httpx.post(
            f"{tap_url}/v2/refunds",
            json=refund_body(captured["id"], reference={"merchant": "rf_race"}),
            headers={"Authorization": f"Bearer {SECRET}"},
        )
        ids.append(response.json()["id"])

    threads = [threading.Thread(target=refund_once) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(ids) == 6
    assert len(set(ids)) == 1
    assert TapRefund.objects.count() == 1


def test_concurrent_refunds_never_exceed_the_charge(tap_url: str, captured: dict[str, Any]) -> None:
    barrier = threading.Barrier(5)
    statuses: list[int] = []

    def refund_once(index: int) -> None:
        barrier.wait()
        response = httpx.post(
            f"{tap_url}/v2/refunds",
            json=refund_body(captured["id"], amount=4, reference={"merchant": f"rf_{index}"}),
            headers={"Authorization": f"Bearer {SECRET}"},
        )
        statuses.append(response.status_code)

    threads = [threading.Thread(target=refund_once, args=(index,)) for index in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(statuses) == [200, 200, 400, 400, 400]
    assert TapCharge.objects.get().amount_refunded == Decimal(8)


def test_refunds_are_invisible_to_another_key(
    api: httpx.Client, tap_url: str, captured: dict[str, Any]
) -> None:
    other = {"Authorization": f"Bearer {OTHER_SECRET}"}
    refund = refund_create(api, captured["id"])

    created = httpx.post(f"{tap_url}/v2/refunds", json=refund_body(captured["id"]), headers=other)
    got = httpx.get(f"{tap_url}/v2/refunds/{refund['id']}", headers=other)

    assert_tap_error(created, 404)
    assert_tap_error(got, 404)
    assert_tap_error(api.get("/v2/refunds/re_TSnope"), 404)
    assert TapRefund.objects.count() == 1


def test_merchant_references_are_scoped_to_the_key(
    api: httpx.Client, browser: httpx.Client, tap_url: str, captured: dict[str, Any]
) -> None:
    other = {"Authorization": f"Bearer {OTHER_SECRET}"}
    theirs = httpx.post(f"{tap_url}/v2/charges", json=charge_body(), headers=other).json()
    submit(browser, theirs["transaction"]["url"], "succeed")
    mine = refund_create(api, captured["id"])

    response = httpx.post(f"{tap_url}/v2/refunds", json=refund_body(theirs["id"]), headers=other)

    assert response.status_code == 200, response.text
    assert response.json()["id"] != mine["id"]


@pytest.mark.parametrize("outcome", [None, "decline", "cancel"])
def test_only_captured_charges_can_be_refunded(
    api: httpx.Client, browser: httpx.Client, outcome: str | None
) -> None:
    charge = create(api)
    if outcome is not None:
        submit(browser, charge["transaction"]["url"], outcome)

    response = api.post("/v2/refunds", json=refund_body(charge["id"]))

    assert_tap_error(response, 400)
    assert TapRefund.objects.count() == 0


def test_refund_without_key_is_unauthorized(tap_url: str) -> None:
    response = httpx.post(f"{tap_url}/v2/refunds", json=refund_body("chg_TSnope"))

    assert response.status_code == 401


def _refund_raw(**overrides: Any) -> str:
    return json.dumps({**refund_body("CHARGE"), **overrides})


def _refund_without(name: str) -> str:
    return json.dumps({k: v for k, v in refund_body("CHARGE").items() if k != name})


INVALID_REFUNDS = {
    "malformed json": '{"charge_id": ',
    "not an object": "[]",
    "empty body": "",
    "missing charge_id": _refund_without("charge_id"),
    "numeric charge_id": _refund_raw(charge_id=42),
    "overlong charge_id": _refund_raw(charge_id="chg_" + "x" * 60),
    "nul in charge_id": _refund_raw(charge_id="chg_\u0000"),
    "missing amount": _refund_without("amount"),
    "string amount": _refund_raw(amount="4.00"),
    "boolean amount": _refund_raw(amount=True),
    "zero amount": _refund_raw(amount=0),
    "negative amount": _refund_raw(amount=-4),
    "over-precise amount": _refund_raw(amount=1.005),
    "huge amount": _refund_raw(amount=10**12),
    "NaN amount": _refund_raw(amount=0).replace('"amount": 0', '"amount": NaN'),
    "missing currency": _refund_without("currency"),
    "unknown currency": _refund_raw(currency="XYZ"),
    "another currency than the charge": _refund_raw(currency="USD"),
    "missing reason": _refund_without("reason"),
    "unknown reason": _refund_raw(reason="changed_mind"),
    "reference not an object": _refund_raw(reference="rf_1"),
    "numeric merchant reference": _refund_raw(reference={"merchant": 1}),
    "long merchant reference": _refund_raw(reference={"merchant": "x" * 256}),
    "metadata not an object": _refund_raw(metadata=["a"]),
    "relative post url": _refund_raw(post={"url": "/hooks"}),
    "post not an object": _refund_raw(post="https://shop.example/hook"),
    "long description": _refund_raw(description="x" * 1001),
    "lone surrogate": _refund_raw(description="x").replace('"x"', '"\\ud800"'),
}


@pytest.mark.parametrize("body", INVALID_REFUNDS.values(), ids=INVALID_REFUNDS.keys())
def test_invalid_refund_requests_are_400_never_500(
    api: httpx.Client, captured: dict[str, Any], body: str
) -> None:
    response = api.post(
        "/v2/refunds",
        content=body.replace("CHARGE", captured["id"]),
        headers={"Content-Type": "application/json"},
    )

    assert_tap_error(response, 400)
    assert TapRefund.objects.count() == 0
    assert TapCharge.objects.get().amount_refunded == 0


# Dashboard refunds -----------------------------------------------------------------------------


def test_dashboard_refund_sends_the_same_signed_webhook(
    tap_url: str, api: httpx.Client, receiver: Receiver, captured: dict[str, Any]
) -> None:
    response = httpx.post(
        f"{tap_url}/_control/dashboard_refund",
        json={"payment": captured["id"], "amount": "4.50"},
    )

    assert response.status_code == 200, response.text
    refund = decimal_json(response.content)
    assert refund["object"] == "refund"
    assert refund["status"] == "REFUNDED"
    assert (refund["charge_id"], refund["amount"]) == (captured["id"], Decimal("4.5"))
    assert refund["reference"]["merchant"] == ""
    assert refund["post"] == {"url": receiver.url, "status": "SUCCESS"}
    assert len(receiver.deliveries) == 1
    assert receiver.deliveries[0].charge["id"] == refund["id"]
    assert_refund_signed(receiver.deliveries[0])
    assert decimal_json(api.get(f"/v2/refunds/{refund['id']}").content) == refund

    rest = dashboard_refund(captured["id"])

    assert rest["amount"] == Decimal(6)
    assert len(receiver.deliveries) == 2
    assert_refund_signed(receiver.deliveries[1])
    assert TapCharge.objects.get().amount_refunded == Decimal("10.5")
    nothing_left = httpx.post(
        f"{tap_url}/_control/dashboard_refund", json={"payment": captured["id"]}
    )
    assert_tap_error(nothing_left, 400)


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"payment": "chg_TSnope"}, 404),
        ({"payment": "CHARGE", "amount": "11"}, 400),
        ({"payment": "CHARGE", "amount": "1.005"}, 400),
        ({"payment": "CHARGE", "amount": "0"}, 400),
        ({"payment": "CHARGE", "amount": "-1"}, 400),
        ({"payment": "CHARGE", "amount": "ten"}, 400),
        ({"payment": "CHARGE", "amount": True}, 400),
        ({"amount": "1"}, 400),
        ({"payment": "CHARGE", "extra": 1}, 400),
    ],
)
def test_dashboard_refund_refusals(
    tap_url: str, captured: dict[str, Any], body: dict[str, Any], status: int
) -> None:
    body = {key: captured["id"] if value == "CHARGE" else value for key, value in body.items()}

    response = httpx.post(f"{tap_url}/_control/dashboard_refund", json=body)

    assert_tap_error(response, status)
    assert TapRefund.objects.count() == 0


def test_dashboard_refund_of_an_unpaid_charge_raises_in_python(api: httpx.Client) -> None:
    charge = create(api)

    with pytest.raises(TapApiError) as caught:
        dashboard_refund(charge["id"], Decimal("1.00"))

    assert caught.value.status == 400


# Hold and flush --------------------------------------------------------------------------------


def test_hold_keeps_webhooks_until_a_reverse_flush(
    tap_url: str, api: httpx.Client, browser: httpx.Client, receiver: Receiver
) -> None:
    knobs_set(webhook="hold")
    charge = create(api, post={"url": receiver.url})
    submit(browser, charge["transaction"]["url"], "succeed")
    refund = dashboard_refund(charge["id"], Decimal("3.00"))

    assert receiver.deliveries == []
    assert httpx.get(f"{tap_url}/_control/").json()["held"] == 2
    assert fetch(api, charge["id"])["post"] == {
        "status": "PENDING",
        "url": receiver.url,
        "attempt": 0,
    }

    flushed = httpx.post(f"{tap_url}/_control/flush", json={"order": "reverse"})

    assert flushed.status_code == 200, flushed.text
    assert flushed.json() == {"sent": 2}
    assert [d.charge["id"] for d in receiver.deliveries] == [refund["id"], charge["id"]]
    assert_refund_signed(receiver.deliveries[0])
    assert_signed(receiver.deliveries[1])
    assert receiver.deliveries[1].charge["status"] == "CAPTURED"
    assert fetch(api, charge["id"])["post"]["status"] == "SUCCESS"
    assert TapRefund.objects.get().post_status == "SUCCESS"
    assert TapHeldWebhook.objects.count() == 0
    assert httpx.post(f"{tap_url}/_control/flush").json() == {"sent": 0}


def test_flush_forward_with_duplicates_sends_each_twice_in_order(
    api: httpx.Client, browser: httpx.Client, receiver: Receiver
) -> None:
    knobs_set(webhook="hold")
    charge = create(api, post={"url": receiver.url})
    submit(browser, charge["transaction"]["url"], "succeed")
    refund = refund_create(api, charge["id"])

    assert flush(order="forward", duplicate=True) == 4

    ids = [d.charge["id"] for d in receiver.deliveries]
    assert ids == [charge["id"], charge["id"], refund["id"], refund["id"]]
    assert receiver.deliveries[0].body == receiver.deliveries[1].body
    assert_signed(receiver.deliveries[0])
    assert_refund_signed(receiver.deliveries[3])
    assert fetch(api, charge["id"])["post"]["attempt"] == 2


@pytest.mark.parametrize(
    "body", ['{"order": "sideways"}', '{"duplicate": "yes"}', '{"when": 1}', "[]"]
)
def test_flush_refuses_bad_parameters(tap_url: str, body: str) -> None:
    assert_tap_error(httpx.post(f"{tap_url}/_control/flush", content=body), 400)


def test_reset_discards_held_webhooks(
    tap_url: str, api: httpx.Client, browser: httpx.Client, receiver: Receiver
) -> None:
    knobs_set(webhook="hold")
    charge = create(api, post={"url": receiver.url})
    submit(browser, charge["transaction"]["url"], "succeed")

    assert httpx.delete(f"{tap_url}/_control/").json() == DEFAULT_KNOBS

    assert flush() == 0
    assert receiver.deliveries == []


# Delayed delivery ------------------------------------------------------------------------------


def test_delayed_webhook_arrives_later_without_holding_up_the_redirect(
    api: httpx.Client, browser: httpx.Client, receiver: Receiver
) -> None:
    knobs_set(delay_seconds=1.0)
    charge = create(api, post={"url": receiver.url})

    started = time.monotonic()
    response = submit(browser, charge["transaction"]["url"], "succeed")

    assert time.monotonic() - started < 0.9
    assert_returned(response, charge["id"])
    assert receiver.deliveries == []
    assert fetch(api, charge["id"])["status"] == "CAPTURED"
    wait_for(lambda: TapCharge.objects.get().post_attempt == 1)
    assert len(receiver.deliveries) == 1
    assert_signed(receiver.deliveries[0])
    assert receiver.deliveries[0].charge["status"] == "CAPTURED"


# API faults ------------------------------------------------------------------------------------


def test_api_error_500_changes_nothing(
    api: httpx.Client, tap_url: str, browser: httpx.Client, captured: dict[str, Any]
) -> None:
    knobs_set(api="error_500")

    created = api.post("/v2/charges", json=charge_body())
    refunded = api.post("/v2/refunds", json=refund_body(captured["id"]))
    fetched = api.get(f"/v2/charges/{captured['id']}")

    for response in (created, refunded, fetched):
        assert_tap_error(response, 500)
        assert response.json()["errors"][0]["code"] == "1500"
    assert TapCharge.objects.count() == 1
    assert TapRefund.objects.count() == 0
    # Hosted pages and the controls are not the API.
    assert browser.get(captured["transaction"]["url"]).status_code == 200
    assert httpx.get(f"{tap_url}/_control/").status_code == 200


def test_api_timeout_processes_the_request_after_the_client_gave_up(tap_url: str) -> None:
    knobs_set(api="timeout", timeout_seconds=1.5)
    headers = {"Authorization": f"Bearer {SECRET}"}

    with pytest.raises(httpx.ReadTimeout):
        httpx.post(f"{tap_url}/v2/charges", json=charge_body(), headers=headers, timeout=0.5)

    assert TapCharge.objects.count() == 0
    wait_for(lambda: TapCharge.objects.count() == 1)
    knobs_reset()
    charge_id = TapCharge.objects.get().id
    assert httpx.get(f"{tap_url}/v2/charges/{charge_id}", headers=headers).status_code == 200


def test_api_fail_count_fails_only_the_next_calls(api: httpx.Client) -> None:
    knobs_set(api="error_500", api_fail_count=2)

    statuses = [api.post("/v2/charges", json=charge_body()).status_code for _ in range(3)]

    assert statuses == [500, 500, 200]
    assert TapCharge.objects.count() == 1
    knobs = knobs_get()
    assert (knobs.api, knobs.api_fail_count) == ("ok", 0)


def test_api_fail_count_counts_down_atomically(tap_url: str) -> None:
    knobs_set(api="error_500", api_fail_count=4)
    barrier = threading.Barrier(8)
    statuses: list[int] = []

    def call() -> None:
        barrier.wait()
        response = httpx.post(
            f"{tap_url}/v2/charges",
            json=charge_body(),
            headers={"Authorization": f"Bearer {SECRET}"},
        )
        statuses.append(response.status_code)

    threads = [threading.Thread(target=call) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(statuses) == [200] * 4 + [500] * 4
    assert TapCharge.objects.count() == 4
