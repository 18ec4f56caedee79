"""The settlement app's fee postings, through the ledger's posting engine: one fee posting per
paid payment, nothing for a zero fee, reductions and reversals for refunds before invoicing."""

from __future__ import annotations

from decimal import Decimal

import pytest

from testsupport.factories import make_refund
from testsupport.payments import balance, paid_payment, refunded
from wasla.ledger.accounts import AccountRole
from wasla.ledger.models import LedgerTransaction
from wasla.ledger.verify import ledger_faults
from wasla.settlement.models import SettlementAdjustment
from wasla.settlement.postings import (
    settlement_post_fee,
    settlement_post_fee_reduction,
    settlement_post_fee_reversal,
)

pytestmark = pytest.mark.django_db


def test_a_paid_payment_books_its_fee_once(tenant):
    attempt = paid_payment(tenant)
    tx = LedgerTransaction.objects.get(tenant=tenant)
    assert (tx.entry_type, tx.reference_id) == ("fee", f"settlement:{attempt.settlement.pk}")
    entries = {(e.account.code, e.debit, e.credit) for e in tx.entries.select_related("account")}
    slug = tenant.slug
    assert entries == {
        (AccountRole.UNBILLED.code_for(slug), Decimal("1.00"), Decimal(0)),
        (AccountRole.FEE_INCOME.code_for(slug), Decimal(0), Decimal("1.00")),
    }
    assert settlement_post_fee(settlement=attempt.settlement) == tx  # replay: the same posting
    assert LedgerTransaction.objects.filter(tenant=tenant).count() == 1


def test_a_zero_fee_books_nothing(tenant):
    from datetime import UTC, datetime

    from wasla.settlement.models import FeePlanAssignment

    FeePlanAssignment.objects.create(
        tenant=tenant,
        plan_code="standard",
        effective_from=datetime(2000, 1, 1, tzinfo=UTC),
        fixed_fee_override=Decimal(0),
    )
    attempt = paid_payment(tenant)
    assert attempt.settlement.wasla_fee == 0
    assert not LedgerTransaction.objects.exists()


def test_a_full_refund_before_invoicing_reverses_the_fee(tenant):
    attempt = paid_payment(tenant)
    refunded(attempt, "100.00")
    fee = LedgerTransaction.objects.get(tenant=tenant, entry_type="fee")
    reversal = LedgerTransaction.objects.get(tenant=tenant, entry_type="reversal")
    assert reversal.reverses == fee
    original = {(e.account_id, e.debit, e.credit) for e in fee.entries.all()}
    mirrored = {(e.account_id, e.credit, e.debit) for e in reversal.entries.all()}
    assert original == mirrored
    assert balance(tenant, AccountRole.FEE_INCOME) == 0
    assert balance(tenant, AccountRole.UNBILLED) == 0
    assert settlement_post_fee_reversal(settlement=attempt.settlement) == []  # nothing left
    assert list(ledger_faults()) == []


def test_a_partial_refund_of_a_fixed_fee_books_nothing(tenant):
    attempt = paid_payment(tenant)
    refunded(attempt, "30.00")
    assert SettlementAdjustment.objects.get().fee_delta == 0
    assert LedgerTransaction.objects.filter(tenant=tenant).count() == 1


def _percentage_adjustment(tenant, refund_amount: str, fee_delta: str) -> SettlementAdjustment:
    """A fee reduction as a percentage plan records it (fee plans live in the settlement app)."""
    attempt = paid_payment(tenant)
    refund = refunded(attempt, refund_amount)
    adjustment = SettlementAdjustment.objects.get(refund=refund)
    return SettlementAdjustment.objects.create(
        tenant=tenant,
        settlement=adjustment.settlement,
        refund=_another_refund(attempt, refund_amount),
        kind=SettlementAdjustment.Kind.FEE_REDUCTION,
        refund_amount=Decimal(refund_amount),
        fee_delta=Decimal(fee_delta),
    )


def _another_refund(attempt, amount: str):
    return make_refund(attempt, amount, provider="tap", currency="SAR", status="succeeded")


def test_a_fee_reduction_moves_income_back_to_unbilled(tenant):
    adjustment = _percentage_adjustment(tenant, "20.00", "-0.50")  # 2.5 % of 20.00
    tx = settlement_post_fee_reduction(adjustment=adjustment)
    assert tx is not None
    assert tx.entry_type == "adjustment"
    assert tx.reference_id == f"settlement:{adjustment.settlement_id}"
    assert balance(tenant, AccountRole.FEE_INCOME) == Decimal("0.50")
    assert balance(tenant, AccountRole.UNBILLED) == Decimal("0.50")
    assert settlement_post_fee_reduction(adjustment=adjustment) == tx
    # A full refund afterwards undoes the fee and the reduction: income from it ends at zero.
    reversals = settlement_post_fee_reversal(settlement=adjustment.settlement)
    assert [r.reverses.entry_type for r in reversals] == ["fee", "adjustment"]
    assert balance(tenant, AccountRole.FEE_INCOME) == 0
    assert balance(tenant, AccountRole.UNBILLED) == 0
    assert list(ledger_faults()) == []
