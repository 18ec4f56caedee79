"""One contract, every registered provider: create, verify, webhook valid / forged /
duplicate, status mapping, timeouts. A new provider adds a harness here and is checked the
same way. Everything runs over real HTTP against the sandbox simulators."""

from __future__ import annotations

import socket
import threading
import uuid
from dataclasses import dataclass
from decimal import Decimal

import httpx
import pytest
from django.test import override_settings

from testsupport.factories import api_client_for, make_gateway_config, make_order
from testsupport.servers import Blackhole
from wasla.payments.gateways import gateway_config_connect
from wasla.payments.models import PaymentAttempt, PaymentGatewayConfig, WebhookEvent
from wasla.payments.orchestrator import PaymentOrchestrator, provider_idempotency_key
from wasla.payments.providers.base import PaymentStatus, ProviderUnreachable, WebhookRequest
from wasla.payments.providers.registry import provider_names
from wasla.payments.services import payment_checkout
from wasla.settlement.models import SettlementRecord
from wasla.tenants.services import api_token_create

from .hosted import pay_on_hosted_page

pytestmark = pytest.mark.django_db(transaction=True)


@dataclass(frozen=True)
class Harness:
    provider: str
    method: str
    public_key: str
    secret_key: str
    hosted: bool = True  # pays on a hosted page and confirms by webhook

    def connect(self, tenant) -> PaymentGatewayConfig:
        return gateway_config_connect(
            tenant=tenant,
            provider=self.provider,
            mode=PaymentGatewayConfig.Mode.SANDBOX,
            public_key=self.public_key,
            secret_key=self.secret_key + uuid.uuid4().hex[:8],
        )


HARNESSES = {
    "tap": Harness("tap", "mada", "pk_test_tap", "sk_test_tap"),
    "stripe": Harness("stripe", "card", "pk_test_stripe", "sk_test_stripe"),
    "paypal": Harness("paypal", "paypal", "client-id-", "paypal-secret-"),
    "cod": Harness("cod", "cod", "", "", hosted=False),
}
HOSTED = [name for name, h in HARNESSES.items() if h.hosted]


def test_every_built_in_provider_has_a_harness():
    assert set(HARNESSES) <= set(provider_names())
    assert {"tap", "stripe", "paypal", "cod"} == set(HARNESSES)


def knob(base: str, provider: str, webhook: str) -> None:
    httpx.post(f"{base}/sandbox/{provider}/_control/", json={"webhook": webhook}).raise_for_status()


def checkout(tenant, harness: Harness) -> PaymentAttempt:
    order = make_order(tenant)
    return payment_checkout(
        tenant=tenant,
        order_id=order.id,
        provider=harness.provider,
        method=harness.method,
        return_url="https://shop.example/done",
        client_key=uuid.uuid4().hex,
    )


@pytest.fixture(params=list(HARNESSES))
def harness(request) -> Harness:
    return HARNESSES[request.param]


@pytest.fixture(params=HOSTED)
def hosted(request) -> Harness:
    return HARNESSES[request.param]


def test_create_is_idempotent_and_verifies_pending(sandbox, tenant, harness):
    config = harness.connect(tenant)
    attempt = checkout(tenant, harness)
    assert attempt.status == "pending"
    assert attempt.provider_reference
    assert bool(attempt.redirect_url) == harness.hosted
    orchestrator = PaymentOrchestrator()
    # The same attempt asks again: the provider idempotency key makes it the same payment.
    again = orchestrator.create_payment(attempt)
    assert again.provider_reference == attempt.provider_reference
    assert provider_idempotency_key(attempt).endswith(attempt.id.hex)
    truth = orchestrator.verify_payment(config, attempt.provider_reference)
    assert truth.status == PaymentStatus.PENDING


def test_paid_through_the_hosted_page_and_webhook(sandbox, tenant, hosted):
    hosted.connect(tenant)
    attempt = checkout(tenant, hosted)
    pay_on_hosted_page(attempt.redirect_url, "succeed")
    attempt.refresh_from_db()
    assert attempt.status == "paid"
    assert attempt.order.status == "paid"
    settlement = SettlementRecord.objects.get(order=attempt.order)
    assert (settlement.gross_amount, settlement.wasla_fee) == (Decimal("100.00"), Decimal("1.00"))
    assert WebhookEvent.objects.filter(signature_valid=True, status="processed").exists()
    assert not WebhookEvent.objects.filter(status__in=["failed", "rejected"]).exists()


@pytest.mark.parametrize(("outcome", "status"), [("decline", "failed"), ("cancel", "cancelled")])
def test_declined_and_cancelled_end_without_settlement(sandbox, tenant, hosted, outcome, status):
    hosted.connect(tenant)
    attempt = checkout(tenant, hosted)
    final = pay_on_hosted_page(attempt.redirect_url, outcome)
    attempt.refresh_from_db()
    assert attempt.status == status, attempt.failure_message
    assert final.url.path == f"/payments/return/{attempt.id}/"
    assert not SettlementRecord.objects.exists()


def test_verify_maps_the_real_outcome_without_a_webhook(sandbox, tenant, hosted):
    config = hosted.connect(tenant)
    knob(sandbox, hosted.provider, "drop")
    paid = checkout(tenant, hosted)
    pay_on_hosted_page(paid.redirect_url, "succeed")
    declined = checkout(tenant, hosted)
    pay_on_hosted_page(declined.redirect_url, "decline")
    orchestrator = PaymentOrchestrator()
    assert orchestrator.verify_payment(config, paid.provider_reference).status == PaymentStatus.PAID
    declined_truth = orchestrator.verify_payment(config, declined.provider_reference)
    assert declined_truth.status == PaymentStatus.FAILED
    assert declined_truth.failure_code


def test_forged_webhooks_are_rejected(sandbox, tenant, hosted):
    hosted.connect(tenant)
    knob(sandbox, hosted.provider, "bad_signature")
    attempt = checkout(tenant, hosted)
    pay_on_hosted_page(attempt.redirect_url, "succeed")
    rejected = WebhookEvent.objects.filter(status="rejected", signature_valid=False)
    assert rejected.exists()
    assert not WebhookEvent.objects.filter(signature_valid=True).exists()
    attempt.refresh_from_db()
    assert attempt.status != "paid" or hosted.provider == "paypal"  # PayPal's return captures
    if hosted.provider != "paypal":
        assert not SettlementRecord.objects.exists()


def test_duplicate_deliveries_have_one_effect(sandbox, tenant, hosted):
    hosted.connect(tenant)
    knob(sandbox, hosted.provider, "duplicate")
    attempt = checkout(tenant, hosted)
    pay_on_hosted_page(attempt.redirect_url, "succeed")
    attempt.refresh_from_db()
    assert attempt.status == "paid"
    assert SettlementRecord.objects.filter(order=attempt.order).count() == 1
    verified = WebhookEvent.objects.filter(signature_valid=True)
    assert verified.count() == verified.values("event_id").distinct().count()


@pytest.mark.parametrize("name", ["stripe", "paypal", "cod"])
def test_checkout_over_real_http_ends_paid_with_one_settlement(sandbox, tenant, name):
    """The merchant's integration as it really runs: every API call is an HTTP request to the
    live server; hosted providers are paid on the sandbox page (Stripe cards through a 3DS step)
    and confirmed by their webhook, cash on delivery by `collect`."""
    harness = HARNESSES[name]
    harness.connect(tenant)
    _, token = api_token_create(tenant=tenant, name="http")
    with httpx.Client(
        base_url=sandbox, headers={"Authorization": f"Bearer {token}"}, timeout=30
    ) as http:

        def post(path: str, body: dict | None = None) -> httpx.Response:
            return http.post(path, json=body or {}, headers={"Idempotency-Key": uuid.uuid4().hex})

        order = post("/api/v1/orders/", {"reference": f"HTTP-{name}", "amount": "100.00"})
        assert order.status_code == 201, order.text
        created = post(
            "/api/v1/payments/",
            {
                "order": order.json()["id"],
                "provider": name,
                "method": harness.method,
                "return_url": "https://shop.example/done",
            },
        )
        assert created.status_code == 201, created.text
        payment = created.json()
        assert payment["status"] == "pending"
        if harness.hosted:
            assert payment["redirect_url"].startswith(f"{sandbox}/sandbox/{name}/")
            visited: list[str] = []
            final = pay_on_hosted_page(payment["redirect_url"], "succeed", visited=visited)
            assert final.url.path == f"/payments/return/{payment['id']}/"
            assert 'data-status="paid"' in final.text
            assert any("/3ds/" in url for url in visited) == (name == "stripe"), visited
            assert WebhookEvent.objects.filter(signature_valid=True, status="processed").exists()
        else:
            assert payment["redirect_url"] == ""
            collected = post(f"/api/v1/payments/{payment['id']}/collect/")
            assert collected.status_code == 200, collected.text
            assert collected.json()["status"] == "paid"
        assert http.get(f"/api/v1/payments/{payment['id']}/").json()["status"] == "paid"
        assert http.get(f"/api/v1/orders/{payment['order']}/").json()["status"] == "paid"
        settlements = http.get("/api/v1/settlements/").json()["results"]
    assert [(s["payment_attempt"], s["gross_amount"], s["wasla_fee"]) for s in settlements] == [
        (payment["id"], "100.00", "1.00")
    ]
    assert not WebhookEvent.objects.filter(status__in=["failed", "rejected"]).exists()


def test_timeouts_and_connection_errors_are_unreachable_not_errors(
    sandbox, tenant, hosted, settings
):
    config = hosted.connect(tenant)
    attempt = checkout(tenant, hosted)
    hole = Blackhole()
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    dead_url = f"http://127.0.0.1:{closed.getsockname()[1]}"
    closed.close()
    try:
        for url in (hole.url, dead_url):
            urls = {p: dict(v) for p, v in settings.WASLA_PROVIDER_BASE_URLS.items()}
            urls[hosted.provider]["sandbox"] = f"{url}/sandbox/{hosted.provider}"
            with override_settings(
                WASLA_PROVIDER_BASE_URLS=urls,
                WASLA_PROVIDER_TIMEOUTS={"connect": 0.5, "read": 0.5},
            ):
                orchestrator = PaymentOrchestrator()
                with pytest.raises(ProviderUnreachable):
                    orchestrator.verify_payment(config, attempt.provider_reference)
                with pytest.raises(ProviderUnreachable):
                    orchestrator.create_payment(attempt)
    finally:
        hole.close()


def test_cash_on_delivery_is_confirmed_by_collection(sandbox, tenant):
    HARNESSES["cod"].connect(tenant)
    attempt = checkout(tenant, HARNESSES["cod"])
    assert (attempt.status, attempt.redirect_url) == ("pending", "")
    api = api_client_for(tenant)
    collect = f"/api/v1/payments/{attempt.id}/collect/"
    assert api.post(collect).status_code == 400  # Idempotency-Key required
    first = api.post(collect, HTTP_IDEMPOTENCY_KEY="collect-1")
    again = api.post(collect, HTTP_IDEMPOTENCY_KEY="collect-2")
    assert first.status_code == again.status_code == 200
    assert first.json()["status"] == "paid"
    assert SettlementRecord.objects.filter(order=attempt.order).count() == 1
    cod = PaymentOrchestrator().provider(attempt.gateway_config)
    assert cod.validate_webhook(WebhookRequest(b"{}", {})) is False  # COD has no webhooks


def test_only_cash_on_delivery_is_collected(sandbox, tenant):
    HARNESSES["tap"].connect(tenant)
    attempt = checkout(tenant, HARNESSES["tap"])
    response = api_client_for(tenant).post(
        f"/api/v1/payments/{attempt.id}/collect/", HTTP_IDEMPOTENCY_KEY="c"
    )
    assert response.status_code == 422
    attempt.refresh_from_db()
    assert attempt.status == "pending"


class _Recorder:
    """An HTTP server that records each request's path and Authorization and answers 503."""

    def __init__(self) -> None:
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        seen = self.seen = []

        class Handler(BaseHTTPRequestHandler):
            def _record(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                seen.append((self.path, self.headers.get("Authorization", "")))
                self.send_response(503)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b"{}")

            do_GET = do_POST = _record

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_live_mode_changes_only_the_base_url_and_keys(sandbox, tenant, hosted, settings):
    """A live config reaches the live host with the live keys; the code path is the same."""
    recorder = _Recorder()
    try:
        urls = {p: dict(v) for p, v in settings.WASLA_PROVIDER_BASE_URLS.items()}
        urls[hosted.provider]["live"] = f"{recorder.url}/live"
        settings.WASLA_PROVIDER_BASE_URLS = urls
        live = make_gateway_config(
            tenant,
            hosted.provider,
            mode="live",
            public_key="live-public",
            secret_key="sk_live_" + uuid.uuid4().hex,
            webhook_secret="live-webhook",
        )
        attempt = checkout_with(tenant, hosted, live)
        assert attempt.status == "pending"  # provider unreachable: outcome unknown
        assert recorder.seen, "nothing reached the live host"
        assert all(path.startswith("/live/") for path, _ in recorder.seen)
        auths = " ".join(auth for _, auth in recorder.seen)
        assert live.secret_key in auths or "Basic" in auths  # PayPal's token call uses Basic
    finally:
        recorder.close()


def checkout_with(tenant, harness: Harness, config: PaymentGatewayConfig) -> PaymentAttempt:
    """A checkout that the only active gateway, `config`, takes."""
    from wasla.common.problems import ProviderUnavailable

    PaymentGatewayConfig.objects.filter(tenant=tenant).exclude(pk=config.pk).update(is_active=False)
    order = make_order(tenant)
    with pytest.raises(ProviderUnavailable):
        payment_checkout(
            tenant=tenant,
            order_id=order.id,
            provider=harness.provider,
            method=harness.method,
            return_url="",
            client_key=uuid.uuid4().hex,
        )
    return PaymentAttempt.objects.get(order=order)


def test_paypal_captures_on_the_customers_return_when_no_webhook_came(sandbox, tenant):
    HARNESSES["paypal"].connect(tenant)
    knob(sandbox, "paypal", "drop")
    attempt = checkout(tenant, HARNESSES["paypal"])
    back = pay_on_hosted_page(attempt.redirect_url, "succeed", return_to_merchant=False)
    attempt.refresh_from_db()
    assert attempt.status == "pending"  # approved at PayPal, nobody has captured yet
    page = httpx.get(back.headers["location"])  # the customer lands on the return page
    assert 'data-status="paid"' in page.text
    attempt.refresh_from_db()
    assert attempt.status == "paid"
    assert SettlementRecord.objects.filter(order=attempt.order).count() == 1
