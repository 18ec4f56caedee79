"""The ledger is append-only and every transaction balances (docs/invariants.md, invariant 5),
enforced by PostgreSQL: shown with raw SQL that bypasses the ORM and the engine."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction

from testsupport.factories import make_tenant
from testsupport.payments import paid_settlement
from wasla.ledger.models import FinancialLedgerEntry, LedgerAccount, LedgerTransaction
from wasla.ledger.services import ledger_reverse


def _fee_transaction(tenant) -> LedgerTransaction:
    settlement = paid_settlement(tenant)
    return LedgerTransaction.objects.get(tenant=tenant, idempotency_key=f"fee:{settlement.pk}")


def _raw(sql: str, params: list) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE ledger_ledgertransaction SET reference_id = 'forged' WHERE id = %s",
        "UPDATE ledger_ledgertransaction SET hash = '' WHERE id = %s",
        "DELETE FROM ledger_ledgertransaction WHERE id = %s",
        "UPDATE ledger_financialledgerentry SET debit = debit + 1 WHERE transaction_id = %s",
        "UPDATE ledger_financialledgerentry SET balance_after = 0 WHERE transaction_id = %s",
        "DELETE FROM ledger_financialledgerentry WHERE transaction_id = %s",
    ],
)
def test_raw_sql_cannot_update_or_delete_ledger_rows(tenant, sql):
    tx = _fee_transaction(tenant)
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        _raw(sql, [tx.pk])
    assert FinancialLedgerEntry.objects.filter(transaction=tx).count() == 2
    assert LedgerTransaction.objects.get(pk=tx.pk).reference_id == tx.reference_id


@pytest.mark.django_db
def test_the_orm_cannot_delete_ledger_rows_either(tenant):
    tx = _fee_transaction(tenant)
    with pytest.raises(IntegrityError), transaction.atomic():
        FinancialLedgerEntry.objects.filter(transaction=tx).delete()
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerTransaction.objects.filter(pk=tx.pk).update(entry_type="adjustment")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("debit", "credit"),
    [("0", "0"), ("1.00", "1.00"), ("-1.00", "0"), ("0", "-1.00"), ("-1.00", "2.00")],
)
def test_an_entry_has_exactly_one_positive_side(tenant, debit, credit):
    tx = _fee_transaction(tenant)
    account = LedgerAccount.objects.filter(tenant=tenant).first()
    with pytest.raises(IntegrityError, match="one_side_positive"), transaction.atomic():
        _raw(
            "INSERT INTO ledger_financialledgerentry"
            " (tenant_id, transaction_id, account_id, debit, credit, balance_after)"
            " VALUES (%s, %s, %s, %s, %s, 0)",
            [tenant.pk, tx.pk, account.pk, Decimal(debit), Decimal(credit)],
        )


def _insert_transaction(tenant, key: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO ledger_ledgertransaction"
            " (tenant_id, entry_type, reference_id, idempotency_key, fingerprint, sequence,"
            "  previous_hash, hash, created_at)"
            " VALUES (%s, 'fee', 'raw', %s, '', 1000 + (random() * 1e6)::int, '', '', now())"
            " RETURNING id",
            [tenant.pk, key],
        )
        return cursor.fetchone()[0]


def _insert_entry(tenant, tx_id: int, account: LedgerAccount, debit: str, credit: str) -> None:
    _raw(
        "INSERT INTO ledger_financialledgerentry"
        " (tenant_id, transaction_id, account_id, debit, credit, balance_after)"
        " VALUES (%s, %s, %s, %s, %s, 0)",
        [tenant.pk, tx_id, account.pk, Decimal(debit), Decimal(credit)],
    )


def _insert_transaction_with_entries(
    tenant, key: str, entries: list[tuple[LedgerAccount, str, str]]
) -> None:
    """A raw transaction and its entries. Each statement is accepted whatever the entries:
    the balance check is deferred to COMMIT."""
    tx_id = _insert_transaction(tenant, key)
    for account, debit, credit in entries:
        _insert_entry(tenant, tx_id, account, debit, credit)


def _two_accounts(tenant) -> tuple[LedgerAccount, LedgerAccount]:
    make = LedgerAccount.objects.create
    return (
        make(tenant=tenant, code="Assets:Raw", type="asset", currency="SAR"),
        make(tenant=tenant, code="Income:Raw", type="income", currency="SAR"),
    )


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "entries",
    [
        [],  # no entries at all
        [(0, "1.00", "0")],  # one entry
        [(0, "1.00", "0"), (1, "0", "0.99")],  # off by a halala
        [(0, "1.00", "0"), (1, "1.00", "0")],  # two debits
    ],
)
def test_an_unbalanced_transaction_fails_at_commit(entries):
    tenant = make_tenant()
    accounts = _two_accounts(tenant)
    with (
        pytest.raises(IntegrityError, match=r"needs at least two|does not balance"),
        transaction.atomic(),
    ):
        _insert_transaction_with_entries(
            tenant,
            "unbalanced",
            [(accounts[index], debit, credit) for index, debit, credit in entries],
        )
    assert not LedgerTransaction.objects.filter(idempotency_key="unbalanced").exists()


@pytest.mark.django_db(transaction=True)
def test_a_balanced_raw_transaction_commits_and_a_late_entry_cannot_unbalance_it():
    tenant = make_tenant()
    asset, income = _two_accounts(tenant)
    with transaction.atomic():
        tx_id = _insert_transaction(tenant, "balanced")
        _insert_entry(tenant, tx_id, asset, "2.50", "0")
        _insert_entry(tenant, tx_id, income, "0", "2.50")
    assert FinancialLedgerEntry.objects.filter(transaction_id=tx_id).count() == 2
    with pytest.raises(IntegrityError, match="does not balance"), transaction.atomic():
        _insert_entry(tenant, tx_id, asset, "1.00", "0")
    assert FinancialLedgerEntry.objects.filter(transaction_id=tx_id).count() == 2


@pytest.mark.django_db(transaction=True)
def test_a_transaction_cannot_mix_tenants():
    tenant, other = make_tenant(), make_tenant()
    asset, _ = _two_accounts(tenant)
    _, other_income = _two_accounts(other)
    with pytest.raises(IntegrityError, match="mixes tenants"), transaction.atomic():
        _insert_transaction_with_entries(
            tenant, "mixed", [(asset, "1.00", "0"), (other_income, "0", "1.00")]
        )


@pytest.mark.django_db
def test_a_transaction_is_reversed_at_most_once(tenant):
    tx = _fee_transaction(tenant)
    reversal = ledger_reverse(original=tx)
    assert ledger_reverse(original=tx) == reversal  # the engine replays, never reverses twice
    with pytest.raises(IntegrityError, match="reverses"), transaction.atomic():
        _insert_reversal(tenant, tx, "second", sequence=100)


def _insert_reversal(tenant, tx: LedgerTransaction, key: str, sequence: int) -> None:
    _raw(
        "INSERT INTO ledger_ledgertransaction"
        " (tenant_id, entry_type, reference_id, idempotency_key, fingerprint, sequence,"
        "  previous_hash, hash, created_at, reverses_id)"
        " VALUES (%s, 'reversal', 'raw', %s, '', %s, '', '', now(), %s)",
        [tenant.pk, key, sequence, tx.pk],
    )
