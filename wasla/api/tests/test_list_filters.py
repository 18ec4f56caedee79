"""Filtering the merchant API's lists: status, provider, method, created range and order
reference on payments, orders, refunds and settlements; every bad value a 400 problem naming
the parameter; another tenant's rows never counted."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from testsupport.factories import (
    api_client_for,
    make_attempt,
    make_order,
    make_refund,
    make_stripe_config,
    make_tap_config,
    make_tenant,
)
from wasla.orders.models import Order
from wasla.payments.models import PaymentAttempt, RefundRecord
from wasla.settlement.models import SettlementRecord

pytestmark = pytest.mark.django_db

RIYADH = ZoneInfo("Asia/Riyadh")
PROBLEM = "application/problem+json"


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=RIYADH)


def _created(obj, when: str) -> None:
    type(obj).objects.filter(pk=obj.pk).update(created_at=_at(when))


@pytest.fixture
def shop():
    """One tenant with: a paid Tap mada payment (1 Dec 2026 10:00 Riyadh), a failed Stripe card
    payment (2 Dec 00:00), a pending Tap payment (3 Dec 23:59), a refund of each paid one, a
    settlement of the paid one; and another tenant with a paid Tap payment on 2 Dec."""
    tenant = make_tenant()
    tap, stripe = make_tap_config(tenant), make_stripe_config(tenant)
    paid_order = make_order(tenant, reference="REF-PAID", status=Order.Status.PAID)
    paid = make_attempt(tap, paid_order, status=PaymentAttempt.Status.PAID)
    failed = make_attempt(stripe, make_order(tenant, reference="REF-FAILED"), status="failed")
    pending = make_attempt(tap, make_order(tenant, reference="REF-PENDING"), status="pending")
    for obj, when in ((paid, "2026-12-01T10:00"), (failed, "2026-12-02T00:00")):
        _created(obj, when)
        _created(obj.order, when)
    _created(pending, "2026-12-03T23:59")
    _created(pending.order, "2026-12-03T23:59")
    refund = make_refund(paid, "10.00", status=RefundRecord.Status.SUCCEEDED)
    _created(refund, "2026-12-04T12:00")
    settlement = SettlementRecord.objects.create(
        tenant=tenant,
        order=paid_order,
        payment_attempt=paid,
        gross_amount=paid.amount,
        wasla_fee=Decimal("1.00"),
        net_amount=paid.amount - Decimal("1.00"),
    )
    _created(settlement, "2026-12-01T10:00")

    other = make_tenant()
    other_order = make_order(other, reference="REF-PAID", status=Order.Status.PAID)
    other_paid = make_attempt(make_tap_config(other), other_order, status="paid")
    _created(other_paid, "2026-12-02T10:00")
    _created(other_order, "2026-12-02T10:00")
    make_refund(other_paid, "5.00", status=RefundRecord.Status.SUCCEEDED)
    SettlementRecord.objects.create(
        tenant=other,
        order=other_order,
        payment_attempt=other_paid,
        gross_amount=other_paid.amount,
        wasla_fee=Decimal("1.00"),
        net_amount=other_paid.amount - Decimal("1.00"),
    )
    return {
        "client": api_client_for(tenant),
        "paid": paid,
        "failed": failed,
        "pending": pending,
        "refund": refund,
        "settlement": settlement,
    }


def _ids(shop, path: str, query: str = "") -> set[str]:
    response = shop["client"].get(f"/api/v1/{path}/{'?' if query else ''}{query}")
    assert response.status_code == 200, response.content
    return {str(row["id"]) for row in response.json()["results"]}


def _of(shop, *names: str) -> set[str]:
    return {str(shop[name].pk) for name in names}


def _orders(shop, *names: str) -> set[str]:
    return {str(shop[name].order_id) for name in names}


# --- payments ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ("paid", "failed", "pending")),
        ("status=paid", ("paid",)),
        ("status=failed", ("failed",)),
        ("provider=tap", ("paid", "pending")),
        ("provider=stripe", ("failed",)),
        ("method=card", ("failed",)),
        ("method=mada", ("paid", "pending")),
        ("method=applepay", ()),
        ("reference=REF-PENDING", ("pending",)),
        ("created_after=2026-12-02", ("failed", "pending")),  # Riyadh midnight, inclusive
        ("created_before=2026-12-02", ("paid",)),  # exclusive
        ("created_after=2026-12-01&created_before=2026-12-03", ("paid", "failed")),
        ("created_after=2026-12-02T00:00:00%2B03:00", ("failed", "pending")),
        ("created_after=2026-12-01T21:00:00Z", ("failed", "pending")),  # = 2 Dec 00:00 Riyadh
        ("created_after=2026-12-01T21:00:01Z", ("pending",)),
        ("created_before=2026-12-01T10:00:01", ("paid",)),  # no offset: Riyadh time
        ("provider=tap&status=pending", ("pending",)),
        ("provider=tap&method=mada&created_before=2026-12-02", ("paid",)),
        ("status=paid&provider=stripe", ()),
    ],
)
def test_payment_filters(shop, query, expected):
    assert _ids(shop, "payments", query) == _of(shop, *expected)


def test_issue_examples(shop):
    """The issue's own: paid Tap payments of a date range; failed ones by card."""
    query = "status=paid&provider=tap&created_after=2026-12-01&created_before=2026-12-31"
    assert _ids(shop, "payments", query) == _of(shop, "paid")
    assert _ids(shop, "payments", "status=failed&method=card") == _of(shop, "failed")
    response = shop["client"].get("/api/v1/payments/?status=nonsense")
    assert response.status_code == 400
    assert "status" in response.json()["errors"]
    response = shop["client"].get("/api/v1/payments/?created_after=yesterday")
    assert response.status_code == 400
    assert "created_after" in response.json()["errors"]


def test_filters_keep_pagination(shop):
    body = shop["client"].get("/api/v1/payments/?provider=tap&limit=1").json()
    assert body["count"] == 2
    assert len(body["results"]) == 1
    assert "provider=tap" in body["next"]


# --- orders, refunds, settlements -------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ("paid", "failed", "pending")),
        ("status=paid", ("paid",)),
        ("status=pending", ("failed", "pending")),
        ("provider=stripe", ("failed",)),
        ("method=mada", ("paid", "pending")),
        ("reference=REF-FAILED", ("failed",)),
        ("created_after=2026-12-02&created_before=2026-12-03", ("failed",)),
        ("provider=tap&status=pending", ("pending",)),
    ],
)
def test_order_filters(shop, query, expected):
    assert _ids(shop, "orders", query) == _orders(shop, *expected)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ("refund",)),
        ("status=succeeded", ("refund",)),
        ("status=pending", ()),
        ("provider=tap", ("refund",)),
        ("provider=stripe", ()),
        ("method=mada", ("refund",)),
        ("created_after=2026-12-04", ("refund",)),
        ("created_before=2026-12-04", ()),
        ("created_after=2026-12-04T12:00&created_before=2026-12-04T12:00:01", ("refund",)),
    ],
)
def test_refund_filters(shop, query, expected):
    assert _ids(shop, "refunds", query) == _of(shop, *expected)


def test_refund_list_shape(shop):
    body = shop["client"].get("/api/v1/refunds/").json()
    assert body["count"] == 1
    [row] = body["results"]
    assert row["payment"] == str(shop["paid"].pk)
    assert row["amount"] == "10.00"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ("settlement",)),
        ("status=pending", ("settlement",)),
        ("status=invoiced", ()),
        ("provider=tap", ("settlement",)),
        ("provider=stripe", ()),
        ("method=mada", ("settlement",)),
        ("created_after=2026-12-02", ()),
        ("created_before=2026-12-02", ("settlement",)),
    ],
)
def test_settlement_filters(shop, query, expected):
    assert _ids(shop, "settlements", query) == {str(shop[n].pk) for n in expected}


@pytest.mark.parametrize("path", ["payments", "orders", "refunds", "settlements"])
def test_other_tenants_rows_never_listed(shop, path):
    # The other tenant has a paid Tap payment (order REF-PAID) on 2 Dec, a refund, a settlement.
    body = shop["client"].get(f"/api/v1/{path}/?provider=tap&created_after=2026-12-02").json()
    expected = {"payments": 1, "orders": 1, "refunds": 1, "settlements": 0}[path]
    assert body["count"] == expected  # only the tenant's own pending payment / refund
    if path in ("payments", "orders"):
        assert shop["client"].get(f"/api/v1/{path}/?reference=REF-PAID").json()["count"] == 1


# --- bad input --------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["payments", "orders", "refunds", "settlements"])
@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("status=nonsense", "status"),
        ("provider=square", "provider"),
        ("method=bitcoin", "method"),
        ("created_after=yesterday", "created_after"),
        ("created_before=2026-13-01", "created_before"),
        ("created_after=2026-02-30", "created_after"),
        ("created_before=9999-12-31", "created_before"),
        ("created_after=%D9%A2%D9%A0%D9%A2%D9%A6-12-01", "created_after"),  # Arabic digits
        ("created_after=2026-12-02&created_before=2026-12-01", "created_before"),
        ("created_after=2026-12-02&created_before=2026-12-02", "created_before"),
        ("stauts=paid", "stauts"),
        ("status=paid&status=failed", "status"),
    ],
)
def test_bad_filters_are_400_naming_the_parameter(shop, path, query, parameter):
    response = shop["client"].get(f"/api/v1/{path}/?{query}")
    assert response.status_code == 400
    assert response["Content-Type"] == PROBLEM
    assert parameter in response.json()["errors"]


@pytest.mark.parametrize("path", ["refunds", "settlements"])
def test_reference_only_where_documented(shop, path):
    assert shop["client"].get(f"/api/v1/{path}/?reference=REF-PAID").status_code == 400


def test_refund_status_vocabulary_is_refunds(shop):
    # "paid" is a payment status, not a refund's
    assert shop["client"].get("/api/v1/refunds/?status=paid").status_code == 400
    assert shop["client"].get("/api/v1/orders/?status=failed").status_code == 400
    assert shop["client"].get("/api/v1/settlements/?status=failed").status_code == 400


def test_refund_list_needs_a_token():
    from rest_framework.test import APIClient

    assert APIClient().get("/api/v1/refunds/").status_code == 401


def test_refund_list_fixed_query_count(django_assert_num_queries):
    tenant = make_tenant()
    config = make_tap_config(tenant)
    client = api_client_for(tenant)

    def count() -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as queries:
            assert client.get("/api/v1/refunds/?limit=200").status_code == 200
        return len(queries)

    for _ in range(3):
        make_refund(make_attempt(config, status="paid"), "1.00")
    few = count()
    for _ in range(27):
        make_refund(make_attempt(config, status="paid"), "1.00")
    assert count() == few


@pytest.mark.parametrize(
    ("path", "names"),
    [
        ("/api/v1/payments/", {"status", "provider", "method", "created_after", "reference"}),
        ("/api/v1/orders/", {"status", "provider", "method", "created_before", "reference"}),
        ("/api/v1/refunds/", {"status", "provider", "method", "created_after", "created_before"}),
        ("/api/v1/settlements/", {"status", "provider", "method", "created_after", "year"}),
    ],
)
def test_schema_documents_the_filters(path, names):
    from rest_framework.test import APIClient

    schema = APIClient().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    parameters = {p["name"]: p for p in schema["paths"][path]["get"]["parameters"]}
    assert names <= set(parameters)
    assert "description" in parameters.get("created_after", parameters["status"])
    assert parameters["provider"]["schema"]["enum"] == ["cod", "paypal", "stripe", "tap"]
