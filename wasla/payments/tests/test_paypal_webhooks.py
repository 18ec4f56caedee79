"""PayPal webhooks: offline SHA256withRSA verification against the sandbox's certificate,
certificate-host allow-list, the verification API as fallback, and every real PayPal sample
(v1 capture shape) handled cleanly: stored, ignored with a log line, never a 500."""

from __future__ import annotations

import json
import socket
import uuid

import httpx
import pytest
from django.test import Client
from django.urls import reverse

from sandbox.paypal_sim.signing import certificate_path, sign_headers
from testsupport.factories import make_order
from wasla.payments.gateways import gateway_config_connect
from wasla.payments.models import PaymentGatewayConfig, WebhookEvent
from wasla.payments.orchestrator import PaymentOrchestrator
from wasla.payments.providers.base import EventKind
from wasla.payments.services import payment_checkout

from .fixtures import paypal_samples

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def paypal(sandbox, tenant) -> PaymentGatewayConfig:
    return gateway_config_connect(
        tenant=tenant,
        provider="paypal",
        mode="sandbox",
        public_key="client-" + uuid.uuid4().hex[:8],
        secret_key="secret-" + uuid.uuid4().hex,
    )


def _post(config, body: bytes, headers: dict[str, str]):
    url = reverse("webhook", kwargs={"provider": "paypal", "token": config.webhook_token})
    meta = {
        "HTTP_" + k.upper().replace("-", "_"): v for k, v in headers.items() if k != "Content-Type"
    }
    return Client().post(url, body, content_type="application/json", **meta)


def _cert_url(sandbox: str) -> str:
    return sandbox + certificate_path()


def test_every_paypal_sample_is_stored_and_handled(sandbox, paypal):
    samples = paypal_samples()
    assert len(samples) == 5
    provider = PaymentOrchestrator().provider(paypal)
    for name, body in samples.items():
        response = _post(
            paypal, body, sign_headers(body, paypal.webhook_secret, _cert_url(sandbox))
        )
        assert response.status_code == 200, (name, response.content)
        from wasla.payments.providers.base import WebhookRequest

        event = provider.parse_webhook(WebhookRequest(body, {}))
        # REST v1 bodies (resource_version absent): parsed, then ignored — Orders v2 sends 2.0.
        assert event.kind == EventKind.OTHER, name
        assert event.event_type == json.loads(body)["event_type"]
        assert event.amount is not None, name  # v1 `amount.total`
        assert event.currency, name
    events = WebhookEvent.objects.filter(signature_valid=True)
    assert events.count() == 5
    assert set(events.values_list("status", flat=True)) == {"ignored"}


@pytest.mark.parametrize(
    "forgery", ["tampered", "wrong_webhook_id", "foreign_cert_host", "bad_sig"]
)
def test_forged_paypal_webhooks_are_rejected_and_logged(sandbox, paypal, forgery, caplog):
    body = next(iter(paypal_samples().values()))
    webhook_id, cert_url = paypal.webhook_secret, _cert_url(sandbox)
    headers = sign_headers(body, webhook_id, cert_url)
    if forgery == "tampered":
        body = body.replace(b'"total"', b'"total" ', 1)
    elif forgery == "wrong_webhook_id":
        headers = sign_headers(body, "WH-SOMEONE-ELSE", cert_url)
    elif forgery == "foreign_cert_host":
        headers = {**headers, "PAYPAL-CERT-URL": "https://certs.attacker.example/cert.pem"}
    else:
        headers = {**headers, "PAYPAL-TRANSMISSION-SIG": headers["PAYPAL-TRANSMISSION-SIG"][::-1]}
    response = _post(paypal, body, headers)
    assert response.status_code == 401
    assert WebhookEvent.objects.get().status == "rejected"
    assert "webhook rejected" in caplog.text


def test_verification_api_is_the_fallback_when_the_certificate_cannot_be_fetched(sandbox, paypal):
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    dead = f"http://127.0.0.1:{closed.getsockname()[1]}{certificate_path()}"
    closed.close()
    # The sandbox's verify API re-serialises the event compactly; sign exactly those bytes.
    event = json.loads(next(iter(paypal_samples().values())))
    body = json.dumps(event, separators=(",", ":"), ensure_ascii=False).encode()
    good = sign_headers(body, paypal.webhook_secret, dead)
    assert _post(paypal, body, good).status_code == 200
    wrong = sign_headers(body, "WH-OTHER", dead)
    assert _post(paypal, body.replace(b"{", b"{ ", 1), wrong).status_code == 401


def test_the_oauth_token_is_cached(sandbox, paypal, tenant):
    for _ in range(3):
        order = make_order(tenant)
        payment_checkout(
            tenant=tenant,
            order_id=order.id,
            provider="paypal",
            method="paypal",
            return_url="",
            client_key=uuid.uuid4().hex,
        )
    requests = httpx.get(f"{sandbox}/sandbox/paypal/_control/").json()["token_requests"]
    assert requests[paypal.public_key] == 1  # one for registration and three checkouts


def test_every_money_moving_post_carries_a_stable_paypal_request_id(sandbox, paypal, tenant):
    """Order create, capture and refund each reach PayPal with a `PayPal-Request-Id` derived
    from our own ids (the sandbox keeps one row per id and operation), so a retry is a replay."""
    from sandbox.paypal_sim.models import PaypalIdempotentResponse
    from testsupport.factories import api_client_for
    from wasla.payments.orchestrator import provider_idempotency_key
    from wasla.payments.tests.hosted import pay_on_hosted_page

    order = make_order(tenant)
    attempt = payment_checkout(
        tenant=tenant,
        order_id=order.id,
        provider="paypal",
        method="paypal",
        return_url="",
        client_key=uuid.uuid4().hex,
    )
    pay_on_hosted_page(attempt.redirect_url, "succeed")
    attempt.refresh_from_db()
    assert attempt.status == "paid"
    refund = api_client_for(tenant).post(
        f"/api/v1/payments/{attempt.id}/refunds/",
        {"amount": "10.00"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="paypal-refund-1",
    )
    assert refund.status_code == 201, refund.content

    rows = dict(PaypalIdempotentResponse.objects.values_list("operation", "request_id"))
    assert set(rows) == {"order_create", "order_capture", "capture_refund"}
    assert rows["order_create"] == provider_idempotency_key(attempt)
    assert rows["order_capture"] == f"wasla-capture-{attempt.provider_reference}"
    assert refund.json()["id"].replace("-", "") in rows["capture_refund"].replace("-", "")


def test_every_post_to_paypal_carries_a_request_id():
    """Webhook registration and the verify-signature fallback are POSTs too: each carries a
    `PayPal-Request-Id` derived from what it is about, so a retried call is a replay."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from wasla.payments.providers.base import Credentials, WebhookRequest
    from wasla.payments.providers.paypal import PayPalProvider

    answers = {
        "/v1/oauth2/token": {"access_token": "A21-token", "expires_in": 3600},
        "/v1/notifications/webhooks": {"id": "WH-RECORDED"},
        "/v1/notifications/verify-webhook-signature": {"verification_status": "SUCCESS"},
    }
    seen: list[tuple[str, str | None]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            seen.append((self.path, self.headers.get("PayPal-Request-Id")))
            body = json.dumps(answers[self.path]).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        provider = PayPalProvider(
            Credentials(
                mode="sandbox",
                base_url=f"http://127.0.0.1:{server.server_address[1]}",
                public_key="client-" + uuid.uuid4().hex[:8],
                secret_key="secret-" + uuid.uuid4().hex,
                webhook_secret="WH-RECORDED",
                options={"cert_hosts": ["api.paypal.com"]},
            )
        )
        assert provider.register_webhook("https://pay.wasla.sa/webhooks/paypal/x/") == "WH-RECORDED"
        headers = {
            "paypal-auth-algo": "SHA256withRSA",
            "paypal-cert-url": "https://api.paypal.com/v1/notifications/certs/CERT-1",
            "paypal-transmission-id": "tx-42",
            "paypal-transmission-sig": "c2ln",
            "paypal-transmission-time": "2026-12-01T10:00:00Z",
        }
        assert provider._verify_by_api(WebhookRequest(body=b"{}", headers=headers), "WH-RECORDED")
    finally:
        server.shutdown()
        server.server_close()

    posts = dict(seen)
    assert set(posts) == set(answers)
    assert posts["/v1/oauth2/token"] is None  # form-encoded OAuth call, not an API POST
    assert posts["/v1/notifications/webhooks"].startswith("wasla-webhook-")
    assert posts["/v1/notifications/verify-webhook-signature"] == "wasla-verify-tx-42"


def test_the_signing_certificate_is_fetched_once_and_then_cached():
    """Verifying many webhooks signed with one certificate fetches it once, not per webhook."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from sandbox.paypal_sim.signing import certificate_pem
    from wasla.payments.providers.base import Credentials
    from wasla.payments.providers.paypal import PayPalProvider

    pem = certificate_pem().encode()
    fetches: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            fetches.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "application/x-pem-file")
            self.send_header("Content-Length", str(len(pem)))
            self.end_headers()
            self.wfile.write(pem)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/certs/{uuid.uuid4().hex}"
        provider = PayPalProvider(
            Credentials(
                mode="sandbox",
                base_url="http://127.0.0.1:9",
                public_key="client",
                secret_key="secret",
                webhook_secret="WH-1",
                options={"cert_hosts": ["127.0.0.1"]},
            )
        )
        first = provider._certificate(url)
        assert all(provider._certificate(url) == first for _ in range(5))
    finally:
        server.shutdown()
        server.server_close()
    assert len(fetches) == 1
