"""The posting engine and the business postings of SPEC §3."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from conftest import make_tenant
from wasla.ledger.accounts import AccountRole, account_component
from wasla.ledger.models import FinancialLedgerEntry, LedgerAccount, LedgerTransaction
from wasla.ledger.services import (
    IdempotencyConflict,
    LedgerError,
    PostingLine,
    ledger_post,
    ledger_post_credit_note,
    ledger_post_fee,
    ledger_post_fee_reduction,
    ledger_post_fee_reversal,
    ledger_post_invoice_issue,
    ledger_post_invoice_payment,
)
from wasla.ledger.verify import ledger_faults
from wasla.settlement.models import SettlementAdjustment, SettlementRecord

from .factories import balance, paid_payment, refunded

pytestmark = pytest.mark.django_db

FEE = LedgerTransaction.EntryType.FEE


def _lines(slug: str, amount: str = "1.00") -> list[PostingLine]:
    return [
        PostingLine.dr(AccountRole.UNBILLED, slug, Decimal(amount), "SAR"),
        PostingLine.cr(AccountRole.FEE_INCOME, slug, Decimal(amount), "SAR"),
    ]


def _post(tenant, key: str = "k", amount: str = "1.00", reference: str = "ref"):
    return ledger_post(
        tenant_id=tenant.pk,
        entry_type=FEE,
        reference_id=reference,
        idempotency_key=key,
        lines=_lines(tenant.slug, amount),
    )


@pytest.mark.parametrize(
    ("slug", "component"),
    [("acme", "Acme"), ("t-9f3a", "T-9f3a"), ("7eleven", "7eleven"), ("a-b-c", "A-b-c")],
)
def test_plain_slugs_become_readable_components(slug, component):
    assert account_component(slug) == component
    assert AccountRole.FEE_INCOME.code_for(slug) == f"Income:Fees:{component}"


def test_other_slugs_become_distinct_valid_components():
    import re

    slugs = ["Acme", "acme", "ac_me", "ac-me", "_acme", "-acme", "AC-ME", "ac__me"]
    components = [account_component(slug) for slug in slugs]
    assert len(set(components)) == len(slugs)
    for component in components:
        assert re.fullmatch(r"[A-Z0-9][A-Za-z0-9-]*", component), component


def test_replaying_a_key_with_the_same_content_creates_nothing(tenant):
    first = _post(tenant)
    counts = (LedgerTransaction.objects.count(), FinancialLedgerEntry.objects.count())
    with CaptureQueriesContext(connection) as ctx:
        again = _post(tenant)
    assert again == first
    assert (LedgerTransaction.objects.count(), FinancialLedgerEntry.objects.count()) == counts
    assert not [q for q in ctx.captured_queries if q["sql"].startswith(("INSERT", "UPDATE"))]
    assert balance(tenant, AccountRole.FEE_INCOME) == Decimal("1.00")


@pytest.mark.parametrize("change", [{"amount": "2.00"}, {"reference": "other"}, {"amount": "1.01"}])
def test_replaying_a_key_with_other_content_is_an_error(tenant, change):
    _post(tenant)
    with pytest.raises(IdempotencyConflict, match="different content"):
        _post(tenant, **change)
    assert LedgerTransaction.objects.filter(tenant=tenant).count() == 1
    assert balance(tenant, AccountRole.FEE_INCOME) == Decimal("1.00")


def test_keys_are_per_tenant(tenant, other_tenant):
    _post(tenant)
    _post(other_tenant)
    assert LedgerTransaction.objects.filter(idempotency_key="k").count() == 2
    assert [t.sequence for t in LedgerTransaction.objects.order_by("id")] == [1, 1]


@pytest.mark.parametrize(
    "lines",
    [
        [("dr", "1.00")],
        [("dr", "1.00"), ("cr", "0.99")],
        [("dr", "1.00"), ("dr", "1.00")],
    ],
)
def test_an_unbalanced_posting_is_refused_before_the_database(tenant, lines):
    built = [
        (PostingLine.dr if side == "dr" else PostingLine.cr)(
            AccountRole.UNBILLED, tenant.slug, Decimal(amount), "SAR"
        )
        for side, amount in lines
    ]
    with pytest.raises(LedgerError):
        ledger_post(
            tenant_id=tenant.pk, entry_type=FEE, reference_id="r", idempotency_key="x", lines=built
        )
    assert not LedgerTransaction.objects.exists()


@pytest.mark.parametrize(
    ("debit", "credit", "currency"),
    [
        ("0", "0", "SAR"),
        ("1", "1", "SAR"),
        ("-1", "0", "SAR"),
        ("1.001", "0", "SAR"),
        ("1", "0", "XXX"),
    ],
)
def test_a_malformed_line_is_refused(debit, credit, currency):
    with pytest.raises(LedgerError):
        PostingLine("Assets:X", LedgerAccount.Type.ASSET, currency, Decimal(debit), Decimal(credit))


def test_balance_after_is_normal_side_running_balance(tenant):
    _post(tenant, "a", "1.00")
    _post(tenant, "b", "2.50")
    ledger_post(
        tenant_id=tenant.pk,
        entry_type=LedgerTransaction.EntryType.ADJUSTMENT,
        reference_id="ref",
        idempotency_key="c",
        lines=[
            PostingLine.dr(AccountRole.FEE_INCOME, tenant.slug, Decimal("0.50"), "SAR"),
            PostingLine.cr(AccountRole.UNBILLED, tenant.slug, Decimal("0.50"), "SAR"),
        ],
    )
    income = AccountRole.FEE_INCOME.code_for(tenant.slug)
    chain = FinancialLedgerEntry.objects.filter(account__code=income).order_by("id")
    assert [e.balance_after for e in chain] == [Decimal("1.00"), Decimal("3.50"), Decimal("3.00")]
    assert balance(tenant, AccountRole.UNBILLED) == Decimal("3.00")
    txs = LedgerTransaction.objects.filter(tenant=tenant).order_by("sequence")
    assert [t.sequence for t in txs] == [1, 2, 3]
    assert [t.previous_hash for t in txs] == ["", txs[0].hash, txs[1].hash]
    assert list(ledger_faults()) == []


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
    assert ledger_post_fee(settlement=attempt.settlement) == tx  # replay: the same posting
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
    assert ledger_post_fee_reversal(settlement=attempt.settlement) == []  # nothing left
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
    from wasla.payments.models import RefundRecord

    return RefundRecord.objects.create(
        tenant_id=attempt.tenant_id,
        payment_attempt=attempt,
        provider="tap",
        amount=Decimal(amount),
        currency="SAR",
        idempotency_key=uuid.uuid4().hex,
        status="succeeded",
    )


def test_a_fee_reduction_moves_income_back_to_unbilled(tenant):
    adjustment = _percentage_adjustment(tenant, "20.00", "-0.50")  # 2.5 % of 20.00
    tx = ledger_post_fee_reduction(adjustment=adjustment)
    assert tx is not None and tx.entry_type == "adjustment"
    assert tx.reference_id == f"settlement:{adjustment.settlement_id}"
    assert balance(tenant, AccountRole.FEE_INCOME) == Decimal("0.50")
    assert balance(tenant, AccountRole.UNBILLED) == Decimal("0.50")
    assert ledger_post_fee_reduction(adjustment=adjustment) == tx
    # A full refund afterwards undoes the fee and the reduction: income from it ends at zero.
    reversals = ledger_post_fee_reversal(settlement=adjustment.settlement)
    assert [r.reverses.entry_type for r in reversals] == ["fee", "adjustment"]
    assert balance(tenant, AccountRole.FEE_INCOME) == 0
    assert balance(tenant, AccountRole.UNBILLED) == 0
    assert list(ledger_faults()) == []


def test_invoice_issue_payment_and_credit_note(tenant):
    for _ in range(3):
        paid_payment(tenant)
    issued = ledger_post_invoice_issue(
        tenant_id=tenant.pk, invoice_id=7, currency="SAR", fees=Decimal("3.00"), vat=Decimal("0.45")
    )
    assert issued.entry_type == "invoice"
    assert balance(tenant, AccountRole.UNBILLED) == 0
    assert balance(tenant, AccountRole.RECEIVABLE) == Decimal("3.45")
    assert balance(tenant, AccountRole.VAT_OUTPUT) == Decimal("0.45")

    credit = ledger_post_credit_note(
        tenant_id=tenant.pk,
        credit_note_id=1,
        currency="SAR",
        fees=Decimal("1.00"),
        vat=Decimal("0.15"),
    )
    assert credit.entry_type == "refund"
    assert balance(tenant, AccountRole.FEE_INCOME) == Decimal("2.00")
    assert balance(tenant, AccountRole.VAT_OUTPUT) == Decimal("0.30")
    assert balance(tenant, AccountRole.RECEIVABLE) == Decimal("2.30")

    paid = ledger_post_invoice_payment(
        tenant_id=tenant.pk, invoice_id=7, currency="SAR", amount=Decimal("2.30"), method="stripe"
    )
    assert paid.entry_type == "payment"
    assert balance(tenant, AccountRole.RECEIVABLE) == 0
    assert balance(tenant, AccountRole.STRIPE_CLEARING) == Decimal("2.30")
    assert balance(tenant, AccountRole.BANK) == 0
    other = make_tenant()
    ledger_post_invoice_payment(
        tenant_id=other.pk, invoice_id=8, currency="SAR", amount=Decimal("5.00"), method="manual"
    )
    assert balance(other, AccountRole.BANK) == Decimal("5.00")
    assert list(ledger_faults()) == []


# ledger_post_fee for one settlement, inside the confirmation's transaction (a savepoint-free
# join of the caller's atomic block):
#   1  SELECT the tenant's slug (account codes are named after it)
#   2  SELECT pg_advisory_xact_lock(LEDG, tenant): the tenant's hash-chain lock
#   3  SELECT the transaction with this idempotency key (none)
#   4  INSERT the two accounts … ON CONFLICT DO NOTHING (first posting creates them)
#   5  SELECT … FOR UPDATE the accounts, ordered by id
#   6  SELECT the tenant's last transaction (sequence, hash): the chain head, by index
#   7  INSERT the transaction
#   8  INSERT the two entries
#   9  UPDATE the two accounts' balances (one statement)
FEE_POSTING_STATEMENTS = 9


@pytest.mark.parametrize("past", [0, 1, 50])
def test_posting_one_fee_takes_a_fixed_number_of_statements(tenant, past):
    for _ in range(past):
        paid_payment(tenant)  # earlier fees of the same tenant, booked by the confirmation
    assert LedgerTransaction.objects.filter(tenant=tenant).count() == past
    # The settlement of the next payment (its fields are all the posting reads).
    settlement = SettlementRecord(
        pk=10**9, tenant_id=tenant.pk, currency="SAR", wasla_fee=Decimal("1.00")
    )
    with transaction.atomic(), CaptureQueriesContext(connection) as ctx:
        ledger_post_fee(settlement=settlement)
    statements = "\n".join(q["sql"][:140] for q in ctx.captured_queries)
    assert len(ctx) == FEE_POSTING_STATEMENTS, statements
    assert LedgerTransaction.objects.filter(tenant=tenant).count() == past + 1
    assert balance(tenant, AccountRole.FEE_INCOME) == Decimal(past + 1)
