from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, cast
from zoneinfo import ZoneInfo

from django.db import connection
from django.db.models import (
    BigIntegerField,
    Case,
    CharField,
    DecimalField,
    F,
    Field,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce

from wasla.common.listing import NO_FILTERS, ListFilters, filters_apply
from wasla.common.money import round_money
from wasla.tenants.models import Tenant

from .fees import RefundPolicy, ResolvedFeePlan, refund_fee_delta
from .models import (
    DEFAULT_PLAN_CODE,
    FeePlan,
    FeePlanAssignment,
    SettlementAdjustment,
    SettlementRecord,
)

logger = logging.getLogger(__name__)

RIYADH = ZoneInfo("Asia/Riyadh")
OVERRIDABLE = ("fixed_fee", "percentage", "minimum_fee", "maximum_fee")


class FeePlanNotFound(LookupError):
    """No plan version covers a payment: a configuration error staff must fix (a "standard"
    plan per accepted currency), never a reason to guess a fee."""


SETTLEMENT_FILTER_PATHS = {
    "status": "status",
    "provider": "payment_attempt__provider",
    "method": "payment_attempt__method",
    "reference": "order__reference",
    "created": "created_at",
}


def settlement_list(
    *,
    tenant: Tenant | None,
    year: int | None = None,
    month: int | None = None,
    filters: ListFilters = NO_FILTERS,
) -> QuerySet[SettlementRecord]:
    """The tenant's settlements, newest first; `year`/`month` are those of the payment in
    Asia/Riyadh, as in the monthly report and on the invoice. `tenant=None` is every
    tenant's, for staff under `platform_access`."""
    qs = SettlementRecord.objects.all()
    if tenant is not None:
        qs = qs.filter(tenant=tenant)
    qs = qs.order_by("-created_at", "-id")
    if year is not None:
        qs = qs.filter(payment_paid_at__year=year)
    if month is not None:
        qs = qs.filter(payment_paid_at__month=month)
    return filters_apply(qs, filters, SETTLEMENT_FILTER_PATHS)


def fee_plan_resolve(*, tenant_id: int, currency: str, at: datetime) -> ResolvedFeePlan:
    """The plan terms in force for a tenant's payment in `currency` at `at`. One statement.

    The tenant's latest assignment (for that currency) that started by `at` names the plan
    code, else "standard"; the plan version is the latest of that code and currency that took
    effect by `at`. If the assigned code has no such version yet, "standard" is used, with the
    tenant's overrides still applied (they are the tenant's deal), and a warning logged.
    """
    return fee_plan_resolve_with_slug(tenant_id=tenant_id, currency=currency, at=at)[0]


def fee_plan_resolve_with_slug(
    *, tenant_id: int, currency: str, at: datetime
) -> tuple[ResolvedFeePlan, str]:
    """`fee_plan_resolve`, and the tenant's slug (the fee posting's account codes are named
    after it), in the same single SELECT: the versions in force with the tenant's assignment
    (its latest by `at`, by index) and its code, best first.

    Every read happens here, never from a per-process cache: the assignment can change at any
    time, and so can a version that no settlement has used yet (staff edit it before it takes
    effect); once used it is frozen, but which version is in force is itself a read.
    """
    # A FeePlan with `assigned_code`, `assigned_pk`, `assigned_<term>` and `tenant_slug`.
    if connection.vendor == "postgresql":
        plan = _plan_in_force_sql(tenant_id=tenant_id, currency=currency, at=at)
    else:
        plan = _plan_in_force_orm(tenant_id=tenant_id, currency=currency, at=at)
    if plan is None:
        raise FeePlanNotFound(
            f"no assigned or {DEFAULT_PLAN_CODE!r} plan for tenant {tenant_id} in {currency} "
            f"at {at}"
        )
    if plan.code != plan.assigned_code:
        logger.warning(
            "tenant %s: plan %r not in force at %s; using %s",
            tenant_id,
            plan.assigned_code,
            at,
            plan,
        )
    terms = {name: getattr(plan, name) for name in OVERRIDABLE}
    applied: list[str] = []
    if plan.assigned_pk is not None:
        for name in OVERRIDABLE:
            value = getattr(plan, f"assigned_{name}")
            if value is not None:
                terms[name] = value
                applied.append(name)
    resolved = ResolvedFeePlan(
        plan_id=plan.pk,
        code=plan.code,
        version=plan.version,
        currency=plan.currency,
        vat_rate=plan.vat_rate,
        refund_policy=plan.refund_policy,
        assignment_id=plan.assigned_pk,
        overrides=tuple(applied),
        **terms,
    )
    return resolved, plan.tenant_slug


def _plan_in_force_sql(*, tenant_id: int, currency: str, at: datetime) -> Any:
    """PostgreSQL: the plan version in force as one plain statement, the assignment read once in
    a CTE. Written out because the ORM form below costs the confirmation several milliseconds
    of query compiling per payment (bench/webhooks.py profiles); tests run this one."""
    plans = FeePlan._meta.db_table
    assignments = FeePlanAssignment._meta.db_table
    tenants = Tenant._meta.db_table
    sql = f"""
        WITH assigned AS (
            SELECT id, plan_code, fixed_fee_override, percentage_override, minimum_fee_override,
                   maximum_fee_override
            FROM {assignments}
            WHERE tenant_id = %s AND currency = %s AND effective_from <= %s
            ORDER BY effective_from DESC
            LIMIT 1
        ), wanted AS (
            SELECT coalesce((SELECT plan_code FROM assigned), %s) AS code
        )
        SELECT p.*, wanted.code AS assigned_code, a.id AS assigned_pk,
               a.fixed_fee_override AS assigned_fixed_fee,
               a.percentage_override AS assigned_percentage,
               a.minimum_fee_override AS assigned_minimum_fee,
               a.maximum_fee_override AS assigned_maximum_fee,
               (SELECT slug FROM {tenants} WHERE id = %s) AS tenant_slug
        FROM {plans} p CROSS JOIN wanted LEFT JOIN assigned a ON true
        WHERE p.currency = %s AND p.effective_from <= %s AND p.code IN (wanted.code, %s)
        ORDER BY p.code = wanted.code DESC, p.effective_from DESC, p.version DESC
        LIMIT 1
    """  # noqa: S608 (table names from the models; every value is a parameter)
    params = [tenant_id, currency, at, DEFAULT_PLAN_CODE, tenant_id, currency, at]
    return next(iter(FeePlan.objects.raw(sql, [*params, DEFAULT_PLAN_CODE])), None)


def _plan_in_force_orm(*, tenant_id: int, currency: str, at: datetime) -> Any:
    """Other databases (SQLite, the demo): the same SELECT through the ORM, the assignment's
    code and overrides as uncorrelated subqueries."""
    assignment = FeePlanAssignment.objects.filter(
        tenant_id=tenant_id, currency=currency, effective_from__lte=at
    ).order_by("-effective_from")

    def assigned(name: str, output_field: Field[Any, Any]) -> Subquery:
        return Subquery(assignment.values(name)[:1], output_field=output_field)

    code = Coalesce(assigned("plan_code", CharField()), Value(DEFAULT_PLAN_CODE))
    overrides = {
        f"assigned_{name}": assigned(
            f"{name}_override", cast(Field, FeePlanAssignment._meta.get_field(f"{name}_override"))
        )
        for name in OVERRIDABLE
    }
    return (
        FeePlan.objects.filter(currency=currency, effective_from__lte=at)
        .annotate(
            assigned_code=code,
            assigned_pk=assigned("pk", BigIntegerField()),
            tenant_slug=Subquery(Tenant.objects.filter(pk=tenant_id).values("slug")[:1]),
            **overrides,
        )
        .filter(Q(code=F("assigned_code")) | Q(code=DEFAULT_PLAN_CODE))
        .order_by(
            Case(When(code=F("assigned_code"), then=Value(0)), default=Value(1)),
            "-effective_from",
            "-version",
        )
        .first()
    )


@dataclass(frozen=True)
class MonthlyReport:
    tenant_id: int
    year: int
    month: int
    currency: str
    period_start: datetime  # inclusive, Asia/Riyadh midnight of the 1st
    period_end: datetime  # exclusive
    total_operations: int
    total_wasla_fee: Decimal
    records: list[SettlementRecord]  # each annotated with fee_adjustments and effective_fee


def _adjustment_total(field: str) -> Coalesce:
    """Σ `field` of a settlement's adjustments (0 without any), as a subquery on its pk."""
    money = DecimalField(max_digits=14, decimal_places=3)
    total = (
        SettlementAdjustment.objects.filter(settlement=OuterRef("pk"))
        .order_by()
        .values("settlement")
        .annotate(total=Sum(field))
        .values("total")
    )
    return Coalesce(Subquery(total, output_field=money), Value(Decimal(0)), output_field=money)


def settlements_with_adjustments(
    queryset: QuerySet[SettlementRecord],
) -> QuerySet[SettlementRecord]:
    """`queryset` with what refunds did to each settlement, in the same statement.

    A settlement's amounts never change after a refund (each refund adds an adjustment row), so
    what it is worth now is computed: `fee_adjustments` (Σ fee_delta, ≤ 0), `refunded`
    (Σ refund_amount), `effective_fee` = wasla_fee + fee_adjustments and `effective_net` =
    gross - refunded - effective_fee, what the merchant keeps of the payment after Wasla's fee
    (a reversed, fully refunded settlement: fee 0, net 0).
    """
    return queryset.annotate(
        fee_adjustments=_adjustment_total("fee_delta"),
        refunded=_adjustment_total("refund_amount"),
    ).annotate(
        effective_fee=F("wasla_fee") + F("fee_adjustments"),
        effective_net=F("gross_amount") - F("refunded") - F("effective_fee"),
    )


def fee_adjustments_total() -> Coalesce:
    """Σ fee_delta of a settlement's adjustments (≤ 0; 0 without any), as an annotation of
    settlements: one subquery, whatever the number of rows."""
    return _adjustment_total("fee_delta")


@dataclass(frozen=True)
class RefundEffect:
    """What a succeeded refund does to Wasla's fee on a settlement."""

    kind: str  # a SettlementAdjustment.Kind
    fee_delta: Decimal  # ≤ 0


def settlement_refund_effect(
    *, settlement: SettlementRecord, refund_amount: Decimal, full: bool
) -> RefundEffect:
    """The adjustment a refund of `refund_amount` (`full`: the payment is then refunded in
    full) makes on `settlement`, by the refund policy snapshotted on it (`fees.RefundPolicy`,
    `fees.refund_fee_delta`): before invoicing a reversal or a fee reduction, after invoicing a
    credit note due; a keep-fee policy keeps it. Read by the refund's own service and by the
    portal's preview before a refund, so the two cannot disagree."""
    already = settlement.adjustments.aggregate(total=Sum("fee_delta"))["total"] or Decimal(0)
    delta = refund_fee_delta(
        snapshot=settlement.fee_breakdown,
        fee=settlement.wasla_fee,
        gross=settlement.gross_amount,
        remaining_fee=settlement.wasla_fee + already,
        refund_amount=refund_amount,
        full=full,
        currency=settlement.currency,
    )
    invoiced = settlement.status in (
        SettlementRecord.Status.INVOICED,
        SettlementRecord.Status.PAID,
    )
    if settlement.fee_breakdown.get("refund_policy") == RefundPolicy.KEEP_FEE:
        kind = SettlementAdjustment.Kind.FEE_KEPT
    elif invoiced:
        kind = SettlementAdjustment.Kind.CREDIT_NOTE_DUE
    elif full:
        kind = SettlementAdjustment.Kind.REVERSAL
    else:
        kind = SettlementAdjustment.Kind.FEE_REDUCTION
    return RefundEffect(kind=kind, fee_delta=delta)


def month_bounds(*, year: int, month: int) -> tuple[datetime, datetime]:
    """The calendar month in Asia/Riyadh, as [start, end)."""
    start = datetime(year, month, 1, tzinfo=RIYADH)
    end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=RIYADH)
    return start, end


def generate_monthly_report(
    *, tenant: Tenant, month: int, year: int, currency: str = "SAR"
) -> MonthlyReport:
    """The tenant's settlements of one calendar month in Asia/Riyadh, and their totals.

    A settlement belongs to the month of its payment's confirmation time (`payment_paid_at`),
    read in Asia/Riyadh: 23:30 UTC on the 31st of January is 02:30 on the 1st of February there.
    Only settlements in `currency` (the invoice currency) are included.

    - `records`: every settlement of the month, reversed ones included, with its status,
      `fee_adjustments` (Σ fee_delta of its adjustments, ≤ 0, whenever the refund happened) and
      `effective_fee` = wasla_fee + fee_adjustments.
    - `total_operations`: settlements of the month not `reversed` (a payment refunded in full
      before invoicing is not an operation Wasla charges for; under a keep-fee policy it is
      never reversed, so it counts).
    - `total_wasla_fee`: Σ effective_fee over all records, excluding VAT. A reversal brings a
      settlement's effective fee to zero; a fee reduction or a credit note due lowers it.
    """
    start, end = month_bounds(year=year, month=month)
    records = list(
        settlements_with_adjustments(
            SettlementRecord.objects.for_tenant(tenant)
            .filter(currency=currency, payment_paid_at__gte=start, payment_paid_at__lt=end)
            .select_related("order")
        ).order_by("payment_paid_at", "id")
    )
    total = Decimal(0)
    for record in records:
        record.effective_fee = record.wasla_fee + record.fee_adjustments  # type: ignore[attr-defined]
        total += record.effective_fee  # type: ignore[attr-defined]
    return MonthlyReport(
        tenant_id=tenant.pk,
        year=year,
        month=month,
        currency=currency,
        period_start=start,
        period_end=end,
        total_operations=sum(1 for r in records if r.status != SettlementRecord.Status.REVERSED),
        total_wasla_fee=round_money(total, currency),
        records=records,
    )
