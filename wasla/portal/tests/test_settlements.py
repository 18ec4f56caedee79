"""Settlements by month of payment (Riyadh): count, gross, fees net of refund adjustments,
net per currency; a month's rows, paginated; the same statements for 3 and 30 rows."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from testsupport.invoicing import clock_at, paid_payment_at, riyadh
from testsupport.payments import refunded
from testsupport.portal import member_client, sar

pytestmark = pytest.mark.django_db


def test_months_per_currency_with_fees_net_of_adjustments(tenant):
    paid_payment_at(tenant, riyadh(2026, 1, 31, 23, 30), "100.00")  # UTC: 31 Jan 20:30
    first_feb = paid_payment_at(tenant, riyadh(2026, 2, 1, 1), "60.00")  # UTC: 31 Jan 22:00
    paid_payment_at(tenant, riyadh(2026, 2, 20), "40.00")
    paid_payment_at(tenant, riyadh(2026, 2, 21), "5.000", currency="KWD")
    with clock_at(riyadh(2026, 2, 25)):
        refunded(first_feb, "60.00")  # full, before invoicing: fee reversed

    answer = member_client(tenant).get("/merchant/settlements/")
    assert answer.status_code == 200
    months = [
        (m.start.isoformat(), m.currency, m.count, m.gross, m.fees, m.net)
        for m in answer.context["page"]
    ]
    assert months == [
        ("2026-02-01", "SAR", 2, Decimal("100.00"), Decimal("1.00"), Decimal("99.00")),
        ("2026-02-01", "KWD", 1, Decimal("5.000"), Decimal("1.000"), Decimal("4.000")),
        ("2026-01-01", "SAR", 1, Decimal("100.00"), Decimal("1.00"), Decimal("99.00")),
    ]
    html = answer.content.decode()
    assert 'href="/merchant/settlements/2026/2/"' in html
    assert sar("99.00") in html
    assert "KWD\u00a04.000" in html


def test_a_month_page_lists_its_rows_with_adjustments(tenant):
    reversed_one = paid_payment_at(tenant, riyadh(2026, 2, 1, 1), "60.00")
    paid_payment_at(tenant, riyadh(2026, 2, 20), "40.00")
    paid_payment_at(tenant, riyadh(2026, 3, 1), "70.00")  # March: not listed
    with clock_at(riyadh(2026, 2, 25)):
        refunded(reversed_one, "60.00")
    answer = member_client(tenant).get("/merchant/settlements/2026/2/")
    assert answer.status_code == 200
    rows = list(answer.context["page"])
    assert [r.gross_amount for r in rows] == [Decimal("60.00"), Decimal("40.00")]
    assert [r.fee_adjustments for r in rows] == [Decimal("-1.00"), Decimal("0")]
    (total,) = answer.context["totals"]
    assert (total.count, total.gross, total.fees) == (2, Decimal("100.00"), Decimal("1.00"))
    html = answer.content.decode()
    assert "Reversed" in html
    assert f"/merchant/payments/{reversed_one.id}/" in html


def test_a_month_without_settlements(tenant):
    answer = member_client(tenant).get("/merchant/settlements/2025/7/")
    assert answer.status_code == 200
    assert "No settlements in this month." in answer.content.decode()


def _statements(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_the_same_statements_for_3_and_30_rows(tenant):
    client = member_client(tenant)
    for n in range(3):
        paid_payment_at(tenant, riyadh(2026, 2, 1 + n), "10.00")
    few = (
        _statements(client, "/merchant/settlements/"),
        _statements(client, "/merchant/settlements/2026/2/"),
    )
    for n in range(27):
        payment = paid_payment_at(tenant, riyadh(2026, 1 + n % 3, 1 + n), "10.00")
        if n % 5 == 0:
            with clock_at(riyadh(2026, 4, 1)):
                refunded(payment, "5.00")
    many = (
        _statements(client, "/merchant/settlements/"),
        _statements(client, "/merchant/settlements/2026/2/"),
    )
    assert many == few
