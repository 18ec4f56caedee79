"""What the portal's money pages read: per-tenant aggregates for the overview and the settlement
months, a payment's timeline, and what a refund would leave and do.

Every read here runs inside the tenant scope `member_view` entered, so row-level security keeps
it to the member's tenant; the `tenant` argument narrows it again for the ORM. Aggregates are
set-based (one `values().annotate()` statement each, grouped in PostgreSQL over indexed
columns): a page costs the same handful of statements whatever the tenant's volume.
Months and days are Asia/Riyadh's, as on the invoice and the monthly report.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import (
    Aggregate,
    Count,
    Q,
    QuerySet,
    Sum,
)
from django.db.models.functions import TruncDate, TruncMonth
from django.utils import timezone

from wasla.common.money import round_money
from wasla.payments.models import (
    PAID_STATUSES,
    PaymentAttempt,
    RefundRecord,
    WebhookEvent,
)
from wasla.payments.providers.registry import UnknownProvider, provider_class
from wasla.settlement.models import SettlementAdjustment, SettlementRecord
from wasla.settlement.selectors import (
    RIYADH,
    fee_adjustments_total,
    month_bounds,
    settlement_refund_effect,
)
from wasla.tenants.models import Tenant

ZERO = Decimal(0)
CHART_DAYS = 30
TIMELINE_EVENTS_LIMIT = 50  # provider events shown on one payment; a payment has a handful


# --- Overview ------------------------------------------------------------------------------


@dataclass
class MonthFigures:
    """One month's money in one currency, as the overview's cards show it."""

    currency: str
    payments: int = 0
    volume: Decimal = ZERO
    fees: Decimal = ZERO  # Wasla's fees on the month's settlements, net of their adjustments
    refunds: Decimal = ZERO  # succeeded refunds made in the month

    @property
    def net(self) -> Decimal:
        return self.volume - self.refunds - self.fees


@dataclass
class OverviewMonth:
    start: dt.date  # the 1st of the month (Riyadh)
    figures: list[MonthFigures]  # one per currency seen that month, SAR first


@dataclass
class DailySeries:
    days: list[dt.date]
    volume: dict[str, list[Decimal]]  # currency → volume per day, zero-filled
    paid: list[int]  # attempts created that day that got paid
    failed: list[int]  # attempts created that day that failed


@dataclass
class Overview:
    this_month: OverviewMonth
    last_month: OverviewMonth
    daily: DailySeries
    methods: list[tuple[str, int]]  # (method, paid payments in the last CHART_DAYS days)
    success_rate: Decimal | None = None  # paid / (paid + failed) over CHART_DAYS days


def _first_of_month(day: dt.date) -> dt.date:
    return day.replace(day=1)


def _previous_month(first: dt.date) -> dt.date:
    return _first_of_month(first - dt.timedelta(days=1))


def _currency_order(currency: str) -> tuple[int, str]:
    return (0 if currency == "SAR" else 1, currency)


def _by_month_and_currency(
    queryset: QuerySet[Any],
    *,
    time: str,
    currency: str,
    measures: dict[str, tuple[type[Aggregate], str]],
    months: list[tuple[dt.date, dt.datetime, dt.datetime]],
) -> Iterator[tuple[dt.date, str, dict[str, Any]]]:
    """One statement: `measures` ({name: (aggregate, field)}) of `queryset` per currency, each
    computed for every month of `months` ((first day, start, end) by `time`) by a FILTER
    clause; yields (first day, currency, {name: value})."""
    within = Q(**{f"{time}__gte": months[-1][1], f"{time}__lt": months[0][2]})
    annotations = {
        f"{name}_{i}": aggregate(path, filter=Q(**{f"{time}__gte": s, f"{time}__lt": e}))
        for name, (aggregate, path) in measures.items()
        for i, (_, s, e) in enumerate(months)
    }
    for row in queryset.filter(within).order_by().values(currency).annotate(**annotations):
        for i, (first, _, _) in enumerate(months):
            yield first, row[currency], {name: row[f"{name}_{i}"] for name in measures}


def overview_get(*, tenant: Tenant, now: dt.datetime | None = None) -> Overview:
    """This month's and last month's figures per currency, and the charts' series. Seven
    statements whatever the tenant's volume."""
    now = now or timezone.now()
    this_first = _first_of_month(now.astimezone(RIYADH).date())
    months = [
        (first, *month_bounds(year=first.year, month=first.month))
        for first in (this_first, _previous_month(this_first))
    ]
    figures: dict[tuple[dt.date, str], MonthFigures] = {}

    def month_of(first: dt.date, currency: str) -> MonthFigures:
        return figures.setdefault((first, currency), MonthFigures(currency=currency))

    paid = PaymentAttempt.objects.for_tenant(tenant).filter(status__in=PAID_STATUSES)
    for first, currency, row in _by_month_and_currency(
        paid,
        time="paid_at",
        currency="currency",
        measures={"n": (Count, "id"), "volume": (Sum, "amount")},
        months=months,
    ):
        month_of(first, currency).payments = row["n"] or 0
        month_of(first, currency).volume = row["volume"] or ZERO
    for queryset, time, currency, measure in (
        (SettlementRecord.objects, "payment_paid_at", "currency", "wasla_fee"),
        (
            SettlementAdjustment.objects,
            "settlement__payment_paid_at",
            "settlement__currency",
            "fee_delta",
        ),
    ):
        for first, code, row in _by_month_and_currency(
            queryset.for_tenant(tenant),
            time=time,
            currency=currency,
            measures={"fee": (Sum, measure)},
            months=months,
        ):
            month_of(first, code).fees += row["fee"] or ZERO
    refunds = RefundRecord.objects.for_tenant(tenant).filter(status=RefundRecord.Status.SUCCEEDED)
    for first, currency, row in _by_month_and_currency(
        refunds,
        time="created_at",
        currency="currency",
        measures={"r": (Sum, "amount")},
        months=months,
    ):
        month_of(first, currency).refunds = row["r"] or ZERO

    def month(first: dt.date) -> OverviewMonth:
        found = [
            f
            for (m, _), f in figures.items()
            if m == first and (f.payments or f.volume or f.fees or f.refunds)
        ]
        for entry in found:
            entry.fees = round_money(entry.fees, entry.currency)
        return OverviewMonth(
            start=first, figures=sorted(found, key=lambda f: _currency_order(f.currency))
        )

    daily, methods, rate = _charts(tenant=tenant, today=now.astimezone(RIYADH).date())
    return Overview(
        this_month=month(months[0][0]),
        last_month=month(months[1][0]),
        daily=daily,
        methods=methods,
        success_rate=rate,
    )


def _charts(
    *, tenant: Tenant, today: dt.date
) -> tuple[DailySeries, list[tuple[str, int]], Decimal | None]:
    """The last CHART_DAYS days (today included): paid volume per day and currency, attempts
    paid vs failed per day of their creation, and the method mix of the paid ones."""
    first_day = today - dt.timedelta(days=CHART_DAYS - 1)
    since = dt.datetime.combine(first_day, dt.time.min, tzinfo=RIYADH)
    days = [first_day + dt.timedelta(days=n) for n in range(CHART_DAYS)]
    index = {day: n for n, day in enumerate(days)}
    attempts = PaymentAttempt.objects.for_tenant(tenant).order_by()

    volume: dict[str, list[Decimal]] = {}
    for row in (
        attempts.filter(status__in=PAID_STATUSES, paid_at__gte=since)
        .annotate(day=TruncDate("paid_at", tzinfo=RIYADH))
        .values("day", "currency")
        .annotate(total=Sum("amount"))
    ):
        series = volume.setdefault(row["currency"], [ZERO] * CHART_DAYS)
        if row["day"] in index:
            series[index[row["day"]]] = row["total"]

    paid, failed = [0] * CHART_DAYS, [0] * CHART_DAYS
    for row in (
        attempts.filter(created_at__gte=since)
        .annotate(day=TruncDate("created_at", tzinfo=RIYADH))
        .values("day")
        .annotate(
            paid=Count("id", filter=Q(status__in=PAID_STATUSES)),
            failed=Count("id", filter=Q(status=PaymentAttempt.Status.FAILED)),
        )
    ):
        if row["day"] in index:
            paid[index[row["day"]]] = row["paid"]
            failed[index[row["day"]]] = row["failed"]

    methods = [
        (row["method"], row["n"])
        for row in attempts.filter(status__in=PAID_STATUSES, paid_at__gte=since)
        .values("method")
        .annotate(n=Count("id"))
        .order_by("-n", "method")
    ]
    settled = sum(paid) + sum(failed)
    rate = (Decimal(sum(paid)) / Decimal(settled)) if settled else None
    ordered = dict(sorted(volume.items(), key=lambda item: _currency_order(item[0])))
    return DailySeries(days=days, volume=ordered, paid=paid, failed=failed), methods, rate


# --- Payments ------------------------------------------------------------------------------


@dataclass(frozen=True)
class TimelineEntry:
    at: dt.datetime
    kind: str  # created | event | paid | failed | cancelled | refund | settlement | adjustment
    what: str = ""  # the event type, the refund's or settlement's status, the adjustment kind
    amount: Decimal | None = None
    currency: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def payment_detail_get(*, tenant: Tenant, payment_id: uuid.UUID) -> PaymentAttempt | None:
    """The payment with its order, or None (another tenant's id finds nothing: 404)."""
    return (
        PaymentAttempt.objects.for_tenant(tenant)
        .select_related("order")
        .filter(pk=payment_id)
        .first()
    )


def payment_timeline(*, attempt: PaymentAttempt) -> list[TimelineEntry]:
    """What happened to a payment, oldest first: created, the provider's events about it (type,
    time and outcome only — never their bodies or headers), paid or failed, each refund, the
    settlement and its fee adjustments.

    The webhook inbox does not link an event to an attempt (it stores what arrived); an event
    is this payment's when it came through the payment's gateway after the payment was created
    and its body names the payment's provider reference or our attempt id.
    """
    entries = [TimelineEntry(at=attempt.created_at, kind="created")]
    names = [str(attempt.id)]
    for reference in (attempt.provider_reference, attempt.provider_payment_reference):
        if reference:
            names.append(reference)
    mentions = Q()
    for name in names:
        mentions |= Q(body__contains=name)
    events = (
        WebhookEvent.objects.filter(
            tenant_id=attempt.tenant_id,
            gateway_config_id=attempt.gateway_config_id,
            received_at__gte=attempt.created_at,
            signature_valid=True,
        )
        .filter(mentions)
        .order_by("received_at", "id")
        .values("received_at", "event_type", "status")[:TIMELINE_EVENTS_LIMIT]
    )
    for event in events:
        entries.append(
            TimelineEntry(
                at=event["received_at"],
                kind="event",
                what=event["event_type"],
                extra={"status": event["status"]},
            )
        )
    if attempt.paid_at is not None:
        entries.append(
            TimelineEntry(
                at=attempt.paid_at, kind="paid", amount=attempt.amount, currency=attempt.currency
            )
        )
    elif attempt.status in (PaymentAttempt.Status.FAILED, PaymentAttempt.Status.CANCELLED):
        entries.append(TimelineEntry(at=attempt.updated_at, kind=attempt.status))
    for refund in RefundRecord.objects.filter(payment_attempt=attempt).order_by("created_at"):
        entries.append(
            TimelineEntry(
                at=refund.created_at,
                kind="refund",
                what=refund.status,
                amount=refund.amount,
                currency=refund.currency,
                extra={"reason": refund.reason},
            )
        )
    settlement = SettlementRecord.objects.filter(payment_attempt=attempt).first()
    if settlement is not None:
        entries.append(
            TimelineEntry(
                at=settlement.created_at,
                kind="settlement",
                what=settlement.status,
                amount=settlement.wasla_fee,
                currency=settlement.currency,
            )
        )
        for adjustment in settlement.adjustments.order_by("created_at"):
            entries.append(
                TimelineEntry(
                    at=adjustment.created_at,
                    kind="adjustment",
                    what=adjustment.kind,
                    amount=adjustment.fee_delta,
                    currency=settlement.currency,
                )
            )
    return sorted(entries, key=lambda entry: entry.at)


def refundable_left(*, attempt: PaymentAttempt) -> Decimal:
    """What can still be refunded: the amount less succeeded and pending refunds (a pending
    refund already reserves its amount, as `refund_request` counts it)."""
    if attempt.status not in (PaymentAttempt.Status.PAID, PaymentAttempt.Status.PARTIALLY_REFUNDED):
        return ZERO
    reserved = RefundRecord.objects.filter(
        payment_attempt=attempt,
        status__in=[RefundRecord.Status.PENDING, RefundRecord.Status.SUCCEEDED],
    ).aggregate(total=Sum("amount"))["total"]
    return attempt.amount - (reserved or ZERO)


def payment_refundable_online(*, attempt: PaymentAttempt) -> bool:
    """Refunded through the provider from the portal: paid online (cash on delivery refunds
    are recorded by staff) and not yet refunded in full."""
    try:
        offline = provider_class(attempt.provider).collected_offline
    except UnknownProvider:
        return False
    return not offline and refundable_left(attempt=attempt) > 0


@dataclass(frozen=True)
class FeeConsequence:
    """What a refund would do to Wasla's fee on the payment's settlement."""

    kind: str  # none | reversal | fee_reduction | credit_note_due | fee_kept
    fee_delta: Decimal  # ≤ 0
    currency: str

    @property
    def fee_back(self) -> Decimal:
        """What Wasla gives back (≥ 0), as a person reads it."""
        return -self.fee_delta


def refund_fee_preview(*, attempt: PaymentAttempt, amount: Decimal) -> FeeConsequence:
    """The settlement's answer to a refund of `amount` now, as the settlement service will
    record it when the refund succeeds (`settlement_refund_effect`)."""
    settlement = SettlementRecord.objects.filter(payment_attempt=attempt).first()
    if settlement is None:
        return FeeConsequence(kind="none", fee_delta=ZERO, currency=attempt.currency)
    effect = settlement_refund_effect(
        settlement=settlement,
        refund_amount=amount,
        full=attempt.refunded_amount + amount >= attempt.amount,
    )
    return FeeConsequence(
        kind=str(effect.kind), fee_delta=effect.fee_delta, currency=settlement.currency
    )


# --- Settlements ---------------------------------------------------------------------------


@dataclass
class SettlementMonth:
    start: dt.date
    currency: str
    count: int = 0
    gross: Decimal = ZERO
    fees: Decimal = ZERO  # net of adjustments
    reversed: int = 0

    @property
    def net(self) -> Decimal:
        return self.gross - self.fees


def settlement_months(
    *, tenant: Tenant, within: tuple[dt.datetime, dt.datetime] | None = None
) -> list[SettlementMonth]:
    """The tenant's settlements by month of payment (Riyadh) and currency, newest first: count,
    gross, Wasla's fees net of refund adjustments, and what stays with the merchant; `within`
    ([start, end) of payment times) narrows them. Two statements."""
    settlements = SettlementRecord.objects.for_tenant(tenant)
    adjustments = SettlementAdjustment.objects.for_tenant(tenant)
    if within is not None:
        settlements = settlements.filter(
            payment_paid_at__gte=within[0], payment_paid_at__lt=within[1]
        )
        adjustments = adjustments.filter(
            settlement__payment_paid_at__gte=within[0], settlement__payment_paid_at__lt=within[1]
        )
    found: dict[tuple[dt.date, str], SettlementMonth] = {}
    for row in (
        settlements.annotate(month=TruncMonth("payment_paid_at", tzinfo=RIYADH))
        .order_by()
        .values("month", "currency")
        .annotate(
            n=Count("id"),
            gross=Sum("gross_amount"),
            fees=Sum("wasla_fee"),
            reversed=Count("id", filter=Q(status=SettlementRecord.Status.REVERSED)),
        )
    ):
        start = _as_date(row["month"])
        found[(start, row["currency"])] = SettlementMonth(
            start=start,
            currency=row["currency"],
            count=row["n"],
            gross=row["gross"] or ZERO,
            fees=row["fees"] or ZERO,
            reversed=row["reversed"],
        )
    for row in (
        adjustments.annotate(month=TruncMonth("settlement__payment_paid_at", tzinfo=RIYADH))
        .order_by()
        .values("month", "settlement__currency")
        .annotate(delta=Sum("fee_delta"))
    ):
        key = (_as_date(row["month"]), row["settlement__currency"])
        if key in found:
            found[key].fees += row["delta"] or ZERO
    return sorted(found.values(), key=lambda m: (-m.start.toordinal(), _currency_order(m.currency)))


def _as_date(value: dt.date | dt.datetime) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.astimezone(RIYADH).date() if timezone.is_aware(value) else value.date()
    return value


def settlement_month_rows(*, tenant: Tenant, year: int, month: int) -> QuerySet[SettlementRecord]:
    """One month's settlements (by payment time, Riyadh), oldest first, each with its order,
    payment and `fee_adjustments` (Σ fee_delta, ≤ 0)."""
    start, end = month_bounds(year=year, month=month)
    return (
        SettlementRecord.objects.for_tenant(tenant)
        .filter(payment_paid_at__gte=start, payment_paid_at__lt=end)
        .select_related("order", "payment_attempt")
        .annotate(fee_adjustments=fee_adjustments_total())
        .order_by("payment_paid_at", "id")
    )


def settlement_month_totals(*, tenant: Tenant, year: int, month: int) -> list[SettlementMonth]:
    """One month's totals per currency (the summary above its rows). Two statements."""
    return settlement_months(tenant=tenant, within=month_bounds(year=year, month=month))
