"""The covering index behind the top tenants by revenue (measured by bench/dashboard.py: a
bitmap heap scan of the range took 200 ms at a million payments, the index-only scan 11 ms)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection, transaction
from django.db.models import Sum

from wasla.dashboard.models import RevenueDay

pytestmark = pytest.mark.django_db


def test_the_top_tenants_sum_is_an_index_only_scan_of_the_range() -> None:
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, RevenueDay._meta.db_table)
    assert constraints["revenue_day_top"]["columns"] == ["day", "tenant_id", "currency", "fee_net"]
    today = dt.date(2026, 12, 6)
    grouped = (
        RevenueDay.objects.filter(day__gte=today - dt.timedelta(days=29), day__lte=today)
        .values("tenant_id", "currency")
        .annotate(amount=Sum("fee_net"))
        .order_by()
    )
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("SET LOCAL enable_bitmapscan = off")
        plan = grouped.explain()
    assert "Index Only Scan using revenue_day_top" in plan, plan
