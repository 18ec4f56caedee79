"""Checks that the books are what the posting engine and the database promise (invariant 5,
`docs/invariants.md`).

Each fault names the first row where a check breaks; `verify_ledger` prints it and fails.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, F, Q, QuerySet, Sum

from .models import FinancialLedgerEntry, LedgerAccount, LedgerTransaction
from .services import LedgerError, PostingLine, ledger_chain_hash, ledger_fingerprint

ZERO = Decimal(0)


@dataclass(frozen=True)
class LedgerFault:
    check: str
    row: str
    detail: str

    def __str__(self) -> str:
        return f"{self.check}: {self.row}: {self.detail}"


def _scoped(qs: QuerySet, tenant_id: int | None) -> QuerySet:
    return qs if tenant_id is None else qs.filter(tenant_id=tenant_id)


def _unbalanced_transactions(tenant_id: int | None) -> Iterator[LedgerFault]:
    too_small = (
        _scoped(LedgerTransaction.objects.all(), tenant_id)
        .annotate(n=Count("entries"))
        .filter(n__lt=2)
        .order_by("id")
    )
    for tx in too_small[:1]:
        yield LedgerFault("transaction-balance", f"transaction {tx.pk}", f"{tx.n} entries")
    unbalanced = (
        _scoped(FinancialLedgerEntry.objects.all(), tenant_id)
        .values("transaction_id", "account__currency")
        .annotate(debit=Sum("debit"), credit=Sum("credit"))
        .filter(~Q(debit=F("credit")))
        .order_by("transaction_id")
    )
    for row in unbalanced[:1]:
        yield LedgerFault(
            "transaction-balance",
            f"transaction {row['transaction_id']}",
            f"debit {row['debit']} != credit {row['credit']} {row['account__currency']}",
        )


def _books_not_zero(tenant_id: int | None) -> Iterator[LedgerFault]:
    """Σ of every account, debit-normal positive, is zero per currency: from the entries and,
    independently, from the accounts' stored balances."""
    by_entries = (
        _scoped(FinancialLedgerEntry.objects.all(), tenant_id)
        .values("account__currency")
        .annotate(debit=Sum("debit"), credit=Sum("credit"))
        .order_by("account__currency")
    )
    for row in by_entries:
        if row["debit"] != row["credit"]:
            yield LedgerFault(
                "books-sum",
                f"currency {row['account__currency']}",
                f"entries: debit {row['debit']} != credit {row['credit']}",
            )
            return
    totals: dict[str, Decimal] = {}
    for account in _scoped(LedgerAccount.objects.all(), tenant_id).order_by("id"):
        signed = account.balance if account.is_debit_normal else -account.balance
        totals[account.currency] = totals.get(account.currency, ZERO) + signed
    for currency, total in sorted(totals.items()):
        if total != 0:
            yield LedgerFault("books-sum", f"currency {currency}", f"account balances sum {total}")
            return


def _balance_chains(tenant_id: int | None) -> Iterator[LedgerFault]:
    """Each account's entries, in id order, step its running balance to its stored balance."""
    accounts = {a.pk: a for a in _scoped(LedgerAccount.objects.all(), tenant_id)}
    running = dict.fromkeys(accounts, ZERO)
    entries = (
        _scoped(FinancialLedgerEntry.objects.all(), tenant_id)
        .order_by("account_id", "id")
        .values_list("id", "account_id", "debit", "credit", "balance_after")
    )
    for entry_id, account_id, debit, credit, balance_after in entries.iterator(chunk_size=2000):
        account = accounts[account_id]
        delta = debit - credit if account.is_debit_normal else credit - debit
        expected = running[account_id] + delta
        if balance_after != expected:
            yield LedgerFault(
                "balance-chain",
                f"entry {entry_id} ({account.code} {account.currency})",
                f"balance_after {balance_after}, expected {expected}",
            )
            return
        running[account_id] = expected
    for account_id, account in sorted(accounts.items()):
        if account.balance != running[account_id]:
            yield LedgerFault(
                "balance-chain",
                f"account {account_id} ({account.code} {account.currency})",
                f"balance {account.balance}, entries end at {running[account_id]}",
            )
            return


def _hash_chains(tenant_id: int | None) -> Iterator[LedgerFault]:
    """Each tenant's transactions are numbered 1, 2, … and each hash covers the one before."""
    transactions = (
        _scoped(LedgerTransaction.objects.all(), tenant_id)
        .order_by("tenant_id", "sequence")
        .prefetch_related("entries__account")
    )
    tenant, sequence, previous_hash = None, 0, ""
    for tx in transactions.iterator(chunk_size=500):
        if tx.tenant_id != tenant:
            tenant, sequence, previous_hash = tx.tenant_id, 0, ""
        row = f"transaction {tx.pk} (tenant {tx.tenant_id}, #{tx.sequence})"
        try:
            lines = [
                PostingLine(
                    e.account.code,
                    LedgerAccount.Type(e.account.type),
                    e.account.currency,
                    debit=e.debit,
                    credit=e.credit,
                )
                for e in sorted(tx.entries.all(), key=lambda e: e.pk)
            ]
        except LedgerError as error:
            yield LedgerFault("hash-chain", row, f"malformed entry: {error}")
            return
        fingerprint = ledger_fingerprint(
            tenant_id=tx.tenant_id,
            entry_type=tx.entry_type,
            reference_id=tx.reference_id,
            reverses_id=tx.reverses_id,
            lines=lines,
        )
        expected_hash = ledger_chain_hash(
            previous_hash=previous_hash,
            sequence=tx.sequence,
            idempotency_key=tx.idempotency_key,
            fingerprint=fingerprint,
            created_at=tx.created_at,
        )
        if tx.sequence != sequence + 1:
            yield LedgerFault("hash-chain", row, f"sequence follows #{sequence}")
            return
        if tx.previous_hash != previous_hash:
            yield LedgerFault("hash-chain", row, "previous_hash is not the hash before it")
            return
        if tx.fingerprint != fingerprint:
            yield LedgerFault("hash-chain", row, "content does not match its fingerprint")
            return
        if tx.hash != expected_hash:
            yield LedgerFault("hash-chain", row, "hash does not match its content")
            return
        sequence, previous_hash = tx.sequence, tx.hash


def ledger_faults(*, tenant_id: int | None = None) -> Iterator[LedgerFault]:
    """Every check in turn, the first fault of each; nothing when the books are sound."""
    yield from _unbalanced_transactions(tenant_id)
    yield from _books_not_zero(tenant_id)
    yield from _balance_chains(tenant_id)
    yield from _hash_chains(tenant_id)
