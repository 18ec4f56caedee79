"""Tap end to end over real HTTP: API checkout → sandbox hosted page → signed webhook → paid →
settlement with the 1.00 SAR fee. The product's real httpx client talks to the sandbox on a
live server; nothing is mocked."""

from __future__ import annotations

import uuid
from decimal import Decimal

import httpx
import pytest

from wasla.orders.models import Order
from wasla.payments.models import PaymentAttempt, WebhookEvent
from wasla.settlement.models import SettlementRecord
from wasla.tenants.services import api_token_create

from .hosted import pay_on_hosted_page

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def http(sandbox, tenant, tap_config):
    _, token = api_token_create(tenant=tenant, name="flow")
    with httpx.Client(
        base_url=sandbox, headers={"Authorization": f"Bearer {token}"}, timeout=30
    ) as client:
        yield client


def _post(http: httpx.Client, path: str, body: dict) -> httpx.Response:
    return http.post(path, json=body, headers={"Idempotency-Key": uuid.uuid4().hex})


def _checkout(http: httpx.Client, method: str, amount: str = "100.00") -> dict:
    order = _post(
        http,
        "/api/v1/orders/",
        {
            "reference": f"ORD-{uuid.uuid4().hex[:8]}",
            "amount": amount,
            "customer_phone": "+966557877988",
            "customer_email": "buyer@example.com",
        },
    )
    assert order.status_code == 201, order.text
    payment = _post(
        http,
        "/api/v1/payments/",
        {
            "order": order.json()["id"],
            "provider": "tap",
            "method": method,
            "return_url": "https://shop.example/thanks",
        },
    )
    assert payment.status_code == 201, payment.text
    body = payment.json()
    assert body["status"] == "pending"
    assert body["provider_reference"].startswith("chg_")
    assert body["redirect_url"].startswith(str(http.base_url).rstrip("/") + "/sandbox/tap/pay/")
    return body


@pytest.mark.parametrize("method", ["mada", "stcpay", "card"])
def test_successful_payment_is_confirmed_by_webhook_and_settled(http, method):
    payment = _checkout(http, method)

    final = pay_on_hosted_page(payment["redirect_url"], "succeed", otp="482913")

    assert final.status_code == 200
    assert final.url.path == f"/payments/return/{payment['id']}/"
    assert "مدفوع" in final.text  # the return page speaks Arabic unless the shopper switched
    assert http.get(f"/api/v1/payments/{payment['id']}/").json()["status"] == "paid"
    assert http.get(f"/api/v1/orders/{payment['order']}/").json()["status"] == "paid"
    settlements = http.get("/api/v1/settlements/").json()["results"]
    assert len(settlements) == 1
    assert settlements[0]["payment_attempt"] == payment["id"]
    assert (
        settlements[0]["gross_amount"],
        settlements[0]["wasla_fee"],
        settlements[0]["net_amount"],
    ) == (
        "100.00",
        "1.00",
        "99.00",
    )
    event = WebhookEvent.objects.get(signature_valid=True)
    assert event.status == WebhookEvent.Status.PROCESSED
    assert event.event_type == "charge.captured"


@pytest.mark.parametrize(("outcome", "status"), [("decline", "failed"), ("cancel", "cancelled")])
@pytest.mark.parametrize("method", ["mada", "card"])
def test_declined_or_cancelled_payment_gets_no_settlement(http, method, outcome, status):
    payment = _checkout(http, method)

    final = pay_on_hosted_page(payment["redirect_url"], outcome)

    assert final.url.path == f"/payments/return/{payment['id']}/"
    attempt = PaymentAttempt.objects.get(pk=payment["id"])
    assert attempt.status == status
    assert attempt.order.status == Order.Status.PENDING
    assert not SettlementRecord.objects.exists()
    assert "لم يُخصم أي مبلغ منك" in final.text


def test_stcpay_wrong_otp_declines(http):
    payment = _checkout(http, "stcpay")
    pay_on_hosted_page(payment["redirect_url"], "succeed", otp="000000")
    assert PaymentAttempt.objects.get(pk=payment["id"]).status == "failed"
    assert not SettlementRecord.objects.exists()


def test_a_new_attempt_is_allowed_after_a_decline(http):
    first = _checkout(http, "mada")
    pay_on_hosted_page(first["redirect_url"], "decline")
    second = _post(
        http, "/api/v1/payments/", {"order": first["order"], "provider": "tap", "method": "card"}
    )
    assert second.status_code == 201, second.text
    pay_on_hosted_page(second.json()["redirect_url"], "succeed")
    assert PaymentAttempt.objects.get(pk=second.json()["id"]).status == "paid"
    assert SettlementRecord.objects.get().payment_attempt_id == uuid.UUID(second.json()["id"])


def test_return_page_ignores_query_parameters_and_shows_processing_until_the_webhook(http):
    http.post("/sandbox/tap/_control/", json={"webhook": "drop"}).raise_for_status()
    payment = _checkout(http, "mada")
    final = pay_on_hosted_page(payment["redirect_url"], "succeed")
    # The customer is back, the charge is captured at Tap, but no webhook arrived yet.
    assert "tap_id=" in str(final.url)
    assert "جارٍ المعالجة" in final.text
    assert PaymentAttempt.objects.get(pk=payment["id"]).status == "pending"
    assert not SettlementRecord.objects.exists()


def test_cancel_checks_with_the_provider_first(http):
    payment = _checkout(http, "mada")
    cancelled = http.post(
        f"/api/v1/payments/{payment['id']}/cancel/", headers={"Idempotency-Key": "c1"}
    )
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    # The order can be paid again afterwards.
    again = _post(
        http, "/api/v1/payments/", {"order": payment["order"], "provider": "tap", "method": "mada"}
    )
    assert again.status_code == 201


def test_cancel_of_a_payment_the_customer_already_paid_answers_409_and_confirms_it(http):
    http.post("/sandbox/tap/_control/", json={"webhook": "drop"}).raise_for_status()
    payment = _checkout(http, "mada")
    pay_on_hosted_page(payment["redirect_url"], "succeed")
    response = http.post(
        f"/api/v1/payments/{payment['id']}/cancel/", headers={"Idempotency-Key": "c2"}
    )
    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    attempt = PaymentAttempt.objects.get(pk=payment["id"])
    assert attempt.status == "paid"
    assert SettlementRecord.objects.get(payment_attempt=attempt).wasla_fee == Decimal("1.000")
