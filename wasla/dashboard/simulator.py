"""The fee-plan simulator: what Wasla would have earned in a period under a proposed plan.

It replays the period's settlements (payments confirmed then, reversed ones left out) through
the fee engine's formula and compares with the fees actually charged, per tenant and in total,
in the plan's currency. At a million settlements a Python loop over `fee_compute` would hold
the page for minutes, so the formula runs in SQL (`fee_sql`): fixed + percentage * gross, raised
to the minimum, lowered to the maximum, never above the gross, rounded once half-up to the
currency's exponent (PostgreSQL's ROUND on numeric rounds halves away from zero: half-up for
fees, which are never negative). The percentage is multiplied by 0.01 rather than divided by
100, so every step is exact numeric arithmetic, as it is in `Decimal`; a Hypothesis test proves
the SQL equal to `fee_compute` over random plans and amounts.

Nothing is written: the statements run in a transaction switched to READ ONLY and rolled back.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import connection, transaction

from wasla.common.money import currency_exponent
from wasla.settlement.fees import ResolvedFeePlan, fee_compute
from wasla.settlement.models import SettlementRecord
from wasla.tenants.models import Tenant

from .selectors import RIYADH

SIMULATOR_PAGE = 20
MAX_PAGE = 500  # bounded OFFSET: 10,000 tenants deep at most


def proposed_plan(
    *,
    currency: str,
    fixed_fee: Decimal | None,
    percentage: Decimal | None,
    minimum_fee: Decimal | None,
    maximum_fee: Decimal | None,
) -> ResolvedFeePlan:
    """The proposal as the fee engine's own plan type (which validates the terms)."""
    return ResolvedFeePlan(
        plan_id=None,
        code="proposal",
        version=1,
        currency=currency,
        fixed_fee=fixed_fee or Decimal(0),
        percentage=percentage or Decimal(0),
        minimum_fee=minimum_fee,
        maximum_fee=maximum_fee,
        vat_rate=Decimal(0),
        refund_policy="percentage_back",
    )


def fee_sql(*, plan: ResolvedFeePlan, gross: str) -> tuple[str, list[Any]]:
    """`fee_compute(plan, gross).fee` as an SQL expression over the numeric column `gross`."""
    expr = f"(%s::numeric + %s::numeric * {gross} * 0.01)"
    params: list[Any] = [plan.fixed_fee, plan.percentage]
    if plan.minimum_fee is not None:
        expr = f"GREATEST({expr}, %s::numeric)"
        params.append(plan.minimum_fee)
    if plan.maximum_fee is not None:
        expr = f"LEAST({expr}, %s::numeric)"
        params.append(plan.maximum_fee)
    expr = f"ROUND(LEAST({expr}, {gross}), %s)"
    params.append(currency_exponent(plan.currency))
    return expr, params


@dataclass(frozen=True)
class TenantResult:
    tenant_id: int
    name: str
    settlements: int
    current: Decimal
    proposed: Decimal

    @property
    def difference(self) -> Decimal:
        return self.proposed - self.current


@dataclass(frozen=True)
class Simulation:
    currency: str
    settlements: int
    tenants: int
    current: Decimal
    proposed: Decimal
    rows: list[TenantResult]  # this page, biggest current revenue first
    page: int
    pages: int

    @property
    def difference(self) -> Decimal:
        return self.proposed - self.current


def fee_plan_simulate(
    *,
    plan: ResolvedFeePlan,
    first: dt.date,
    last: dt.date,
    tenant_ids: list[int] | None = None,
    page: int = 1,
) -> Simulation:
    """One statement: per-tenant sums for the page and, by window functions, the totals."""
    page = max(1, min(page, MAX_PAGE))
    if connection.vendor != "postgresql":
        return _simulate_in_python(
            plan=plan, first=first, last=last, tenant_ids=tenant_ids, page=page
        )
    start = dt.datetime.combine(first, dt.time.min, tzinfo=RIYADH)
    end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time.min, tzinfo=RIYADH)
    fee, fee_params = fee_sql(plan=plan, gross="s.gross_amount")
    where = ["s.currency = %s", "s.payment_paid_at >= %s", "s.payment_paid_at < %s"]
    where.append("s.status <> %s")
    params: list[Any] = [*fee_params, plan.currency, start, end, SettlementRecord.Status.REVERSED]
    if tenant_ids:
        where.append("s.tenant_id = ANY(%s)")
        params.append(list(tenant_ids))
    sql = f"""
        WITH per_tenant AS (
            SELECT s.tenant_id, COUNT(*) AS n, SUM(s.wasla_fee) AS current, SUM({fee}) AS proposed
            FROM {SettlementRecord._meta.db_table} s
            WHERE {" AND ".join(where)}
            GROUP BY s.tenant_id
        )
        SELECT p.tenant_id, t.name, p.n, p.current, p.proposed,
               COUNT(*) OVER (), SUM(p.n) OVER (), SUM(p.current) OVER (), SUM(p.proposed) OVER ()
        FROM per_tenant p JOIN {Tenant._meta.db_table} t ON t.id = p.tenant_id
        ORDER BY p.current DESC, p.tenant_id
        LIMIT %s OFFSET %s
    """  # noqa: S608 - table names from model meta; values are parameters
    params += [SIMULATOR_PAGE, (page - 1) * SIMULATOR_PAGE]
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION READ ONLY")
            cursor.execute(sql, params)
            found = cursor.fetchall()
        transaction.set_rollback(True)
    zero = Decimal(0)
    if not found:
        return Simulation(plan.currency, 0, 0, zero, zero, [], page, 0)
    tenants, settlements, current, proposed = found[0][5:]
    return Simulation(
        currency=plan.currency,
        settlements=int(settlements),
        tenants=tenants,
        current=current,
        proposed=proposed,
        rows=[TenantResult(*row[:5]) for row in found],
        page=page,
        pages=-(-tenants // SIMULATOR_PAGE),
    )


def _simulate_in_python(
    *,
    plan: ResolvedFeePlan,
    first: dt.date,
    last: dt.date,
    tenant_ids: list[int] | None,
    page: int,
) -> Simulation:
    """The same replay through the fee engine itself, row by row, for the SQLite demo (its
    numbers are floats inside SQLite, and it has none of PostgreSQL's casts); a demo holds a
    few hundred settlements. PostgreSQL, where the volume is, takes the single statement."""
    start = dt.datetime.combine(first, dt.time.min, tzinfo=RIYADH)
    end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time.min, tzinfo=RIYADH)
    settlements = SettlementRecord.objects.filter(
        currency=plan.currency, payment_paid_at__gte=start, payment_paid_at__lt=end
    ).exclude(status=SettlementRecord.Status.REVERSED)
    if tenant_ids:
        settlements = settlements.filter(tenant_id__in=tenant_ids)
    sums: dict[int, list[Any]] = {}
    for tenant_id, gross, fee in settlements.values_list(
        "tenant_id", "gross_amount", "wasla_fee"
    ).iterator():
        row = sums.setdefault(tenant_id, [0, Decimal(0), Decimal(0)])
        row[0] += 1
        row[1] += fee
        row[2] += fee_compute(plan=plan, gross=gross, currency=plan.currency).fee
    zero = Decimal(0)
    if not sums:
        return Simulation(plan.currency, 0, 0, zero, zero, [], page, 0)
    names = dict(Tenant.objects.filter(pk__in=sums).values_list("pk", "name"))
    ranked = sorted(sums.items(), key=lambda item: (-item[1][1], item[0]))
    shown = ranked[(page - 1) * SIMULATOR_PAGE : page * SIMULATOR_PAGE]
    return Simulation(
        currency=plan.currency,
        settlements=sum(row[0] for row in sums.values()),
        tenants=len(sums),
        current=sum((row[1] for row in sums.values()), zero),
        proposed=sum((row[2] for row in sums.values()), zero),
        rows=[TenantResult(pk, names.get(pk, ""), *row) for pk, row in shown],
        page=page,
        pages=-(-len(sums) // SIMULATOR_PAGE),
    )
