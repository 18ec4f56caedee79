"""The posting engine: balanced lines, idempotency keys, running balances, the hash chain, and
the fixed number of statements a posting takes. (The fee postings are tested with the
settlement app that makes them: wasla/settlement/tests/test_postings.py.)"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from testsupport.factories import make_tenant
from testsupport.payments import balance, paid_payment
from wasla.ledger.accounts import AccountRole, account_component
from wasla.ledger.models import FinancialLedgerEntry, LedgerAccount, LedgerTransaction
from wasla.ledger.services import (
    IdempotencyConflict,
    LedgerError,
    PostingLine,
    ledger_post,
)
from wasla.ledger.verify import ledger_faults
from wasla.settlement.models import SettlementRecord
from wasla.settlement.postings import settlement_post_fee

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


def test_lines_on_one_account_each_get_their_own_running_balance(tenant):
    """One posting may touch an account twice: each entry's `balance_after` is the balance after
    that line, in line order (PostgreSQL writes them in one statement from the balance after the
    whole posting, less what the later lines add)."""
    _post(tenant, "a", "1.00")  # Unbilled 1.00
    unbilled = AccountRole.UNBILLED.code_for(tenant.slug)
    ledger_post(
        tenant_id=tenant.pk,
        entry_type=LedgerTransaction.EntryType.ADJUSTMENT,
        reference_id="ref",
        idempotency_key="twice",
        lines=[
            PostingLine.dr(AccountRole.UNBILLED, tenant.slug, Decimal("2.00"), "SAR"),
            PostingLine.cr(AccountRole.FEE_INCOME, tenant.slug, Decimal("1.50"), "SAR"),
            PostingLine.cr(AccountRole.UNBILLED, tenant.slug, Decimal("0.50"), "SAR"),
        ],
    )
    chain = FinancialLedgerEntry.objects.filter(account__code=unbilled).order_by("id")
    assert [(e.debit, e.credit, e.balance_after) for e in chain] == [
        (Decimal("1.00"), Decimal("0.00"), Decimal("1.00")),
        (Decimal("2.00"), Decimal("0.00"), Decimal("3.00")),
        (Decimal("0.00"), Decimal("0.50"), Decimal("2.50")),
    ]
    assert balance(tenant, AccountRole.UNBILLED) == Decimal("2.50")
    assert balance(tenant, AccountRole.FEE_INCOME) == Decimal("2.50")
    assert list(ledger_faults()) == []


def test_an_account_posted_under_another_type_is_refused_and_nothing_moves(tenant):
    _post(tenant, "a", "1.00")
    income = AccountRole.FEE_INCOME.code_for(tenant.slug)
    wrong = PostingLine(income, LedgerAccount.Type.ASSET, "SAR", debit=Decimal("5.00"))
    with pytest.raises(LedgerError, match="not asset"), transaction.atomic():
        ledger_post(
            tenant_id=tenant.pk,
            entry_type=LedgerTransaction.EntryType.ADJUSTMENT,
            reference_id="ref",
            idempotency_key="wrong-type",
            lines=[
                wrong,
                PostingLine.cr(AccountRole.UNBILLED, tenant.slug, Decimal("5.00"), "SAR"),
            ],
        )
    assert balance(tenant, AccountRole.FEE_INCOME) == Decimal("1.00")
    assert balance(tenant, AccountRole.UNBILLED) == Decimal("1.00")
    assert LedgerTransaction.objects.filter(tenant=tenant).count() == 1
    assert list(ledger_faults()) == []


def _invoice_issue(tenant, invoice_id: int, fees: str, vat: str) -> LedgerTransaction:
    """What issuing an invoice posts: Dr Receivable (fees + VAT) / Cr Unbilled / Cr VAT."""
    fees_, vat_, slug = Decimal(fees), Decimal(vat), tenant.slug
    return ledger_post(
        tenant_id=tenant.pk,
        entry_type=LedgerTransaction.EntryType.INVOICE,
        reference_id=f"invoice:{invoice_id}",
        idempotency_key=f"invoice-issue:{invoice_id}",
        lines=[
            PostingLine.dr(AccountRole.RECEIVABLE, slug, fees_ + vat_, "SAR"),
            PostingLine.cr(AccountRole.UNBILLED, slug, fees_, "SAR"),
            PostingLine.cr(AccountRole.VAT_OUTPUT, slug, vat_, "SAR"),
        ],
    )


def _credit_note(tenant, credit_note_id: int, fees: str, vat: str) -> LedgerTransaction:
    """What a credit note posts: Dr Income (fees) + Dr VAT / Cr Receivable (fees + VAT)."""
    fees_, vat_, slug = Decimal(fees), Decimal(vat), tenant.slug
    return ledger_post(
        tenant_id=tenant.pk,
        entry_type=LedgerTransaction.EntryType.REFUND,
        reference_id=f"credit-note:{credit_note_id}",
        idempotency_key=f"credit-note:{credit_note_id}",
        lines=[
            PostingLine.dr(AccountRole.FEE_INCOME, slug, fees_, "SAR"),
            PostingLine.dr(AccountRole.VAT_OUTPUT, slug, vat_, "SAR"),
            PostingLine.cr(AccountRole.RECEIVABLE, slug, fees_ + vat_, "SAR"),
        ],
    )


def _invoice_payment(tenant, invoice_id: int, amount: str, into: AccountRole) -> LedgerTransaction:
    """What an invoice payment posts: Dr Bank or StripeClearing / Cr Receivable."""
    return ledger_post(
        tenant_id=tenant.pk,
        entry_type=LedgerTransaction.EntryType.PAYMENT,
        reference_id=f"invoice:{invoice_id}",
        idempotency_key=f"invoice-payment:{invoice_id}",
        lines=[
            PostingLine.dr(into, tenant.slug, Decimal(amount), "SAR"),
            PostingLine.cr(AccountRole.RECEIVABLE, tenant.slug, Decimal(amount), "SAR"),
        ],
    )


def test_invoice_issue_payment_and_credit_note(tenant):
    """Three-line postings across asset, liability and income accounts (the lines invoicing
    posts), each account on its normal side."""
    for _ in range(3):
        paid_payment(tenant)
    issued = _invoice_issue(tenant, 7, fees="3.00", vat="0.45")
    assert issued.entry_type == "invoice"
    assert balance(tenant, AccountRole.UNBILLED) == 0
    assert balance(tenant, AccountRole.RECEIVABLE) == Decimal("3.45")
    assert balance(tenant, AccountRole.VAT_OUTPUT) == Decimal("0.45")

    credit = _credit_note(tenant, 1, fees="1.00", vat="0.15")
    assert credit.entry_type == "refund"
    assert balance(tenant, AccountRole.FEE_INCOME) == Decimal("2.00")
    assert balance(tenant, AccountRole.VAT_OUTPUT) == Decimal("0.30")
    assert balance(tenant, AccountRole.RECEIVABLE) == Decimal("2.30")

    paid = _invoice_payment(tenant, 7, "2.30", AccountRole.STRIPE_CLEARING)
    assert paid.entry_type == "payment"
    assert balance(tenant, AccountRole.RECEIVABLE) == 0
    assert balance(tenant, AccountRole.STRIPE_CLEARING) == Decimal("2.30")
    assert balance(tenant, AccountRole.BANK) == 0
    other = make_tenant()
    _invoice_payment(other, 8, "5.00", AccountRole.BANK)
    assert balance(other, AccountRole.BANK) == Decimal("5.00")
    assert list(ledger_faults()) == []


# settlement_post_fee (the settlement app's fee posting, through ledger_post) for one settlement,
# inside the confirmation's transaction (a savepoint-free join of the caller's atomic block):
#   1  SELECT the tenant's slug (account codes are named after it; the confirmation passes the
#      slug its fee-plan SELECT brought, so there it is not a statement of its own)
#   2  SELECT pg_advisory_xact_lock(LEDG, tenant): the tenant's hash-chain lock
#   3  SELECT the transaction with this idempotency key (none) and the tenant's last one (the
#      chain head), both by index, in a statement that starts once the lock is held
#   4  WITH the two accounts INSERTed … ON CONFLICT DO UPDATE their balance (created by the
#      first posting, row-locked by the upsert), the transaction INSERTed, its two entries
#      INSERTed: one statement
FEE_POSTING_STATEMENTS = 4


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
        settlement_post_fee(settlement=settlement)
    statements = "\n".join(q["sql"][:140] for q in ctx.captured_queries)
    assert len(ctx) == FEE_POSTING_STATEMENTS, statements
    assert LedgerTransaction.objects.filter(tenant=tenant).count() == past + 1
    assert balance(tenant, AccountRole.FEE_INCOME) == Decimal(past + 1)
