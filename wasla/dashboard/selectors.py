"""What the operations dashboard reads: set-based aggregates across every tenant.

Each function is one or two SQL statements whatever the number of payments: the database groups
and sums (`values().annotate()`) and Python only reshapes the grouped rows, whose number depends
on days, currencies, providers or tenants — never on payments. The charts and the revenue read
the daily roll-ups (models.py, refreshed by rollups.py): at a million payments in a month,
summing the payments themselves takes seconds, the roll-up's few thousand rows milliseconds.
The lists, refunds, invoices and webhooks read the live tables, bounded by their filters.
Every read is bounded by a date range (Riyadh days; the forms default to the
last 30), so a million payments stay a range scan. Amounts are kept per currency: SAR and KWD
are never added together. Callers run under `platform_access` (the views' `staff_view`).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from types import SimpleNamespace
from typing import Any, cast
from zoneinfo import ZoneInfo

from django.core.cache import cache
from django.db import connection
from django.db.models import Count, Min, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone

from wasla.invoicing.models import Invoice
from wasla.payments.models import (
    OPEN_STATUSES,
    PAID_STATUSES,
    AttemptStatus,
    PaymentAttempt,
    PaymentGatewayConfig,
    RefundRecord,
    WebhookEvent,
)
from wasla.payments.orchestrator import circuit_name
from wasla.payments.resilience import CircuitState, circuits_read
from wasla.tenants.models import Tenant

from .models import PaymentDay, PaymentDayTotal, RevenueDay, RevenueDayTotal

RIYADH = ZoneInfo("Asia/Riyadh")
ZERO = Decimal(0)
PAGE_SIZE = 50
RECONCILE_CACHE_KEY = "wasla:dashboard:reconcile"


@dataclass(frozen=True)
class Filters:
    """Payments created in [start, end) (Riyadh midnights), optionally of one tenant, provider,
    method and attempt status."""

    start: dt.datetime
    end: dt.datetime
    tenant_id: int | None = None
    provider: str | None = None
    method: str | None = None
    status: str | None = None


def riyadh_day_bounds(*, first: dt.date, last: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """Riyadh days `first`..`last` inclusive as [start, end) instants."""
    start = dt.datetime.combine(first, dt.time.min, tzinfo=RIYADH)
    end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time.min, tzinfo=RIYADH)
    return start, end


def _riyadh_date(instant: dt.datetime) -> dt.date:
    return instant.astimezone(RIYADH).date()


def _dimensions(
    f: Filters, *, provider: str = "provider", method: str = "method", status: str | None = "status"
) -> Q:
    """The tenant, provider, method and status filters on whatever fields hold them."""
    q = Q()
    if f.tenant_id is not None:
        q &= Q(tenant_id=f.tenant_id)
    for value, name in ((f.provider, provider), (f.method, method), (f.status, status)):
        if value and name:
            q &= Q(**{name: value})
    return q


def payments_filtered(*, filters: Filters) -> QuerySet[PaymentAttempt]:
    return PaymentAttempt.objects.filter(
        _dimensions(filters), created_at__gte=filters.start, created_at__lt=filters.end
    )


# ---- payments per day and per month ------------------------------------------------------------


@dataclass
class Series:
    """A time series for a chart: one label per day or month, counts, and volume per currency."""

    labels: list[dt.date]  # days, or the first day of each month
    attempts: list[int]
    paid: list[int]
    volume: dict[str, list[Decimal]]  # currency → paid volume per label

    def rows(self) -> list[dict[str, Any]]:
        """The same numbers as table rows (the chart's text alternative)."""
        return [
            {
                "label": label,
                "attempts": self.attempts[i],
                "paid": self.paid[i],
                "volume": [(c, v[i]) for c, v in sorted(self.volume.items()) if v[i]],
            }
            for i, label in enumerate(self.labels)
        ]

    def chart(self) -> dict[str, Any]:
        return {
            "labels": [d.isoformat() for d in self.labels],
            "attempts": self.attempts,
            "paid": self.paid,
            "volume": {c: [str(x) for x in v] for c, v in sorted(self.volume.items())},
        }


def _series(labels: list[dt.date], grouped: QuerySet[Any], key: str) -> Series:
    index = {label: i for i, label in enumerate(labels)}
    attempts = [0] * len(labels)
    paid = [0] * len(labels)
    volume: dict[str, list[Decimal]] = {}
    for row in grouped:  # one row per (day or month, currency): bounded by the range
        i = index.get(row[key])
        if i is None:
            continue
        attempts[i] += row["total"]
        paid[i] += row["paid"] or 0
        volume.setdefault(row["currency"], [ZERO] * len(labels))[i] += row["volume"] or ZERO
    return Series(labels, attempts, paid, volume)


def _days(filters: Filters) -> tuple[dt.date, dt.date]:
    return _riyadh_date(filters.start), _riyadh_date(filters.end - dt.timedelta(seconds=1))


def payment_days(*, filters: Filters, first: dt.date, last: dt.date) -> QuerySet[Any]:
    """The payment roll-up of the days: one tenant's rows, or the platform totals."""
    model = PaymentDay if filters.tenant_id is not None else PaymentDayTotal
    return model.objects.filter(_dimensions(filters), day__gte=first, day__lte=last)


def revenue_days(
    *, filters: Filters, first: dt.date, last: dt.date, per_tenant: bool = False
) -> QuerySet[Any]:
    """The revenue roll-up of the days: per tenant when asked or filtered, else the totals."""
    per_tenant = per_tenant or filters.tenant_id is not None
    model = RevenueDay if per_tenant else RevenueDayTotal
    return model.objects.filter(
        _dimensions(filters, status="attempt_status"), day__gte=first, day__lte=last
    )


def _grouped_by(qs: QuerySet[Any], key: str) -> QuerySet[Any]:
    paid = Q(status__in=PAID_STATUSES)
    return (
        qs.values(key, "currency")
        .annotate(
            total=Sum("attempts"),
            paid=Sum("attempts", filter=paid),
            volume=Sum("amount", filter=paid),
        )
        .order_by(key, "currency")
    )


def payments_per_day(*, filters: Filters) -> Series:
    """Attempts created, attempts paid and paid volume per Riyadh day of the range (from the
    daily roll-up: one query over at most days x tenants x dimensions rows)."""
    first, last = _days(filters)
    days = [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]
    qs = payment_days(filters=filters, first=first, last=last)
    return _series(days, _grouped_by(qs, "day"), "day")


def twelve_months(last_day: dt.date) -> list[dt.date]:
    """The first days of the 12 calendar months ending with the month of `last_day`."""
    months = []
    year, month = last_day.year, last_day.month
    for _ in range(12):
        months.append(dt.date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return months[::-1]


def payments_per_month(*, filters: Filters) -> Series:
    """The same per calendar month (Riyadh), for the 12 months ending with the range's end."""
    _, last = _days(filters)
    months = twelve_months(last)
    qs = payment_days(filters=filters, first=months[0], last=last).annotate(month=TruncMonth("day"))
    return _series(months, _grouped_by(qs, "month"), "month")


# ---- success rate ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SuccessRate:
    provider: str
    method: str
    finished: int  # attempts no longer created/pending
    paid: int
    failed: int

    @property
    def rate(self) -> Decimal | None:
        return Decimal(self.paid) / Decimal(self.finished) if self.finished else None


def success_rates(*, filters: Filters) -> list[SuccessRate]:
    """Per provider and method: paid / finished attempts (open ones have no outcome yet)."""
    first, last = _days(filters)
    zero = Value(0)
    rows = (
        payment_days(filters=filters, first=first, last=last)
        .values("provider", "method")
        .annotate(
            finished=Coalesce(Sum("attempts", filter=~Q(status__in=OPEN_STATUSES)), zero),
            paid=Coalesce(Sum("attempts", filter=Q(status__in=PAID_STATUSES)), zero),
            failed=Coalesce(Sum("attempts", filter=Q(status=AttemptStatus.FAILED)), zero),
        )
        .order_by("provider", "method")
    )
    return [SuccessRate(**row) for row in rows]


# ---- Wasla revenue -----------------------------------------------------------------------------


@dataclass(frozen=True)
class MoneyRow:
    month: dt.date
    currency: str
    amount: Decimal


def revenue_per_month(*, filters: Filters) -> list[MoneyRow]:
    """Wasla's fees net of adjustments per Riyadh month and currency, over the 12 months
    ending with the range's end (the months of the payments, as the invoices bill them; an
    adjustment counts in its settlement's month, whenever the refund happened)."""
    _, last = _days(filters)
    months = twelve_months(last)
    rows = (
        revenue_days(filters=filters, first=months[0], last=last)
        .annotate(month=TruncMonth("day"))
        .values("month", "currency")
        .annotate(amount=Sum("fee_net"))
        .order_by("month", "currency")
    )
    return [MoneyRow(r["month"], r["currency"], r["amount"]) for r in rows]


@dataclass(frozen=True)
class TenantRevenue:
    tenant_id: int
    name: str
    currency: str
    amount: Decimal


def revenue_top_tenants(*, filters: Filters, top: int = 10) -> list[TenantRevenue]:
    """The `top` tenants by Wasla's net fees over the range, per currency (a window function
    ranks them inside the database)."""
    first, last = _days(filters)
    grouped = (
        revenue_days(filters=filters, first=first, last=last, per_tenant=True)
        .values("tenant_id", "currency")
        .annotate(amount=Sum("fee_net"))
        .order_by()
    )
    inner, params = grouped.query.sql_with_params()
    sql = f"""
        SELECT r.tenant_id, t.name, r.currency, r.amount FROM (
            SELECT g.*, ROW_NUMBER() OVER (
                PARTITION BY g.currency ORDER BY g.amount DESC, g.tenant_id) AS rank
            FROM ({inner}) g
        ) r JOIN {Tenant._meta.db_table} t ON t.id = r.tenant_id
        WHERE r.rank <= %s ORDER BY r.currency, r.rank
    """  # noqa: S608 - the ORM's own SQL and a model's table name; values are parameters
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, top])
        return [TenantRevenue(*row) for row in cursor.fetchall()]


# ---- refunds, settlements, invoices ------------------------------------------------------------


@dataclass(frozen=True)
class CountAmount:
    key: str
    currency: str
    count: int
    amount: Decimal


def refunds_summary(*, filters: Filters) -> list[CountAmount]:
    """Succeeded refunds made in the range, per currency. The refund carries its tenant and
    provider; only a method filter needs the attempts. The status filter does not apply: a
    refund's attempt is paid, partially refunded or refunded by definition."""
    rows = (
        RefundRecord.objects.filter(
            _dimensions(filters, method="payment_attempt__method", status=None),
            status=RefundRecord.Status.SUCCEEDED,
            created_at__gte=filters.start,
            created_at__lt=filters.end,
        )
        .values("currency")
        .annotate(count=Count("id"), amount=Sum("amount"))
        .order_by("currency")
    )
    return [CountAmount("refunds", r["currency"], r["count"], r["amount"]) for r in rows]


def settlements_by_status(*, filters: Filters) -> list[CountAmount]:
    """Settlements of payments confirmed in the range per status and currency (Wasla's fee)."""
    first, last = _days(filters)
    rows = (
        revenue_days(filters=filters, first=first, last=last)
        .values("settlement_status", "currency")
        .annotate(count=Sum("settlements"), amount=Sum("fee"))
        .order_by("settlement_status", "currency")
    )
    return [
        CountAmount(r["settlement_status"], r["currency"], r["count"], r["amount"]) for r in rows
    ]


@dataclass
class InvoiceSummary:
    """Invoices issued in the range by status; what is owed now (whenever issued)."""

    by_status: list[CountAmount] = field(default_factory=list)  # amount: total
    outstanding: list[CountAmount] = field(default_factory=list)  # amount: amount due
    overdue: list[CountAmount] = field(default_factory=list)  # amount: amount due


def invoices_summary(*, filters: Filters, today: dt.date) -> InvoiceSummary:
    """Two queries: invoices issued in the range per status; open (issued) invoices now."""
    scope = Q(tenant_id=filters.tenant_id) if filters.tenant_id is not None else Q()
    summary = InvoiceSummary()
    issued = (
        Invoice.objects.filter(scope, issued_at__gte=filters.start, issued_at__lt=filters.end)
        .values("status", "currency")
        .annotate(count=Count("id"), amount=Sum("total"))
        .order_by("status", "currency")
    )
    summary.by_status = [
        CountAmount(r["status"], r["currency"], r["count"], r["amount"]) for r in issued
    ]
    late = Q(due_date__lt=today, amount_due__gt=ZERO)
    open_now = (
        Invoice.objects.filter(scope, status=Invoice.Status.ISSUED)
        .values("currency")
        .annotate(
            count=Count("id"),
            due=Sum("amount_due"),
            late_count=Count("id", filter=late),
            late_due=Sum("amount_due", filter=late),
        )
        .order_by("currency")
    )
    for r in open_now:
        summary.outstanding.append(CountAmount("outstanding", r["currency"], r["count"], r["due"]))
        if r["late_count"]:
            summary.overdue.append(
                CountAmount("overdue", r["currency"], r["late_count"], r["late_due"])
            )
    return summary


# ---- webhooks, circuit breakers, reconciliation ------------------------------------------------


@dataclass(frozen=True)
class WebhookHealth:
    received: int  # deliveries received in the range
    processed: int
    failed: int
    rejected: int  # signature or payload refused
    backlog: int  # `received` and not yet processed, whenever they arrived
    oldest_unprocessed: dt.datetime | None

    def oldest_age(self, now: dt.datetime) -> dt.timedelta | None:
        return now - self.oldest_unprocessed if self.oldest_unprocessed else None


def webhook_health(*, filters: Filters) -> WebhookHealth:
    """Two queries: the range's deliveries by outcome; the backlog now (index on status,
    received_at)."""
    scope = Q()
    if filters.tenant_id is not None:
        scope &= Q(tenant_id=filters.tenant_id)
    if filters.provider:
        scope &= Q(provider=filters.provider)
    status = WebhookEvent.Status
    counts = WebhookEvent.objects.filter(
        scope, received_at__gte=filters.start, received_at__lt=filters.end
    ).aggregate(
        received=Count("id"),
        processed=Count("id", filter=Q(status=status.PROCESSED)),
        failed=Count("id", filter=Q(status=status.FAILED)),
        rejected=Count("id", filter=Q(status=status.REJECTED)),
    )
    backlog = WebhookEvent.objects.filter(scope, status=status.RECEIVED).aggregate(
        backlog=Count("id"), oldest=Min("received_at")
    )
    return WebhookHealth(
        received=counts["received"],
        processed=counts["processed"],
        failed=counts["failed"],
        rejected=counts["rejected"],
        backlog=backlog["backlog"],
        oldest_unprocessed=backlog["oldest"],
    )


@dataclass(frozen=True)
class CircuitRow:
    tenant_name: str
    provider: str
    mode: str
    state: str
    failures: int


@dataclass(frozen=True)
class CircuitSummary:
    gateways: int
    not_closed: list[CircuitRow]  # open or half-open circuits, and closed ones counting failures


def circuit_states(*, filters: Filters) -> CircuitSummary:
    """The breaker of every active gateway config (one query), read from the shared cache in
    one round trip; only circuits that are open, half-open or counting failures are listed."""
    # Only what names a circuit, as plain tuples: no encrypted key is loaded (nor decrypted)
    # and no model instance is built, a thousand gateways cost one small query.
    configs = PaymentGatewayConfig.objects.filter(is_active=True)
    if filters.tenant_id is not None:
        configs = configs.filter(tenant_id=filters.tenant_id)
    if filters.provider:
        configs = configs.filter(provider=filters.provider)
    rows = [
        (
            name,
            provider,
            mode,
            circuit_name(
                cast(
                    PaymentGatewayConfig,
                    SimpleNamespace(
                        tenant_id=tenant_id, provider=provider, mode=mode, webhook_token=token
                    ),
                )
            ),
        )
        for tenant_id, name, provider, mode, token in configs.order_by("pk").values_list(
            "tenant_id", "tenant__name", "provider", "mode", "webhook_token"
        )
    ]
    try:
        states = circuits_read([circuit for *_, circuit in rows])
    except Exception:  # a cache outage must not take the dashboard down with it
        states = {}
    listed = [
        CircuitRow(tenant_name, provider, mode, *states[circuit])
        for tenant_name, provider, mode, circuit in rows
        if circuit in states and states[circuit] != (CircuitState.CLOSED, 0)
    ]
    return CircuitSummary(gateways=len(rows), not_closed=listed)


@dataclass(frozen=True)
class ReconcileSnapshot:
    """The last reconciliation run's findings, as `dashboard_reconcile_snapshot` stored them."""

    ran_at: dt.datetime
    settlement: dict[str, int]  # kind → count
    books: dict[str, int]  # check/kind → count
    examples: list[dict[str, Any]]

    @property
    def total(self) -> int:
        return sum(self.settlement.values()) + sum(self.books.values())


def reconcile_snapshot_get() -> ReconcileSnapshot | None:
    """One cache read: running the checks themselves takes seconds at scale, so a task runs
    them (beat, or the page's button) and the page shows its last result."""
    try:
        raw = cache.get(RECONCILE_CACHE_KEY)
    except Exception:
        return None
    if not raw:
        return None
    return ReconcileSnapshot(
        ran_at=dt.datetime.fromisoformat(raw["ran_at"]),
        settlement=raw["settlement"],
        books=raw["books"],
        examples=raw["examples"],
    )


# ---- drill-down lists --------------------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    rows: list[Any]
    next_cursor: str | None


class BadCursor(ValueError):
    pass


def payment_cursor(attempt: PaymentAttempt) -> str:
    return f"{attempt.created_at.isoformat()}_{attempt.id}"


def payment_page(*, filters: Filters, before: str | None) -> Page:
    """Newest first, `PAGE_SIZE` at a time, keyset on (created_at, id): page 1000 costs what
    page 1 does. `before` is the cursor of the previous page's last row.

    Two statements. The attempts' only index on time is (status, created_at): without a status
    filter, the newest rows are the newest of each status's newest (one index range per status,
    UNION ALL), so a million rows in range are never sorted; then those rows are loaded."""
    qs = payments_filtered(filters=filters)
    if before:
        try:
            stamp, _, ident = before.partition("_")
            at, pk = dt.datetime.fromisoformat(stamp), uuid.UUID(ident)
        except ValueError as exc:
            raise BadCursor(before) from exc
        if timezone.is_naive(at):
            raise BadCursor(before)
        qs = qs.filter(Q(created_at__lt=at) | Q(created_at=at, id__lt=pk))
    newest = ("-created_at", "-id")
    statuses = [filters.status] if filters.status else list(AttemptStatus.values)
    branches = [
        qs.filter(status=status).order_by(*newest).values_list("id", "created_at")[: PAGE_SIZE + 1]
        for status in statuses
    ]
    if len(branches) == 1:
        ids = [pk for pk, _ in branches[0]]
    else:
        combined = branches[0].union(*branches[1:], all=True).order_by(*newest)
        ids = [pk for pk, _ in combined[: PAGE_SIZE + 1]]
    rows = list(
        PaymentAttempt.objects.filter(id__in=ids).select_related("tenant").order_by(*newest)
    )
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    return Page(rows, payment_cursor(rows[-1]) if more else None)


def invoice_page(
    *, tenant_id: int | None, status: str | None, today: dt.date, before: int | None
) -> Page:
    """Invoices newest first (keyset on id); status `overdue` = issued, past due, still owed."""
    qs = Invoice.objects.select_related("tenant")
    if tenant_id is not None:
        qs = qs.filter(tenant_id=tenant_id)
    if status == "overdue":
        qs = qs.filter(status=Invoice.Status.ISSUED, due_date__lt=today, amount_due__gt=ZERO)
    elif status:
        qs = qs.filter(status=status)
    if before is not None:
        qs = qs.filter(pk__lt=before)
    rows = list(qs.order_by("-pk")[: PAGE_SIZE + 1])
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    return Page(rows, str(rows[-1].pk) if more else None)


def group_by_currency(rows: list[CountAmount]) -> dict[str, list[CountAmount]]:
    grouped: dict[str, list[CountAmount]] = defaultdict(list)
    for row in rows:
        grouped[row.key].append(row)
    return dict(grouped)
