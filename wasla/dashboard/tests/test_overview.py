"""Every aggregate of the overview against numbers computed by hand on the small book of
conftest.build_book (two tenants, SAR and KWD), then the page itself."""

from __future__ import annotations

import datetime as dt
from contextlib import suppress
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone

from testsupport.payments import refunded
from wasla.dashboard import selectors
from wasla.dashboard.forms import FilterForm
from wasla.dashboard.models import PaymentDay
from wasla.dashboard.rollups import rollup_last_run, rollup_refresh
from wasla.dashboard.tasks import dashboard_reconcile_snapshot
from wasla.dashboard.tests.books import build_book
from wasla.payments.orchestrator import PaymentOrchestrator
from wasla.payments.providers.base import ProviderUnreachable
from wasla.payments.resilience import CircuitState
from wasla.settlement.reconcile_checks import reconcile_checks_run
from wasla.settlement.reconciliation import reconcile_settlements

pytestmark = pytest.mark.django_db

D = Decimal


def filters(**query: str) -> selectors.Filters:
    form = FilterForm(query)
    assert form.is_valid(), form.errors
    return form.filters()


def test_payments_per_day_count_every_attempt_and_sum_paid_volume_per_currency(book):
    series = selectors.payments_per_day(filters=filters())
    assert len(series.labels) == 30
    today = timezone.localdate()
    assert series.labels[-1] == today
    assert (series.attempts[-1], series.paid[-1]) == (5, 4)  # the failed 30.00 is not paid
    assert series.volume["SAR"][-1] == D("350.00")  # 100 + 50 + 200 (refunded later)
    assert series.volume["KWD"][-1] == D("10.500")
    assert sum(series.attempts[:-1]) == 0


def test_payments_per_month_cover_twelve_calendar_months(book):
    series = selectors.payments_per_month(filters=filters())
    assert len(series.labels) == 12
    assert series.labels[-1] == timezone.localdate().replace(day=1)
    assert (series.attempts[-1], series.paid[-1]) == (5, 4)
    assert series.volume["SAR"][-1] == D("350.00")


def test_success_rate_is_paid_over_finished_per_provider_and_method(book):
    [rate] = selectors.success_rates(filters=filters())
    assert (rate.provider, rate.method, rate.finished, rate.paid, rate.failed) == (
        "tap",
        "mada",
        5,
        4,
        1,
    )
    assert rate.rate == D("0.8")


def test_revenue_is_fees_net_of_adjustments_per_month_and_currency(book):
    month = timezone.localdate().replace(day=1)
    rows = selectors.revenue_per_month(filters=filters())
    # SAR: 1.00 + 1.00 (Nakheel) + 1.00 - 1.00 (Souq, reversed by its full refund).
    assert [(r.month, r.currency, r.amount) for r in rows] == [
        (month, "KWD", D("1.000")),
        (month, "SAR", D("2.00")),
    ]
    top = selectors.revenue_top_tenants(filters=filters())
    assert [(t.name, t.currency, t.amount) for t in top] == [
        ("Nakheel Dates", "KWD", D("1.000")),
        ("Nakheel Dates", "SAR", D("2.00")),
        ("Souq Jeddah", "SAR", D("0.00")),
    ]


def test_refunds_settlements_and_invoices(book):
    f = filters()
    assert [(r.currency, r.count, r.amount) for r in selectors.refunds_summary(filters=f)] == [
        ("SAR", 1, D("200.00"))
    ]
    assert [
        (s.key, s.currency, s.count, s.amount) for s in selectors.settlements_by_status(filters=f)
    ] == [
        ("pending", "KWD", 1, D("1.000")),
        ("pending", "SAR", 2, D("2.00")),
        ("reversed", "SAR", 1, D("1.00")),
    ]
    invoices = selectors.invoices_summary(filters=f, today=timezone.localdate())
    assert [(i.key, i.currency, i.count, i.amount) for i in invoices.by_status] == [
        ("issued", "SAR", 1, D("2.30")),
        ("paid", "KWD", 1, D("1.150")),
    ]
    assert [(i.currency, i.count, i.amount) for i in invoices.outstanding] == [
        ("SAR", 1, D("2.30"))
    ]
    assert [(i.currency, i.count, i.amount) for i in invoices.overdue] == [("SAR", 1, D("2.30"))]


def test_webhook_health_counts_outcomes_and_the_backlog_age(book):
    health = selectors.webhook_health(filters=filters())
    assert (health.received, health.processed, health.failed, health.rejected) == (3, 1, 1, 0)
    assert health.backlog == 1
    age = health.oldest_age(timezone.now())
    assert age is not None
    assert dt.timedelta(hours=2) <= age < dt.timedelta(hours=2, minutes=5)


def test_filtering_by_tenant_keeps_only_its_numbers(book):
    f = filters(tenant=str(book.souq.pk))
    series = selectors.payments_per_day(filters=f)
    assert (series.attempts[-1], series.paid[-1]) == (1, 1)
    assert set(series.volume) == {"SAR"}
    assert selectors.webhook_health(filters=f).received == 0
    assert [(r.currency, r.amount) for r in selectors.revenue_per_month(filters=f)] == [
        ("SAR", D("0.00"))
    ]


def test_filtering_by_status_method_and_provider(book):
    assert selectors.payments_per_day(filters=filters(status="failed")).attempts[-1] == 1
    assert selectors.payments_per_day(filters=filters(method="card")).attempts[-1] == 0
    assert selectors.payments_per_day(filters=filters(provider="stripe")).attempts[-1] == 0
    assert selectors.payments_per_day(filters=filters(provider="tap")).attempts[-1] == 5


def test_a_range_in_the_past_sees_nothing_of_today(book):
    today = timezone.localdate()
    f = filters(date_from=str(today - dt.timedelta(days=9)), date_to=str(today - dt.timedelta(1)))
    series = selectors.payments_per_day(filters=f)
    assert (len(series.labels), sum(series.attempts)) == (9, 0)
    assert selectors.refunds_summary(filters=f) == []


def test_an_open_circuit_is_listed_with_its_tenant(book):
    config = book.paid_100.gateway_config
    breaker = PaymentOrchestrator().circuit(config)

    def down() -> None:
        raise ProviderUnreachable("connection refused")

    try:
        for _ in range(breaker.policy.failure_threshold):
            with suppress(ProviderUnreachable):
                breaker.call(down)
        summary = selectors.circuit_states(filters=filters())
        assert summary.gateways >= 2
        [row] = summary.not_closed
        assert (row.tenant_name, row.provider, row.state) == (
            "Nakheel Dates",
            "tap",
            CircuitState.OPEN,
        )
        assert selectors.circuit_states(filters=filters(tenant=str(book.souq.pk))).not_closed == []
    finally:
        breaker.reset()


def test_reconciliation_snapshot_is_what_the_checks_report(book, staff_client):
    assert selectors.reconcile_snapshot_get() is None
    expected = len(reconcile_settlements()) + len(reconcile_checks_run())
    assert staff_client.post(reverse("dashboard:reconcile")).status_code == 302  # eager task
    snapshot = selectors.reconcile_snapshot_get()
    assert snapshot is not None
    assert snapshot.total == expected
    assert dashboard_reconcile_snapshot() == expected
    cache.delete(selectors.RECONCILE_CACHE_KEY)


def test_the_page_shows_the_numbers_per_currency(book, staff_client):
    staff_client.cookies["wasla_language"] = "en"
    response = staff_client.get(reverse("dashboard:home"))
    assert response.status_code == 200
    page = response.content.decode()
    for text in (
        "SAR\u00a0350.00",
        "KWD\u00a010.500",
        "SAR\u00a02.30",
        "KWD\u00a01.000",
        "Nakheel Dates",
    ):
        assert text in page, text
    assert 'id="dashboard-charts"' in page
    assert page.count("<canvas") == page.count('aria-label="Chart:')


def test_the_page_speaks_arabic_by_default(book, staff_client):
    page = staff_client.get(reverse("dashboard:home")).content.decode()
    assert 'dir="rtl"' in page
    assert "350.00\u00a0ر.س." in page


def test_the_charts_say_how_fresh_their_figures_are_and_can_be_refreshed(db, staff_client):
    page = staff_client.get(reverse("dashboard:home")).content.decode()
    assert 'id="rollup-status"' in page
    assert rollup_last_run() is None
    book = build_book()  # payments after the last refresh are not in the charts yet
    assert selectors.payments_per_day(filters=filters()).attempts[-1] == 0
    assert staff_client.post(reverse("dashboard:refresh")).status_code == 302  # eager task
    assert rollup_last_run() is not None
    assert selectors.payments_per_day(filters=filters()).attempts[-1] == 5
    assert selectors.revenue_top_tenants(filters=filters(tenant=str(book.souq.pk)))[0].amount == 0


def test_a_refresh_replaces_the_days_it_covers(book):
    """A refund after the refresh moves revenue once the day is refreshed again, never twice."""
    refunded(book.paid_100, "100.00")  # reverses its 1.00 fee
    today = timezone.localdate()
    before = selectors.revenue_per_month(filters=filters())
    rollup_refresh(since=today)
    rollup_refresh(since=today)
    after = selectors.revenue_per_month(filters=filters())
    sar = {r.currency: r.amount for r in before}["SAR"]
    assert {r.currency: r.amount for r in after}["SAR"] == sar - D("1.00")
    assert PaymentDay.objects.filter(day=today).aggregate(n=Sum("attempts"))["n"] == 5
