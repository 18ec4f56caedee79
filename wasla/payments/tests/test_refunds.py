"""Refunds over real HTTP against every provider's sandbox: partial, several, full; the
settlement's fee consequence; the provider's own refund webhooks never counted twice; two
concurrent refunds that together exceed the payment → exactly one succeeds."""

from __future__ import annotations

import json
import uuid
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from testsupport.factories import api_client_for
from testsupport.threads import in_threads
from wasla.orders.models import Order
from wasla.payments.models import PaymentAttempt, RefundRecord
from wasla.settlement.models import SettlementAdjustment, SettlementRecord

from .hosted import pay_on_hosted_page
from .test_provider_contract import HARNESSES, checkout

pytestmark = pytest.mark.django_db(transaction=True)

PROVIDERS = ["tap", "stripe", "paypal"]


def paid_attempt(tenant, provider: str) -> PaymentAttempt:
    HARNESSES[provider].connect(tenant)
    attempt = checkout(tenant, HARNESSES[provider])
    pay_on_hosted_page(attempt.redirect_url, "succeed")
    attempt.refresh_from_db()
    assert attempt.status == "paid"
    assert attempt.provider_payment_reference
    return attempt


def refund(api: APIClient, attempt, amount: str | None = None, key: str | None = None):
    body = {"reason": "customer changed their mind"}
    if amount is not None:
        body["amount"] = amount
    return api.post(
        f"/api/v1/payments/{attempt.id}/refunds/",
        json.dumps(body),
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY=key or uuid.uuid4().hex,
    )


@pytest.mark.parametrize("provider", PROVIDERS)
def test_partial_several_then_full_refund(sandbox, tenant, provider):
    attempt = paid_attempt(tenant, provider)
    api = api_client_for(tenant)

    first = refund(api, attempt, "30.00")
    assert first.status_code == 201, first.content
    assert first.json()["status"] == "succeeded"
    attempt.refresh_from_db()
    assert (attempt.status, attempt.refunded_amount) == ("partially_refunded", Decimal("30.00"))
    assert Order.objects.get(pk=attempt.order_id).status == "partially_refunded"

    assert refund(api, attempt, "20.00").json()["status"] == "succeeded"
    rest = refund(api, attempt)  # no amount: the rest
    assert rest.status_code == 201, rest.content
    assert rest.json()["amount"] == "50.00"

    attempt.refresh_from_db()
    assert (attempt.status, attempt.refunded_amount) == ("refunded", Decimal("100.00"))
    assert Order.objects.get(pk=attempt.order_id).status == "refunded"
    # The provider's webhooks about our own refunds added nothing.
    assert RefundRecord.objects.filter(payment_attempt=attempt).count() == 3
    assert set(RefundRecord.objects.values_list("status", flat=True)) == {"succeeded"}
    settlement = SettlementRecord.objects.get(payment_attempt=attempt)
    assert settlement.status == "reversed"
    assert settlement.wasla_fee == Decimal("1.00")  # history unchanged; the reversal is a row
    deltas = list(
        SettlementAdjustment.objects.filter(settlement=settlement)
        .order_by("created_at")
        .values_list("kind", "fee_delta")
    )
    assert deltas == [
        ("fee_reduction", Decimal("0.00")),
        ("fee_reduction", Decimal("0.00")),
        ("reversal", Decimal("-1.00")),
    ]
    listed = api.get(f"/api/v1/payments/{attempt.id}/refunds/").json()
    assert [r["amount"] for r in listed] == ["30.00", "20.00", "50.00"]

    too_much = refund(api, attempt, "0.01")
    assert too_much.status_code == 422


def test_refund_rules(sandbox, tenant, other_tenant):
    attempt = paid_attempt(tenant, "stripe")
    api = api_client_for(tenant)
    assert refund(api, attempt, "100.01").status_code == 422
    assert refund(api, attempt, "-5").status_code == 400
    assert refund(api, attempt, "1.001").status_code in (400, 422)
    assert (
        api_client_for(other_tenant).get(f"/api/v1/payments/{attempt.id}/refunds/").status_code
        == 404
    )
    assert refund(api_client_for(other_tenant), attempt, "1.00").status_code == 404
    no_key = api.post(
        f"/api/v1/payments/{attempt.id}/refunds/", "{}", content_type="application/json"
    )
    assert no_key.status_code == 400
    first = refund(api, attempt, "10.00", key="same")
    replay = refund(api, attempt, "10.00", key="same")
    assert replay.json() == first.json()
    assert RefundRecord.objects.count() == 1
    unpaid = checkout(tenant, HARNESSES["stripe"])
    assert refund(api, unpaid, "1.00").status_code == 422
    assert not RefundRecord.objects.filter(payment_attempt=unpaid).exists()


@pytest.mark.parametrize("repeat", range(5))
def test_two_concurrent_refunds_over_the_total_one_wins(sandbox, tenant, repeat):
    attempt = paid_attempt(tenant, "stripe")
    token = api_client_for(tenant)._credentials

    def sixty(i: int) -> int:
        client = APIClient()
        client.credentials(**token)
        return refund(client, attempt, "60.00").status_code

    statuses = in_threads(2, sixty)

    assert sorted(statuses) == [201, 422], statuses
    attempt.refresh_from_db()
    assert (attempt.status, attempt.refunded_amount) == ("partially_refunded", Decimal("60.00"))
    assert RefundRecord.objects.filter(payment_attempt=attempt, status="succeeded").count() == 1


def test_cash_on_delivery_refunds_are_recorded_by_staff_once_per_receipt(sandbox, tenant):
    from io import StringIO

    from django.core.management import CommandError, call_command

    HARNESSES["cod"].connect(tenant)
    attempt = checkout(tenant, HARNESSES["cod"])
    api = api_client_for(tenant)
    api.post(f"/api/v1/payments/{attempt.id}/collect/", HTTP_IDEMPOTENCY_KEY="collect")
    assert refund(api, attempt, "10.00").status_code == 422  # not through the API
    for _ in range(2):
        call_command(
            "record_cash_refund",
            str(attempt.id),
            "--amount",
            "40.00",
            "--receipt",
            "R-1",
            stdout=StringIO(),
        )
    attempt.refresh_from_db()
    assert (attempt.status, attempt.refunded_amount) == ("partially_refunded", Decimal("40.00"))
    with pytest.raises(CommandError):
        call_command("record_cash_refund", str(attempt.id), "--amount", "70.00", "--receipt", "R-2")


def _knob(sandbox: str, provider: str, **knobs) -> None:
    import httpx

    httpx.post(f"{sandbox}/sandbox/{provider}/_control/", json=knobs).raise_for_status()


def _flush(sandbox: str, provider: str, order: str, duplicate: bool) -> int:
    import httpx

    response = httpx.post(
        f"{sandbox}/sandbox/{provider}/_control/flush",
        json={"order": order, "duplicate": duplicate},
        timeout=60,
    )
    response.raise_for_status()
    return response.json()["sent"]


def _dashboard_refund(sandbox: str, provider: str, payment: str, amount: str) -> None:
    import httpx

    httpx.post(
        f"{sandbox}/sandbox/{provider}/_control/dashboard_refund",
        json={"payment": payment, "amount": amount},
        timeout=60,
    ).raise_for_status()


def _sweep_until_quiet() -> None:
    from django.utils import timezone

    from wasla.payments.models import WebhookEvent
    from wasla.payments.webhooks.sweep import webhook_events_sweep

    for _ in range(5):  # parked events become due at once; re-drive what is left
        WebhookEvent.objects.filter(status="received").update(next_attempt_at=timezone.now())
        if not webhook_events_sweep():
            return


def _end_state(attempt: PaymentAttempt) -> tuple:
    attempt.refresh_from_db()
    return (
        attempt.status,
        attempt.refunded_amount,
        Order.objects.get(pk=attempt.order_id).status,
        RefundRecord.objects.filter(payment_attempt=attempt).count(),
        SettlementRecord.objects.filter(order_id=attempt.order_id).count(),
        SettlementAdjustment.objects.filter(refund__payment_attempt=attempt).count(),
    )


@pytest.mark.parametrize("provider", ["tap", "stripe"])
def test_refund_before_payment_with_duplicates_ends_as_in_order(sandbox, tenant, provider):
    """A dashboard refund whose webhook overtakes the payment's, every webhook delivered twice,
    ends exactly where in-order delivery ends: paid once, refunded once."""
    HARNESSES[provider].connect(tenant)
    states = {}
    for order in ("forward", "reverse"):
        _knob(sandbox, provider, webhook="hold")
        attempt = checkout(tenant, HARNESSES[provider])
        pay_on_hosted_page(attempt.redirect_url, "succeed", return_to_merchant=False)
        _dashboard_refund(sandbox, provider, attempt.provider_reference, "30.00")
        assert _flush(sandbox, provider, order, duplicate=True) >= 4
        _sweep_until_quiet()
        states[order] = _end_state(attempt)
    expected = ("partially_refunded", Decimal("30.00"), "partially_refunded", 1, 1, 1)
    assert states == {"forward": expected, "reverse": expected}


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_dashboard_refund_known_only_from_its_webhook_is_recorded_once(sandbox, tenant, provider):
    attempt = paid_attempt(tenant, provider)
    _knob(sandbox, provider, webhook="duplicate")
    payment = (
        attempt.provider_reference if provider != "paypal" else attempt.provider_payment_reference
    )
    _dashboard_refund(sandbox, provider, payment, "25.00")
    _sweep_until_quiet()
    refunds = RefundRecord.objects.filter(payment_attempt=attempt)
    assert [(r.source, r.amount, r.status) for r in refunds] == [
        ("provider", Decimal("25.00"), "succeeded")
    ]
    attempt.refresh_from_db()
    assert (attempt.status, attempt.refunded_amount) == ("partially_refunded", Decimal("25.00"))


def test_the_refund_is_recorded_before_the_provider_call_and_keyed_by_its_id(
    sandbox, tenant, settings
):
    """With Stripe answering 500 to everything, the refund already exists (pending, its amount
    reserved) and every try went out with the Idempotency-Key derived from its id."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from wasla.payments.refunds import provider_refund_key

    attempt = paid_attempt(tenant, "stripe")
    seen: list[tuple[str, str]] = []

    class Down(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            seen.append((self.path, self.headers.get("Idempotency-Key", "")))
            self.send_response(500)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Down)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        settings.WASLA_PROVIDER_RETRY = {
            "attempts": 3,
            "initial_wait": 0.01,
            "max_wait": 0.02,
            "jitter": 0.0,
        }
        urls = {p: dict(v) for p, v in settings.WASLA_PROVIDER_BASE_URLS.items()}
        urls["stripe"]["sandbox"] = f"http://127.0.0.1:{server.server_address[1]}"
        settings.WASLA_PROVIDER_BASE_URLS = urls
        response = refund(api_client_for(tenant), attempt, "40.00")
    finally:
        server.shutdown()
        server.server_close()

    assert response.status_code == 202, response.content  # accepted, outcome unknown yet
    assert response.json()["status"] == "pending"
    record = RefundRecord.objects.get(payment_attempt=attempt)
    assert (record.status, record.amount) == ("pending", Decimal("40.00"))
    assert len(seen) == 3, seen
    assert {key for _, key in seen} == {provider_refund_key(record)}
    assert provider_refund_key(record).endswith(record.id.hex)
    attempt.refresh_from_db()
    assert (attempt.status, attempt.refunded_amount) == ("paid", Decimal("0.00"))
    # The pending refund holds its 40.00: only 60.00 is left to refund meanwhile.
    assert refund(api_client_for(tenant), attempt, "60.01").status_code == 422
