"""The database itself freezes used fee plan versions and invoiced settlements: raw SQL that
bypasses the ORM must fail (and pending settlements, unused versions stay editable); a billed
settlement's status only moves forwards, `invoiced` → `paid`."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from testsupport.factories import make_tenant
from testsupport.payments import settled_at
from wasla.settlement.models import FeePlan, FeePlanAssignment, SettlementRecord

pytestmark = pytest.mark.django_db


def raw(sql: str, params: list[object] | None = None) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])
        return cursor.rowcount


def refused(sql: str, params: list[object] | None = None) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        raw(sql, params)


def test_an_unused_plan_version_can_be_edited_a_used_one_never():
    plan = FeePlan.objects.create(
        code="draft",
        name="Draft",
        version=1,
        fixed_fee=Decimal("2.00"),
        effective_from=timezone.now(),
    )
    assert raw("UPDATE settlement_feeplan SET fixed_fee = 3.00 WHERE id = %s", [plan.pk]) == 1

    used = FeePlan.objects.get(code="standard", version=1)
    settled_at(make_tenant(), timezone.now())
    used.refresh_from_db()
    assert used.in_use
    for sql in (
        "UPDATE settlement_feeplan SET fixed_fee = 2.00 WHERE id = %s",
        "UPDATE settlement_feeplan SET percentage = 1 WHERE id = %s",
        "UPDATE settlement_feeplan SET refund_policy = 'keep_fee' WHERE id = %s",
        "UPDATE settlement_feeplan SET effective_from = now() WHERE id = %s",
        "UPDATE settlement_feeplan SET in_use = false WHERE id = %s",
        "DELETE FROM settlement_feeplan WHERE id = %s",
    ):
        refused(sql, [used.pk])
    assert FeePlan.objects.get(pk=used.pk).fixed_fee == Decimal("1.00")


def test_a_used_assignment_is_frozen_too(tenant):
    assignment = FeePlanAssignment.objects.create(
        tenant=tenant,
        plan_code="standard",
        effective_from=timezone.now(),
        fixed_fee_override=Decimal("0.50"),
    )
    settled_at(tenant, timezone.now())
    refused(
        "UPDATE settlement_feeplanassignment SET fixed_fee_override = 0.10 WHERE id = %s",
        [assignment.pk],
    )
    refused("DELETE FROM settlement_feeplanassignment WHERE id = %s", [assignment.pk])


def test_plan_versions_are_unique_per_code_and_sane():
    refused(
        "INSERT INTO settlement_feeplan (code, name, version, currency, fixed_fee, percentage,"
        " vat_rate, refund_policy, effective_from, in_use, created_at)"
        " VALUES ('standard', 'Dup', 1, 'SAR', 1, 0, 15, 'percentage_back', now(), false, now())"
    )
    refused(
        "INSERT INTO settlement_feeplan (code, name, version, currency, fixed_fee, percentage,"
        " vat_rate, minimum_fee, maximum_fee, refund_policy, effective_from, in_use, created_at)"
        " VALUES ('x', 'X', 1, 'SAR', 1, 0, 15, 5, 4, 'percentage_back', now(), false, now())"
    )


FROZEN_COLUMNS = [
    "gross_amount = gross_amount + 1, net_amount = net_amount + 1",
    "wasla_fee = wasla_fee + 0.5, net_amount = net_amount - 0.5",
    "currency = 'USD'",
    "fee_breakdown = '{}'::jsonb",
    "fee_plan_id = NULL",
    "payment_paid_at = payment_paid_at + interval '1 month'",
]


@pytest.mark.parametrize("status", ["invoiced", "paid"])
@pytest.mark.parametrize("change", FROZEN_COLUMNS)
def test_an_invoiced_or_paid_settlement_keeps_its_amounts(tenant, status, change):
    settlement = settled_at(tenant, timezone.now())
    raw("UPDATE settlement_settlementrecord SET status = %s WHERE id = %s", [status, settlement.pk])
    refused(f"UPDATE settlement_settlementrecord SET {change} WHERE id = %s", [settlement.pk])
    assert SettlementRecord.objects.get(pk=settlement.pk).wasla_fee == Decimal("1.00")


@pytest.mark.parametrize("status", ["invoiced", "paid"])
def test_an_invoiced_settlement_cannot_move_to_another_order_attempt_or_be_deleted(tenant, status):
    first = settled_at(tenant, timezone.now())
    other = settled_at(tenant, timezone.now())
    raw("UPDATE settlement_settlementrecord SET status = %s WHERE id = %s", [status, first.pk])
    raw("DELETE FROM settlement_settlementrecord WHERE id = %s", [other.pk])  # pending: allowed
    refused(
        "UPDATE settlement_settlementrecord SET order_id = %s WHERE id = %s",
        [other.order_id, first.pk],
    )
    refused(
        "UPDATE settlement_settlementrecord SET payment_attempt_id = %s WHERE id = %s",
        [other.payment_attempt_id, first.pk],
    )
    refused("DELETE FROM settlement_settlementrecord WHERE id = %s", [first.pk])


def test_status_still_moves_and_pending_amounts_are_not_frozen(tenant):
    settlement = settled_at(tenant, timezone.now())
    # Pending: the net CHECK still applies, but the freeze does not.
    assert (
        raw(
            "UPDATE settlement_settlementrecord SET wasla_fee = 2.00, net_amount = 98.00"
            " WHERE id = %s",
            [settlement.pk],
        )
        == 1
    )
    for status in ("invoiced", "paid"):
        assert (
            raw(
                "UPDATE settlement_settlementrecord SET status = %s, updated_at = now()"
                " WHERE id = %s",
                [status, settlement.pk],
            )
            == 1
        )
    assert SettlementRecord.objects.get(pk=settlement.pk).status == "paid"


def test_one_settlement_per_order_and_per_attempt_still_holds(tenant):
    first = settled_at(tenant, timezone.now())
    second = settled_at(tenant, timezone.now())
    refused(
        "UPDATE settlement_settlementrecord SET order_id = %s WHERE id = %s",
        [first.order_id, second.pk],
    )
    refused(
        "UPDATE settlement_settlementrecord SET payment_attempt_id = %s WHERE id = %s",
        [first.payment_attempt_id, second.pk],
    )


def test_a_billed_settlement_only_moves_from_invoiced_to_paid(tenant):
    settlement = settled_at(tenant, timezone.now())
    move = "UPDATE settlement_settlementrecord SET status = %s WHERE id = %s"
    assert raw(move, ["invoiced", settlement.pk]) == 1
    for backwards in ("pending", "reversed"):
        refused(move, [backwards, settlement.pk])
    assert raw(move, ["paid", settlement.pk]) == 1
    for backwards in ("invoiced", "pending", "reversed"):
        refused(move, [backwards, settlement.pk])
    assert SettlementRecord.objects.get(pk=settlement.pk).status == "paid"
