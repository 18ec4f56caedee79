"""The overview: this month's and last month's figures per currency (Riyadh months), the
30-day chart series, and a fixed number of statements whatever the volume."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from testsupport.factories import make_attempt
from testsupport.invoicing import clock_at, paid_payment_at, riyadh
from testsupport.payments import gateway, refunded
from testsupport.portal import member_client
from wasla.payments.models import PaymentAttempt

pytestmark = pytest.mark.django_db

NOW = riyadh(2026, 3, 15, 12)


def overview(client):
    with clock_at(NOW):
        answer = client.get("/merchant/")
    assert answer.status_code == 200
    return answer


def test_months_are_riyadh_months_with_fees_net_of_adjustments(tenant):
    paid_payment_at(tenant, riyadh(2026, 2, 10), "100.00")
    paid_payment_at(tenant, riyadh(2026, 2, 28, 23, 30), "40.00")  # 20:30 UTC: still February
    march = paid_payment_at(tenant, riyadh(2026, 3, 1, 0, 30), "200.00")  # 21:30 UTC on Feb 28
    full = paid_payment_at(tenant, riyadh(2026, 3, 2), "50.00")
    paid_payment_at(tenant, riyadh(2026, 3, 3), "10.00", currency="KWD")
    with clock_at(riyadh(2026, 3, 5)):
        refunded(march, "20.00")
        refunded(full, "50.00")  # full before invoicing: the fee is reversed
    make_attempt(gateway(tenant), status=PaymentAttempt.Status.FAILED)

    answer = overview(member_client(tenant))
    this = answer.context["overview"].this_month
    last = answer.context["overview"].last_month
    assert [f.currency for f in this.figures] == ["SAR", "KWD"]
    sar, kwd = this.figures
    assert (sar.payments, sar.volume, sar.refunds) == (2, Decimal("250.00"), Decimal("70.00"))
    assert sar.fees == Decimal("1.00")  # two fees of 1.00, one reversed
    assert sar.net == Decimal("179.00")
    assert (kwd.payments, kwd.volume, kwd.fees) == (1, Decimal("10.000"), Decimal("1.000"))
    (feb,) = last.figures
    assert (feb.payments, feb.volume, feb.fees, feb.refunds) == (
        2,
        Decimal("140.00"),
        Decimal("2.00"),
        Decimal("0"),
    )
    page = answer.content.decode()
    assert "KWD\u00a010.000" in page  # the currency's own decimals
    assert "SAR\u00a0179.00" in page


def test_chart_series_and_their_numbers_on_the_page(tenant):
    paid_payment_at(tenant, riyadh(2026, 3, 14, 9), "30.00")
    paid_payment_at(tenant, riyadh(2026, 3, 14, 10), "20.00")
    paid_payment_at(tenant, riyadh(2026, 1, 1), "999.00")  # before the 30 days
    answer = overview(member_client(tenant))
    data = json.loads(
        answer.content.decode().split('id="chart-data" type="application/json">')[1].split("<")[0]
    )
    assert len(data["days"]) == 30
    assert data["volume"]["SAR"][-2] == "50.00"
    assert sum(Decimal(v) for v in data["volume"]["SAR"]) == Decimal("50.00")
    assert data["methods"] == {"labels": ["mada"], "counts": [2]}
    page = answer.content.decode()
    for canvas in ("chart-volume", "chart-methods", "chart-success"):
        assert f'id="{canvas}" role="img" aria-label="' in page
    assert "vendor/chartjs-4.5.1/chart.umd.min.js" in page


def test_an_empty_store_shows_an_empty_overview(tenant):
    answer = overview(member_client(tenant))
    assert answer.context["overview"].this_month.figures == []
    assert "No payments in this month." in answer.content.decode()


def _statements(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        overview(client)
    return len(queries)


def test_a_fixed_number_of_statements_whatever_the_volume(tenant):
    client = member_client(tenant)
    for n in range(3):
        paid_payment_at(tenant, riyadh(2026, 3, 1 + n), "10.00")
    few = _statements(client)
    for n in range(27):
        paid_payment_at(
            tenant, riyadh(2026, 2 + n % 2, 1 + n % 28), "10.00", "KWD" if n % 3 else "SAR"
        )
    assert _statements(client) == few
