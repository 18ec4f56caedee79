"""Merchant API contract: authentication, tenant isolation (404, never 403 or data), problem+json
errors for bad input (never a 500), Idempotency-Key rules, OpenAPI schema."""

from __future__ import annotations

import json
import uuid
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from testsupport.factories import api_client_for, make_attempt, make_order, make_tap_config
from wasla.api.models import IdempotencyRecord
from wasla.orders.models import Order
from wasla.payments.models import PaymentAttempt
from wasla.settlement.models import SettlementRecord

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"


_FRESH = object()


def post(client: APIClient, path: str, body, key=_FRESH, **extra):
    if key is _FRESH:
        key = "k-" + uuid.uuid4().hex
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    raw = body if isinstance(body, bytes | str) else json.dumps(body)
    return client.post(path, raw, content_type="application/json", **headers, **extra)


def test_requests_without_a_valid_token_are_401(tenant):
    anonymous = APIClient()
    assert anonymous.get("/api/v1/orders/").status_code == 401
    bad = APIClient()
    bad.credentials(HTTP_AUTHORIZATION="Bearer wsl_not-a-real-token")
    response = bad.get("/api/v1/orders/")
    assert response.status_code == 401
    assert response["Content-Type"] == PROBLEM
    assert response.json()["type"].endswith("/not-authenticated")


def test_revoked_or_inactive_tenant_tokens_stop_working(tenant):
    client = api_client_for(tenant)
    assert client.get("/api/v1/orders/").status_code == 200
    tenant.is_active = False
    tenant.save()
    assert client.get("/api/v1/orders/").status_code == 401


def test_tokens_are_stored_hashed(tenant):
    from wasla.tenants.models import ApiToken
    from wasla.tenants.services import api_token_create

    token, plaintext = api_token_create(tenant=tenant, name="x")
    stored = ApiToken.objects.get(pk=token.pk)
    assert plaintext not in (stored.digest, stored.prefix)
    assert len(stored.digest) == 64


def test_order_create_and_read(api):
    response = post(api, "/api/v1/orders/", {"reference": "A-1", "amount": "100.50"})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["amount"] == "100.50"
    assert body["currency"] == "SAR"
    assert body["status"] == "pending"
    assert api.get(f"/api/v1/orders/{body['id']}/").json()["reference"] == "A-1"
    duplicate = post(api, "/api/v1/orders/", {"reference": "A-1", "amount": "1.00"})
    assert duplicate.status_code == 409


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"reference": "A", "amount": "-1.00"}, "amount"),
        ({"reference": "A", "amount": "0"}, "amount"),
        ({"reference": "A", "amount": "1.005"}, "amount"),
        ({"reference": "A", "amount": "1e3000"}, "amount"),
        ({"reference": "A", "amount": "NaN"}, "amount"),
        ({"reference": "A", "amount": True}, "amount"),
        ({"reference": "A", "amount": ["1"]}, "amount"),
        ({"reference": "A", "amount": {"v": 1}}, "amount"),
        ({"reference": "A", "amount": "10.00", "currency": "XYZ"}, "currency"),
        ({"reference": "A", "amount": "10.00", "currency": 5}, "currency"),
        ({"reference": 12, "amount": "10.00"}, None),
        ({"reference": "", "amount": "10.00"}, "reference"),
        ({"reference": "a b<script>", "amount": "10.00"}, "reference"),
        ({"reference": "A" * 65, "amount": "10.00"}, "reference"),
        ({"amount": "10.00"}, "reference"),
        ({"reference": "A", "amount": "10.00", "customer_email": "nope"}, "customer_email"),
        ({"reference": "A", "amount": "10.00", "customer_phone": "call me"}, "customer_phone"),
    ],
)
def test_bad_order_input_is_a_problem_and_creates_nothing(api, body, field):
    response = post(api, "/api/v1/orders/", body)
    assert 400 <= response.status_code < 500, response.content
    assert response["Content-Type"] == PROBLEM
    problem = response.json()
    assert problem["status"] == response.status_code
    if field:
        assert field in problem["errors"] or field in problem["detail"]
    assert not Order.objects.exists()


@pytest.mark.parametrize(
    "raw",
    [
        b"{not json",
        b"",
        b"[]",
        b'"string"',
        b"null",
        b"\xff\xfe",
        b'{"reference": "A", "amount": 1.0e}',
    ],
)
def test_malformed_bodies_are_400_problems(api, raw):
    response = post(api, "/api/v1/orders/", raw)
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == PROBLEM
    assert not Order.objects.exists()


def test_wrong_content_type_is_415(api):
    response = api.post(
        "/api/v1/orders/",
        "reference=A",
        content_type="application/x-www-form-urlencoded",
        HTTP_IDEMPOTENCY_KEY="x",
    )
    assert response.status_code == 415
    assert response["Content-Type"] == PROBLEM


def test_oversize_body_is_413(api):
    response = post(
        api, "/api/v1/orders/", {"reference": "A", "amount": "1.00", "pad": "x" * 300_000}
    )
    assert response.status_code == 413
    assert response["Content-Type"] == PROBLEM
    assert not Order.objects.exists()


def test_payment_input_is_validated(api, tenant, tap_config):
    order = make_order(tenant)
    cases = [
        {"order": "not-a-uuid", "provider": "tap", "method": "mada"},
        {"order": str(order.id), "provider": "tap", "method": "bitcoin"},
        {"order": str(order.id), "provider": "nope", "method": "mada"},
        {"order": str(order.id), "provider": "tap", "method": "paypal"},
        {
            "order": str(order.id),
            "provider": "tap",
            "method": "mada",
            "return_url": "javascript:alert(1)",
        },
        {"order": str(uuid.uuid4()), "provider": "tap", "method": "mada"},
    ]
    for body in cases:
        response = post(api, "/api/v1/payments/", body)
        assert response.status_code in (400, 404, 422), (body, response.content)
        assert response["Content-Type"] == PROBLEM
    assert not PaymentAttempt.objects.exists()


def test_checkout_without_a_configured_gateway_is_422(api, tenant):
    order = make_order(tenant)
    response = post(
        api, "/api/v1/payments/", {"order": str(order.id), "provider": "tap", "method": "mada"}
    )
    assert response.status_code == 422
    assert response.json()["type"].endswith("/gateway-not-configured")


def test_checkout_of_a_paid_order_is_409(api, tenant, tap_config):
    order = make_order(tenant, status=Order.Status.PAID)
    response = post(
        api, "/api/v1/payments/", {"order": str(order.id), "provider": "tap", "method": "mada"}
    )
    assert response.status_code == 409
    assert response.json()["type"].endswith("/order-not-payable")


def test_stcpay_needs_a_phone(api, tenant, tap_config):
    order = make_order(tenant, customer_phone="")
    response = post(
        api, "/api/v1/payments/", {"order": str(order.id), "provider": "tap", "method": "stcpay"}
    )
    assert response.status_code == 422


def test_checkout_in_a_currency_without_a_fee_plan_is_422_and_takes_no_money(
    api, tenant, tap_config
):
    """A payment whose confirmation could not record Wasla's fee is never started."""
    order = make_order(tenant, "10.000", currency="KWD")
    response = post(
        api, "/api/v1/payments/", {"order": str(order.id), "provider": "tap", "method": "mada"}
    )
    assert response.status_code == 422, response.content
    assert response.json()["type"].endswith("/no-fee-plan")
    assert not PaymentAttempt.objects.filter(order=order).exists()


def test_settlement_filters_are_validated(api):
    for query in ("?year=abc", "?month=13", "?status=unknown", "?month=0"):
        response = api.get("/api/v1/settlements/" + query)
        assert response.status_code == 400, query
        assert response["Content-Type"] == PROBLEM
    assert api.get("/api/v1/settlements/?year=2026&month=11&status=pending").status_code == 200


# --- Idempotency-Key --------------------------------------------------------------------------


def test_missing_idempotency_key_is_400(api):
    response = post(api, "/api/v1/orders/", {"reference": "A", "amount": "1.00"}, key=None)
    assert response.status_code == 400
    assert response.json()["type"].endswith("/idempotency-key-missing")
    assert not Order.objects.exists()


def test_same_key_replays_the_stored_response(api):
    first = post(api, "/api/v1/orders/", {"reference": "A", "amount": "1.00"}, key="same")
    again = post(api, "/api/v1/orders/", {"amount": "1.00", "reference": "A"}, key="same")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Order.objects.count() == 1


def test_same_key_with_another_body_is_422(api):
    post(api, "/api/v1/orders/", {"reference": "A", "amount": "1.00"}, key="same")
    response = post(api, "/api/v1/orders/", {"reference": "A", "amount": "2.00"}, key="same")
    assert response.status_code == 422
    assert response.json()["type"].endswith("/idempotency-key-reused")
    assert Order.objects.get().amount == Decimal("1.00")


def test_same_key_while_the_first_request_runs_is_409(api, tenant):
    body = {"reference": "A", "amount": "1.00"}
    # The first request has claimed the key and not finished (as a concurrent request sees it).
    from wasla.api.idempotency import _fingerprint  # noqa: F401  (fingerprint is checked first)

    first = post(api, "/api/v1/orders/", body, key="busy")
    IdempotencyRecord.objects.filter(key="busy").update(state=IdempotencyRecord.State.IN_FLIGHT)
    response = post(api, "/api/v1/orders/", body, key="busy")
    assert first.status_code == 201
    assert response.status_code == 409
    assert response.json()["type"].endswith("/idempotency-key-in-flight")


def test_keys_are_per_tenant(api, other_tenant):
    other = api_client_for(other_tenant)
    assert (
        post(api, "/api/v1/orders/", {"reference": "A", "amount": "1.00"}, key="shared").status_code
        == 201
    )
    assert (
        post(
            other, "/api/v1/orders/", {"reference": "A", "amount": "2.00"}, key="shared"
        ).status_code
        == 201
    )


def test_errors_are_replayed_too_but_not_server_errors(api):
    post(api, "/api/v1/orders/", {"reference": "A", "amount": "1.00"})
    taken = post(api, "/api/v1/orders/", {"reference": "A", "amount": "2.00"}, key="taken")
    assert taken.status_code == 409
    again = post(api, "/api/v1/orders/", {"reference": "A", "amount": "2.00"}, key="taken")
    assert again.status_code == 409
    assert again["Idempotent-Replayed"] == "true"


def test_input_refused_with_400_is_not_kept_and_the_key_can_be_used_again(api):
    bad = post(api, "/api/v1/orders/", {"reference": "A", "amount": "-1"}, key="bad")
    assert bad.status_code == 400
    assert not IdempotencyRecord.objects.filter(key="bad").exists()
    again = post(api, "/api/v1/orders/", {"reference": "A", "amount": "-1"}, key="bad")
    assert again.status_code == 400
    assert "Idempotent-Replayed" not in again
    fixed = post(api, "/api/v1/orders/", {"reference": "A", "amount": "1.00"}, key="bad")
    assert fixed.status_code == 201


# --- tenant isolation --------------------------------------------------------------------------


def test_other_tenants_objects_answer_404_everywhere(tenant, other_tenant):
    config = make_tap_config(other_tenant)
    order = make_order(other_tenant)
    attempt = make_attempt(config, order, idempotency_key="other-1")
    mine = api_client_for(tenant)

    for path in (f"/api/v1/orders/{order.id}/", f"/api/v1/payments/{attempt.id}/"):
        response = mine.get(path)
        assert response.status_code == 404, path
        assert response["Content-Type"] == PROBLEM
    for action in ("cancel", "collect", "refunds"):
        response = post(mine, f"/api/v1/payments/{attempt.id}/{action}/", {})
        assert response.status_code == 404, (action, response.content)
        assert response["Content-Type"] == PROBLEM
    assert mine.get(f"/api/v1/payments/{attempt.id}/refunds/").status_code == 404
    assert post(
        mine, "/api/v1/payments/", {"order": str(order.id), "provider": "tap", "method": "mada"}
    ).status_code in (404, 422)
    make_tap_config(tenant)
    assert (
        post(
            mine, "/api/v1/payments/", {"order": str(order.id), "provider": "tap", "method": "mada"}
        ).status_code
        == 404
    )
    for path in ("/api/v1/orders/", "/api/v1/payments/", "/api/v1/settlements/"):
        assert mine.get(path).json()["results"] == [], path
    attempt.refresh_from_db()
    assert attempt.status == "created"


def test_other_tenants_settlements_are_invisible(tenant, other_tenant):
    config = make_tap_config(other_tenant)
    order = make_order(other_tenant, status=Order.Status.PAID)
    attempt = make_attempt(config, order, idempotency_key="other-2")
    SettlementRecord.objects.create(
        tenant=other_tenant,
        order=order,
        payment_attempt=attempt,
        gross_amount=order.amount,
        wasla_fee=Decimal("1.00"),
        net_amount=order.amount - Decimal("1.00"),
    )
    assert api_client_for(tenant).get("/api/v1/settlements/").json()["count"] == 0
    assert api_client_for(other_tenant).get("/api/v1/settlements/").json()["count"] == 1


def test_unknown_ids_are_404_not_500(api):
    assert api.get(f"/api/v1/orders/{uuid.uuid4()}/").status_code == 404
    assert api.get("/api/v1/orders/12/").status_code == 404
    assert api.get("/api/v1/payments/not-a-uuid/").status_code == 404


def test_openapi_schema_and_health(api):
    client = APIClient()
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    assert b"/api/v1/payments/" in schema.content
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {
        "database": "ok",
        "cache": "ok",
        "broker": "ok",
        "migrations": "ok",
    }
