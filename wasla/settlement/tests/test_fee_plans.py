"""Fee plans in the database: versions, per-tenant assignments and overrides, and refund
policies applied through the real COD payment and cash-refund services."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from testsupport.payments import cod_paid, settled_at
from wasla.payments.refunds import refund_record_cash
from wasla.settlement.fees import RefundPolicy
from wasla.settlement.models import FeePlan, FeePlanAssignment, SettlementRecord
from wasla.settlement.selectors import FeePlanNotFound, fee_plan_resolve
from wasla.settlement.services import fee_plan_version_next

pytestmark = pytest.mark.django_db

D = Decimal


def new_version(code: str = "standard", **terms: object) -> FeePlan:
    latest = FeePlan.objects.filter(code=code).order_by("-version").first()
    fields: dict[str, object] = {
        "name": code.title(),
        "currency": "SAR",
        "fixed_fee": D("1.00"),
        "effective_from": timezone.now(),
        **terms,
    }
    return FeePlan.objects.create(
        code=code, version=(latest.version + 1) if latest else 1, **fields
    )


def settlement_of(attempt) -> SettlementRecord:
    return SettlementRecord.objects.get(payment_attempt=attempt)


def test_the_default_plan_is_standard_v1_one_riyal_fixed(tenant):
    plan = FeePlan.objects.get(code="standard", version=1)
    assert (plan.fixed_fee, plan.percentage, plan.vat_rate, plan.currency) == (
        D("1.00"),
        D("0"),
        D("15.00"),
        "SAR",
    )
    settlement = settlement_of(cod_paid(tenant, "250.00"))
    assert (settlement.wasla_fee, settlement.net_amount) == (D("1.00"), D("249.00"))
    assert settlement.fee_plan == plan
    assert settlement.fee_breakdown["plan"] == "standard"
    assert settlement.fee_breakdown["plan_version"] == 1
    assert settlement.fee_breakdown["vat_rate"] == "15.00"
    plan.refresh_from_db()
    assert plan.in_use  # frozen from now on


def test_a_new_version_applies_to_new_payments_only(tenant):
    before = settlement_of(cod_paid(tenant, "200.00"))
    v2 = new_version(fixed_fee=D("1.00"), percentage=D("2.5"))
    after = settlement_of(cod_paid(tenant, "200.00"))

    assert after.fee_plan == v2
    assert after.wasla_fee == D("6.00")
    before.refresh_from_db()
    assert before.fee_plan.version == 1
    assert before.wasla_fee == D("1.00")
    assert before.fee_breakdown["percentage"] == "0"


def test_the_next_version_copies_the_terms_and_leaves_the_used_one_alone(tenant):
    """What staff's "create the next version" does: a new numbered row, the old one untouched."""
    used = FeePlan.objects.get(code="standard", version=1)
    settlement = settlement_of(cod_paid(tenant, "50.00"))
    later = timezone.now() + timedelta(days=1)
    nxt = fee_plan_version_next(plan=used, effective_from=later)

    assert (nxt.code, nxt.version, nxt.effective_from, nxt.in_use) == ("standard", 2, later, False)
    assert (nxt.fixed_fee, nxt.percentage, nxt.currency) == (D("1.00"), D(0), "SAR")
    used.refresh_from_db()
    assert used.version == 1
    assert used.in_use
    assert fee_plan_version_next(plan=used, effective_from=later).version == 3  # after the latest
    settlement.refresh_from_db()
    assert settlement.fee_plan_id == used.pk


def test_a_version_effective_later_is_not_used_before_its_time(tenant):
    now = timezone.now()
    new_version(fixed_fee=D("9.00"), effective_from=now + timedelta(days=1))
    assert settled_at(tenant, now).wasla_fee == D("1.00")
    assert settled_at(tenant, now + timedelta(days=2)).wasla_fee == D("9.00")


def test_the_plan_in_force_at_payment_time_wins_not_the_latest_version_number(tenant):
    # v2 was created later but takes effect earlier than v3's start: both are honoured by time.
    t0 = timezone.now()
    new_version(fixed_fee=D("3.00"), effective_from=t0 + timedelta(days=10))  # v2
    new_version(fixed_fee=D("2.00"), effective_from=t0 + timedelta(days=5))  # v3
    assert settled_at(tenant, t0 + timedelta(days=6)).wasla_fee == D("2.00")
    assert settled_at(tenant, t0 + timedelta(days=11)).wasla_fee == D("3.00")


def test_a_tenant_assignment_picks_its_plan_and_overrides_apply(tenant, other_tenant):
    now = timezone.now()
    new_version("growth", fixed_fee=D("0.50"), percentage=D("1.5"), effective_from=now)
    FeePlanAssignment.objects.create(
        tenant=tenant, plan_code="growth", effective_from=now, maximum_fee_override=D("10.00")
    )
    later = now + timedelta(minutes=1)
    small = settled_at(tenant, later, "100.00")
    big = settled_at(tenant, later, "1000.00")
    others = settled_at(other_tenant, later, "1000.00")

    assert small.wasla_fee == D("2.00")  # 0.50 + 1.5 % of 100
    assert big.wasla_fee == D("10.00")  # 15.50, capped by the tenant's override
    assert big.fee_breakdown["override_used"] is True
    assert big.fee_breakdown["overrides"] == ["maximum_fee"]
    assert big.fee_breakdown["maximum_applied"] is True
    assert big.fee_plan_assignment is not None
    assert big.fee_plan.code == "growth"
    assert others.wasla_fee == D("1.00")
    assert others.fee_plan_assignment is None


def test_an_override_of_the_standard_plan_and_a_later_assignment(tenant):
    now = timezone.now()
    FeePlanAssignment.objects.create(
        tenant=tenant, plan_code="standard", effective_from=now, fixed_fee_override=D("0.75")
    )
    FeePlanAssignment.objects.create(
        tenant=tenant,
        plan_code="standard",
        effective_from=now + timedelta(days=30),
        percentage_override=D("1"),
    )
    assert settled_at(tenant, now - timedelta(seconds=1)).wasla_fee == D("1.00")  # before
    assert settled_at(tenant, now + timedelta(days=1)).wasla_fee == D("0.75")
    assert settled_at(tenant, now + timedelta(days=31), "100.00").wasla_fee == D("2.00")


def test_an_assigned_code_not_yet_in_force_falls_back_to_standard(tenant, caplog):
    now = timezone.now()
    new_version("later", fixed_fee=D("5.00"), effective_from=now + timedelta(days=3))
    FeePlanAssignment.objects.create(tenant=tenant, plan_code="later", effective_from=now)
    resolved = fee_plan_resolve(tenant_id=tenant.pk, currency="SAR", at=now + timedelta(days=1))
    assert (resolved.code, resolved.fixed_fee) == ("standard", D("1.00"))
    assert "not in force" in caplog.text
    assert fee_plan_resolve(
        tenant_id=tenant.pk, currency="SAR", at=now + timedelta(days=4)
    ).code == ("later")


def test_a_currency_without_any_plan_is_a_configuration_error_not_a_guess(tenant):
    with pytest.raises(FeePlanNotFound):
        fee_plan_resolve(tenant_id=tenant.pk, currency="KWD", at=timezone.now())
    new_version("standard", currency="KWD", fixed_fee=D("0.100"), percentage=D("1.25"))
    settlement = settled_at(tenant, timezone.now(), "12.345", currency="KWD")
    assert settlement.wasla_fee == D("0.254")
    assert settlement.fee_breakdown["fee"] == "0.254"


def test_the_plan_lookup_is_one_statement_whatever_the_history(tenant, django_assert_num_queries):
    now = timezone.now()
    for day in range(5):
        new_version(fixed_fee=D("1.00"), effective_from=now - timedelta(days=day))
        FeePlanAssignment.objects.create(
            tenant=tenant, plan_code="standard", effective_from=now - timedelta(days=day)
        )
    with django_assert_num_queries(1):
        resolved = fee_plan_resolve(tenant_id=tenant.pk, currency="SAR", at=now)
    assert resolved.assignment_id == FeePlanAssignment.objects.latest("effective_from").pk


# ---- refund policies, through the real refund service (COD cash refunds) ----------------------


def refund_cash(attempt, amount: str | None, receipt: str):
    return refund_record_cash(
        tenant=attempt.tenant,
        attempt_id=attempt.id,
        amount=None if amount is None else D(amount),
        reason="returned",
        receipt=receipt,
    )


def adjustments(settlement: SettlementRecord) -> list[tuple[str, Decimal]]:
    return list(settlement.adjustments.order_by("id").values_list("kind", "fee_delta"))


def test_default_policy_partial_keeps_fixed_gives_back_percentage_full_reverses(tenant):
    new_version(fixed_fee=D("1.00"), percentage=D("2.5"))
    attempt = cod_paid(tenant, "200.00")
    settlement = settlement_of(attempt)
    assert settlement.wasla_fee == D("6.00")

    refund_cash(attempt, "50.00", "R-1")
    settlement.refresh_from_db()
    assert settlement.status == "pending"
    assert adjustments(settlement) == [("fee_reduction", D("-1.25"))]

    refund_cash(attempt, None, "R-2")  # the rest: a full refund
    settlement.refresh_from_db()
    assert settlement.status == "reversed"
    assert settlement.wasla_fee == D("6.00")  # history unchanged; the reversal is a row
    assert adjustments(settlement) == [("fee_reduction", D("-1.25")), ("reversal", D("-4.75"))]


def test_keep_fee_policy_records_every_refund_and_keeps_the_fee(tenant):
    new_version(percentage=D("2"), fixed_fee=D("1.00"), refund_policy=RefundPolicy.KEEP_FEE)
    attempt = cod_paid(tenant, "100.00")
    refund_cash(attempt, "40.00", "R-1")
    refund_cash(attempt, None, "R-2")
    settlement = settlement_of(attempt)
    assert settlement.status == "pending"  # still billed
    assert adjustments(settlement) == [("fee_kept", D("0.00")), ("fee_kept", D("0.00"))]


def test_proportional_policy_follows_the_money(tenant):
    new_version(fixed_fee=D("3.00"), refund_policy=RefundPolicy.PROPORTIONAL)
    attempt = cod_paid(tenant, "90.00")
    refund_cash(attempt, "30.00", "R-1")
    refund_cash(attempt, None, "R-2")
    settlement = settlement_of(attempt)
    assert settlement.status == "reversed"
    assert adjustments(settlement) == [("fee_reduction", D("-1.00")), ("reversal", D("-2.00"))]


def test_a_plan_change_after_the_payment_never_changes_how_its_refunds_are_treated(tenant):
    new_version(fixed_fee=D("1.00"), percentage=D("2.5"), refund_policy=RefundPolicy.KEEP_FEE)
    attempt = cod_paid(tenant, "200.00")
    new_version(fixed_fee=D("9.00"), refund_policy=RefundPolicy.PERCENTAGE_BACK)
    refund_cash(attempt, None, "R-1")
    settlement = settlement_of(attempt)
    assert settlement.fee_breakdown["refund_policy"] == "keep_fee"
    assert (settlement.status, settlement.wasla_fee) == ("pending", D("6.00"))
    assert adjustments(settlement) == [("fee_kept", D("0.00"))]


def test_a_refund_after_invoicing_becomes_a_credit_note_due(tenant):
    new_version(fixed_fee=D("1.00"), percentage=D("2.5"))
    attempt = cod_paid(tenant, "200.00")
    SettlementRecord.objects.filter(payment_attempt=attempt).update(status="invoiced")
    refund_cash(attempt, "50.00", "R-1")
    refund_cash(attempt, None, "R-2")
    settlement = settlement_of(attempt)
    assert settlement.status == "invoiced"
    assert adjustments(settlement) == [
        ("credit_note_due", D("-1.25")),
        ("credit_note_due", D("-4.75")),
    ]


def test_default_plan_effective_since_2000():
    plan = FeePlan.objects.get(code="standard", version=1)
    assert plan.effective_from == datetime(2000, 1, 1, tzinfo=UTC)


def test_the_sql_and_the_orm_lookups_agree(tenant):
    """PostgreSQL reads the plan in force with plain SQL, SQLite (the demo) through the ORM:
    both forms, run here on PostgreSQL, pick the same version, assignment and overrides."""
    from wasla.settlement.selectors import _plan_in_force_orm, _plan_in_force_sql

    now = timezone.now()
    new_version("gold", fixed_fee=D("0.50"), effective_from=now - timedelta(days=10))
    new_version("later", fixed_fee=D("5.00"), effective_from=now + timedelta(days=3))
    FeePlanAssignment.objects.create(
        tenant=tenant,
        plan_code="gold",
        effective_from=now - timedelta(days=5),
        percentage_override=D("1.5"),
        maximum_fee_override=D("9.000"),
    )
    FeePlanAssignment.objects.create(tenant=tenant, plan_code="later", effective_from=now)
    fields = ["pk", "code", "version", "assigned_code", "assigned_pk", "tenant_slug"]
    fields += [f"assigned_{name}" for name in ("fixed_fee", "percentage", "maximum_fee")]
    seen = set()
    for at in (now - timedelta(days=20), now - timedelta(days=1), now, now + timedelta(days=4)):
        for currency in ("SAR", "KWD"):
            kwargs = {"tenant_id": tenant.pk, "currency": currency, "at": at}
            by_sql, by_orm = _plan_in_force_sql(**kwargs), _plan_in_force_orm(**kwargs)
            if by_sql is None:
                assert by_orm is None
                continue
            row = [getattr(by_sql, name) for name in fields]
            assert row == [getattr(by_orm, name) for name in fields]
            seen.add(tuple(row[1:4]))
    # standard before any assignment, gold with its overrides, standard for "later" before it
    # takes effect, then "later"
    assert {code for code, _, _ in seen} == {"standard", "gold", "later"}
