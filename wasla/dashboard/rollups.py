"""Refreshing the daily roll-ups (models.py) from payments and settlements, set-based.

`rollup_refresh(since=...)` rebuilds every day from `since` (a Riyadh date) to today in one
transaction: two DELETEs and two INSERT … SELECT … GROUP BY, whatever the number of rows. The
beat schedule runs it often for the last few days (new payments, today's refunds) and nightly
for the whole retained window, which picks up late changes to old payments (a refund of a
payment confirmed months ago moves that day's revenue). Until a first run the overview says
its figures are not ready.
"""

from __future__ import annotations

import datetime as dt
import time
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.utils import timezone

from wasla.payments.models import PaymentAttempt
from wasla.settlement.models import SettlementAdjustment, SettlementRecord
from wasla.tenants.context import platform_access

from .models import PaymentDay, PaymentDayTotal, RevenueDay, RevenueDayTotal, RollupRun

RIYADH = "Asia/Riyadh"
RECENT_DAYS = 3
FULL_DAYS = 400  # the forms allow at most 400 days; the 12-month charts need 366


def _riyadh_start(day: dt.date) -> dt.datetime:
    from .selectors import RIYADH as ZONE

    return dt.datetime.combine(day, dt.time.min, tzinfo=ZONE)


def _riyadh_day(column: str) -> tuple[str, list[Any]]:
    """SQL for the Riyadh calendar day of a timestamp column, and its parameters.

    PostgreSQL converts with the zone's rules; SQLite (the zero-setup demo) stores UTC text and
    has no time zones, so it adds Riyadh's offset, which is +03:00 all year (no daylight saving
    since 1947) — asserted here so a change of the zone's rules cannot go unnoticed."""
    if connection.vendor == "postgresql":
        return f"({column} AT TIME ZONE %s)::date", [RIYADH]
    offset = dt.datetime(2000, 1, 1, tzinfo=ZoneInfo(RIYADH)).utcoffset()
    assert offset == dt.timedelta(hours=3), offset
    return f"date({column}, '+3 hours')", []


def rollup_refresh(*, since: dt.date, actor: str = "system") -> RollupRun:
    """Rebuild the roll-ups of every day from `since` on; one transaction, nine statements."""
    started = time.perf_counter()
    start = _riyadh_start(since)
    attempts = PaymentAttempt._meta.db_table
    settlements = SettlementRecord._meta.db_table
    adjustments = SettlementAdjustment._meta.db_table
    payment_day = PaymentDay._meta.db_table
    revenue_day = RevenueDay._meta.db_table
    payment_total = PaymentDayTotal._meta.db_table
    revenue_total = RevenueDayTotal._meta.db_table
    created_day, created_params = _riyadh_day("created_at")
    paid_day, paid_params = _riyadh_day("s.payment_paid_at")
    with platform_access(reason="dashboard rollup refresh", actor=actor), transaction.atomic():
        with connection.cursor() as cursor:
            for table in (payment_day, revenue_day, payment_total, revenue_total):
                cursor.execute(f"DELETE FROM {table} WHERE day >= %s", [since])  # noqa: S608
            cursor.execute(
                f"""
                INSERT INTO {payment_day}
                    (tenant_id, day, provider, method, status, currency, attempts, amount)
                SELECT tenant_id, {created_day}, provider, method, status,
                       currency, COUNT(*), SUM(amount)
                FROM {attempts} WHERE created_at >= %s
                GROUP BY 1, 2, 3, 4, 5, 6
                """,  # noqa: S608 - table names from model meta; values are parameters
                [*created_params, start],
            )
            cursor.execute(
                f"""
                INSERT INTO {revenue_day}
                    (tenant_id, day, provider, method, attempt_status, settlement_status,
                     currency, settlements, fee, fee_net)
                SELECT s.tenant_id, {paid_day}, a.provider,
                       a.method, a.status, s.status, s.currency, COUNT(*), SUM(s.wasla_fee),
                       SUM(s.wasla_fee + COALESCE(j.delta, 0))
                FROM {settlements} s
                JOIN {attempts} a ON a.id = s.payment_attempt_id
                LEFT JOIN (
                    SELECT settlement_id, SUM(fee_delta) AS delta FROM {adjustments}
                    GROUP BY settlement_id
                ) j ON j.settlement_id = s.id
                WHERE s.payment_paid_at >= %s
                GROUP BY 1, 2, 3, 4, 5, 6, 7
                """,  # noqa: S608
                [*paid_params, start],
            )
            # The platform totals, from the per-tenant rows just written.
            cursor.execute(
                f"""
                INSERT INTO {payment_total}
                    (day, provider, method, status, currency, attempts, amount)
                SELECT day, provider, method, status, currency, SUM(attempts), SUM(amount)
                FROM {payment_day} WHERE day >= %s GROUP BY 1, 2, 3, 4, 5
                """,  # noqa: S608
                [since],
            )
            cursor.execute(
                f"""
                INSERT INTO {revenue_total}
                    (day, provider, method, attempt_status, settlement_status, currency,
                     settlements, fee, fee_net)
                SELECT day, provider, method, attempt_status, settlement_status, currency,
                       SUM(settlements), SUM(fee), SUM(fee_net)
                FROM {revenue_day} WHERE day >= %s GROUP BY 1, 2, 3, 4, 5, 6
                """,  # noqa: S608
                [since],
            )
        run = RollupRun.objects.create(
            finished_at=timezone.now(),
            since=since,
            seconds=Decimal(f"{time.perf_counter() - started:.3f}"),
        )
    return run


def rollup_last_run() -> RollupRun | None:
    return RollupRun.objects.order_by("-finished_at").first()
