"""The fee-plan simulator: its SQL formula equals the fee engine's `fee_compute` (a Hypothesis
property over random plans and amounts), its totals equal a replay through `fee_compute`, it
writes nothing, and bad input is a form error."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from testsupport.factories import make_tenant
from testsupport.payments import settled_at, standard_plan_in
from wasla.dashboard.simulator import SIMULATOR_PAGE, fee_plan_simulate, fee_sql, proposed_plan
from wasla.settlement.fees import fee_compute
from wasla.settlement.models import SettlementRecord
from wasla.tenants.models import PlatformAccessLog

pytestmark = pytest.mark.django_db

D = Decimal


@st.composite
def plans_and_amounts(draw):  # type: ignore[no-untyped-def]
    currency = draw(st.sampled_from(["SAR", "KWD", "BHD", "USD"]))
    scale = D(1).scaleb(-(3 if currency in {"KWD", "BHD"} else 2))

    def amount(high: int) -> Decimal:
        return D(draw(st.integers(min_value=0, max_value=high))) * scale

    fixed = amount(100_000)
    percentage = D(draw(st.integers(min_value=0, max_value=1_000_000))).scaleb(-4)
    bounds = sorted([amount(500_000), amount(500_000)])
    minimum = bounds[0] if draw(st.booleans()) else None
    maximum = bounds[1] if draw(st.booleans()) else None
    gross = D(draw(st.integers(min_value=1, max_value=10**13))) * scale
    plan = proposed_plan(
        currency=currency,
        fixed_fee=fixed,
        percentage=percentage,
        minimum_fee=minimum,
        maximum_fee=maximum,
    )
    return plan, gross


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(case=plans_and_amounts())
def test_the_sql_formula_is_the_fee_engine(db, case):
    plan, gross = case
    expr, params = fee_sql(plan=plan, gross="x.gross")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {expr} FROM (SELECT %s::numeric AS gross) x", [*params, gross])
        [(in_sql,)] = cursor.fetchall()
    assert in_sql == fee_compute(plan=plan, gross=gross, currency=plan.currency).fee


def test_halves_round_up_in_sql_as_in_python(db):
    # 2.5 % of 0.10 SAR is 0.0025: half a halala at the third decimal → 0.00; of 0.30 → 0.0075
    # → 0.01; fixed 0.005 can't be a SAR amount, so the percentage carries the halves.
    plan = proposed_plan(
        currency="SAR", fixed_fee=D("0"), percentage=D("5"), minimum_fee=None, maximum_fee=None
    )
    for gross in (D("0.10"), D("0.30"), D("0.50"), D("12345.70")):
        expr, params = fee_sql(plan=plan, gross="x.gross")
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {expr} FROM (SELECT %s::numeric AS gross) x", [*params, gross])
            [(in_sql,)] = cursor.fetchall()
        assert in_sql == fee_compute(plan=plan, gross=gross, currency="SAR").fee


def _month_start() -> dt.datetime:
    today = timezone.localdate()
    return dt.datetime(today.year, today.month, 1, 1, tzinfo=dt.UTC)


def test_the_simulation_replays_every_settlement_through_the_fee_engine(db):
    a, b = make_tenant(name="Alpha"), make_tenant(name="Beta")
    at = timezone.now() - dt.timedelta(minutes=5)
    grosses = {a: ["12.34", "100.00", "999.99", "0.50"], b: ["250.00", "3.30"]}
    for tenant, amounts in grosses.items():
        for amount in amounts:
            settled_at(tenant, at, amount)
    standard_plan_in("KWD")
    settled_at(a, at, "7.250", currency="KWD")  # another currency: not in a SAR simulation
    plan = proposed_plan(
        currency="SAR",
        fixed_fee=D("0.50"),
        percentage=D("1.75"),
        minimum_fee=D("1.00"),
        maximum_fee=D("10.00"),
    )
    today = timezone.localdate()
    result = fee_plan_simulate(plan=plan, first=today - dt.timedelta(days=1), last=today)

    def engine(amounts: list[str]) -> Decimal:
        return sum((fee_compute(plan=plan, gross=D(x), currency="SAR").fee for x in amounts), D(0))

    current = {
        t: sum(s.wasla_fee for s in SettlementRecord.objects.filter(tenant=t, currency="SAR"))
        for t in (a, b)
    }
    assert (result.settlements, result.tenants) == (6, 2)
    assert result.proposed == engine(grosses[a]) + engine(grosses[b])
    assert result.current == current[a] + current[b]
    by_tenant = {r.tenant_id: r for r in result.rows}
    assert by_tenant[a.pk].proposed == engine(grosses[a])
    assert by_tenant[b.pk].proposed == engine(grosses[b])
    assert by_tenant[a.pk].current == current[a]
    only_b = fee_plan_simulate(
        plan=plan, first=today - dt.timedelta(days=1), last=today, tenant_ids=[b.pk]
    )
    assert (only_b.tenants, only_b.proposed) == (1, engine(grosses[b]))
    kwd = proposed_plan(
        currency="KWD", fixed_fee=D("0.100"), percentage=D("0"), minimum_fee=None, maximum_fee=None
    )
    assert fee_plan_simulate(plan=kwd, first=today, last=today).proposed == D("0.100")


def _row_counts() -> dict[str, int]:
    with connection.cursor() as cursor:
        counts = {}
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f'SELECT COUNT(*) FROM "{table}"')
            counts[table] = cursor.fetchone()[0]
    return counts


def test_the_simulator_page_writes_nothing_but_its_audit_row(staff_client, book):
    before = _row_counts()
    today = timezone.localdate()
    response = staff_client.get(
        reverse("dashboard:simulator"),
        {
            "currency": "SAR",
            "percentage": "2.5",
            "fixed_fee": "0.25",
            "date_from": str(today - dt.timedelta(days=3)),
            "date_to": str(today),
        },
    )
    assert response.status_code == 200
    result = response.context["result"]
    # Nakheel 100.00 and 50.00 (Souq's 200.00 was reversed): 2.75 + 1.50; the fixed fee of
    # 0.25 under the proposal, the 1.00 of the standard plan now.
    assert (result.settlements, result.current, result.proposed) == (2, D("2.00"), D("4.25"))
    after = _row_counts()
    audit = PlatformAccessLog._meta.db_table
    assert after.pop(audit) == before.pop(audit) + 1
    assert after == before


def test_tenants_are_paged(staff_client, db):
    at = timezone.now() - dt.timedelta(minutes=1)
    for n in range(SIMULATOR_PAGE + 3):
        settled_at(make_tenant(f"t-{n:02d}"), at, f"{n + 1}.00")
    today = timezone.localdate()
    query = {"currency": "SAR", "fixed_fee": "1", "date_from": str(today), "date_to": str(today)}
    first = staff_client.get(reverse("dashboard:simulator"), query).context["result"]
    second = staff_client.get(reverse("dashboard:simulator"), {**query, "page": "2"}).context[
        "result"
    ]
    assert (first.pages, len(first.rows), len(second.rows)) == (2, SIMULATOR_PAGE, 3)
    assert first.proposed == second.proposed == D(SIMULATOR_PAGE + 3)
    assert {r.tenant_id for r in first.rows}.isdisjoint({r.tenant_id for r in second.rows})


@pytest.mark.parametrize(
    "bad",
    [
        {"percentage": "101"},
        {"percentage": "-1"},
        {"fixed_fee": "0.001"},  # SAR has two decimals
        {"currency": "KWD", "fixed_fee": "0.0001"},
        {"minimum_fee": "5", "maximum_fee": "1"},
        {"date_from": "2026-02-01", "date_to": "2026-01-01"},
        {"date_from": "2020-01-01", "date_to": "2026-01-01"},
        {"currency": "XXX"},
        {"tenants": "abc"},
        {"page": "abc"},
        {"page": "0"},
        {"fixed_fee": "NaN"},
        {"fixed_fee": "1e400"},
    ],
)
def test_bad_simulator_input_is_a_form_error(staff_client, bad):
    query = {"currency": "SAR", "date_from": "2026-01-01", "date_to": "2026-01-31", **bad}
    response = staff_client.get(reverse("dashboard:simulator"), query)
    assert response.status_code == 400
    assert 'class="error"' in response.content.decode()


def test_the_demos_python_replay_gives_the_same_simulation_as_the_sql(db):
    """SQLite (the demo) replays row by row through the engine; it must agree with the SQL."""
    from wasla.dashboard.simulator import _simulate_in_python

    tenants = [make_tenant(name=f"T{n}") for n in range(3)]
    at = timezone.now() - dt.timedelta(minutes=5)
    for n, tenant in enumerate(tenants):
        for amount in ("9.99", "120.00", "0.75")[: n + 1]:
            settled_at(tenant, at, amount)
    plan = proposed_plan(
        currency="SAR",
        fixed_fee=D("0.25"),
        percentage=D("2.5"),
        minimum_fee=D("0.50"),
        maximum_fee=D("2.00"),
    )
    today = timezone.localdate()
    for tenant_ids in (None, [tenants[1].pk, tenants[2].pk]):
        args = {"plan": plan, "first": today - dt.timedelta(days=1), "last": today}
        in_sql = fee_plan_simulate(**args, tenant_ids=tenant_ids)
        in_python = _simulate_in_python(**args, tenant_ids=tenant_ids, page=1)
        assert in_python == in_sql
