"""Each page runs a fixed number of statements, whatever the number of payments: the same with
3 payments as with 30 (and with invoices, refunds, webhooks and tenants to match)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from testsupport.factories import make_tenant
from testsupport.payments import paid_payment, refunded
from wasla.dashboard.rollups import FULL_DAYS, rollup_refresh

pytestmark = pytest.mark.django_db


def _grow(n: int) -> None:
    for i in range(n):
        attempt = paid_payment(make_tenant(), f"{10 + i}.00")
        if i % 3 == 0:
            refunded(attempt, "5.00")
    rollup_refresh(since=timezone.localdate() - dt.timedelta(days=FULL_DAYS))


def _counts(client) -> dict[str, int]:  # type: ignore[no-untyped-def]
    today = timezone.localdate()
    pages = {
        "home": (reverse("dashboard:home"), {}),
        "payments": (reverse("dashboard:payments"), {}),
        "invoices": (reverse("dashboard:invoices"), {}),
        "simulator": (
            reverse("dashboard:simulator"),
            {
                "currency": "SAR",
                "percentage": "2",
                "date_from": str(today - dt.timedelta(days=1)),
                "date_to": str(today),
            },
        ),
    }
    counts = {}
    for name, (url, query) in pages.items():
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url, query).status_code == 200
        counts[name] = len(captured.captured_queries)
    return counts


def test_pages_run_the_same_statements_for_3_and_30_payments(staff_client):
    _grow(3)
    few = _counts(staff_client)
    _grow(27)
    many = _counts(staff_client)
    assert few == many
    assert few["home"] <= 20, few
