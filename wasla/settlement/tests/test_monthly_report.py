"""The monthly report: calendar months in Asia/Riyadh, reversed settlements and fee reductions,
and GET /api/v1/reports/monthly/ (bad input → 400 problem+json, another tenant's data never)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from testsupport.factories import api_client_for
from testsupport.payments import cod_paid, settled_at
from wasla.payments.refunds import refund_record_cash
from wasla.settlement.models import FeePlan, SettlementRecord
from wasla.settlement.selectors import generate_monthly_report, month_bounds

pytestmark = pytest.mark.django_db

D = Decimal
PROBLEM = "application/problem+json"


def test_a_payment_at_2330_utc_on_the_last_day_belongs_to_the_next_month_in_riyadh(tenant):
    january_in_riyadh = settled_at(tenant, datetime(2026, 1, 31, 20, 59, tzinfo=UTC))  # 23:59
    february_in_riyadh = settled_at(tenant, datetime(2026, 1, 31, 23, 30, tzinfo=UTC))  # 02:30
    last_of_february = settled_at(tenant, datetime(2026, 2, 28, 20, 59, 59, tzinfo=UTC))
    march = settled_at(tenant, datetime(2026, 2, 28, 21, 0, tzinfo=UTC))  # 00:00 on 1 March

    january = generate_monthly_report(tenant=tenant, month=1, year=2026)
    february = generate_monthly_report(tenant=tenant, month=2, year=2026)
    assert [r.pk for r in january.records] == [january_in_riyadh.pk]
    assert [r.pk for r in february.records] == [february_in_riyadh.pk, last_of_february.pk]
    assert [r.pk for r in generate_monthly_report(tenant=tenant, month=3, year=2026).records] == [
        march.pk
    ]
    assert (february.total_operations, february.total_wasla_fee) == (2, D("2.00"))
    # The settlements list groups months the same way.
    listed = api_client_for(tenant).get("/api/v1/settlements/?year=2026&month=2").json()
    assert {r["id"] for r in listed["results"]} == {february_in_riyadh.pk, last_of_february.pk}


def test_december_ends_at_riyadh_midnight_of_new_year():
    start, end = month_bounds(year=2026, month=12)
    assert start == datetime(2026, 11, 30, 21, 0, tzinfo=UTC)
    assert end == datetime(2026, 12, 31, 21, 0, tzinfo=UTC)


def test_reversed_settlements_are_listed_not_counted_and_reductions_lower_the_fee(tenant):
    FeePlan.objects.create(
        code="standard",
        name="Standard",
        version=2,
        fixed_fee=D("1.00"),
        percentage=D("2.5"),
        effective_from=timezone.now(),
    )
    kept = cod_paid(tenant, "200.00")  # fee 6.00
    reduced = cod_paid(tenant, "200.00")  # fee 6.00, then 50.00 refunded: -1.25
    reversed_ = cod_paid(tenant, "100.00")  # fee 3.50, refunded in full
    refund_record_cash(
        tenant=tenant, attempt_id=reduced.id, amount=D("50.00"), reason="", receipt="A"
    )
    refund_record_cash(tenant=tenant, attempt_id=reversed_.id, amount=None, reason="", receipt="B")

    now = timezone.localtime()
    report = generate_monthly_report(tenant=tenant, month=now.month, year=now.year)
    by_attempt = {r.payment_attempt_id: r for r in report.records}
    assert set(by_attempt) == {kept.id, reduced.id, reversed_.id}
    assert by_attempt[reduced.id].effective_fee == D("4.75")
    assert by_attempt[reversed_.id].status == "reversed"
    assert by_attempt[reversed_.id].effective_fee == D("0.00")
    assert report.total_operations == 2
    assert report.total_wasla_fee == D("10.75")  # 6.00 + 4.75 + 0, excl. VAT


# ---- the API -----------------------------------------------------------------------------------


def test_the_report_api_returns_totals_and_records_as_strings(tenant, other_tenant):
    mine = settled_at(tenant, datetime(2026, 3, 10, 9, 0, tzinfo=UTC), "80.00")
    settled_at(tenant, datetime(2026, 4, 1, 9, 0, tzinfo=UTC))
    settled_at(other_tenant, datetime(2026, 3, 10, 9, 0, tzinfo=UTC))  # never in tenant's report

    response = api_client_for(tenant).get("/api/v1/reports/monthly/?year=2026&month=3")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["total_operations"] == 1
    assert body["total_wasla_fee"] == "1.00"
    assert body["currency"] == "SAR"
    assert body["period_start"] == "2026-03-01T00:00:00+03:00"
    [record] = body["records"]
    assert record["id"] == mine.pk
    assert record["order_reference"] == mine.order.reference
    assert (record["gross_amount"], record["wasla_fee"], record["net_amount"]) == (
        "80.00",
        "1.00",
        "79.00",
    )
    assert (record["fee_adjustments"], record["effective_fee"]) == ("0.00", "1.00")
    assert (record["fee_plan"], record["fee_plan_version"], record["status"]) == (
        "standard",
        1,
        "pending",
    )

    other = api_client_for(other_tenant).get("/api/v1/reports/monthly/?year=2026&month=3").json()
    assert mine.pk not in [r["id"] for r in other["records"]]
    assert other["total_operations"] == 1


def test_an_empty_month_is_zero_not_an_error(tenant):
    body = api_client_for(tenant).get("/api/v1/reports/monthly/?year=2030&month=7").json()
    assert (body["total_operations"], body["total_wasla_fee"], body["records"]) == (0, "0.00", [])


@pytest.mark.parametrize(
    "query",
    [
        "",
        "?year=2026",
        "?month=3",
        "?year=2026&month=0",
        "?year=2026&month=13",
        "?year=abc&month=3",
        "?year=2026&month=3.5",
        "?year=99999&month=1",
        "?year=2026&month=3&currency=XXX",
    ],
)
def test_missing_or_invalid_year_or_month_is_400_problem_json(tenant, query):
    response = api_client_for(tenant).get(f"/api/v1/reports/monthly/{query}")
    assert response.status_code == 400
    assert response["Content-Type"] == PROBLEM
    assert response.json()["type"].endswith("/validation-error")


def test_the_report_needs_a_token(db):
    from rest_framework.test import APIClient

    assert APIClient().get("/api/v1/reports/monthly/?year=2026&month=3").status_code == 401


def test_the_report_is_in_the_openapi_schema(tenant):
    schema = api_client_for(tenant).get("/api/schema/?format=json").json()
    operation = schema["paths"]["/api/v1/reports/monthly/"]["get"]
    assert {p["name"] for p in operation["parameters"]} >= {"year", "month"}
    output = schema["components"]["schemas"]["MonthlyReportOutput"]["properties"]
    assert {"total_operations", "total_wasla_fee", "records"} <= set(output)


def test_report_statements_do_not_grow_with_the_number_of_records(
    tenant, django_assert_max_num_queries
):
    for day in range(1, 8):
        settled_at(tenant, datetime(2026, 5, day, 9, tzinfo=UTC))
    with django_assert_max_num_queries(1):
        report = generate_monthly_report(tenant=tenant, month=5, year=2026)
        [r.order.reference for r in report.records]
    assert SettlementRecord.objects.filter(tenant=tenant).count() == 7
