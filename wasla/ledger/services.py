"""The posting engine: balanced lines in, one immutable, hash-chained transaction out.

The ledger knows accounts, `PostingLine`s and `ledger_post` (and `ledger_reverse`), nothing of
payments, settlements or invoices: each app above writes its own postings through it (the fee
postings are in `wasla/settlement/postings.py`). `ledger_post` is the only writer of ledger rows.
It runs inside the caller's transaction (the payment confirmation, the refund), so a posting
commits or rolls back with the business fact it records.

Locks, always in this order, so concurrent postings cannot deadlock:
1. the tenant's hash chain (a transaction-scoped advisory lock keyed by the tenant): postings of
   one tenant are serialised, postings of different tenants never wait for each other;
2. the accounts touched, `SELECT … FOR UPDATE` ordered by id, so `balance_after` is computed from
   the balance no other transaction is changing.
Every posting takes the same fixed number of SQL statements, whatever the size of the ledger.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.db import connection, transaction
from django.utils import timezone

from wasla.common.money import MoneyError, format_amount, is_exact

from .accounts import AccountRole
from .models import FinancialLedgerEntry, LedgerAccount, LedgerTransaction

# First key of the two-key advisory lock form: "LEDG", so it never meets another lock class.
CHAIN_LOCK_CLASS = 0x4C454447
ZERO = Decimal(0)


class LedgerError(Exception):
    """A posting that cannot be made (unbalanced, malformed, or conflicting with the books)."""


class IdempotencyConflict(LedgerError):
    """The idempotency key was already used for a posting with different content."""


@dataclass(frozen=True)
class PostingLine:
    """One side of one account in a posting: exactly one of debit and credit is positive."""

    code: str
    account_type: LedgerAccount.Type
    currency: str
    debit: Decimal = field(default=ZERO)
    credit: Decimal = field(default=ZERO)

    def __post_init__(self) -> None:
        for amount in (self.debit, self.credit):
            if not isinstance(amount, Decimal) or amount < 0:
                raise LedgerError(f"{self.code}: amounts must be non-negative Decimals")
            try:
                exact = is_exact(amount, self.currency)
            except MoneyError as error:
                raise LedgerError(str(error)) from error
            if not exact:
                raise LedgerError(f"{self.code}: {amount} is not an exact {self.currency} amount")
        if (self.debit > 0) == (self.credit > 0):
            raise LedgerError(f"{self.code}: exactly one of debit and credit must be positive")

    @classmethod
    def dr(cls, role: AccountRole, slug: str, amount: Decimal, currency: str) -> PostingLine:
        return cls(role.code_for(slug), role.account_type, currency, debit=amount)

    @classmethod
    def cr(cls, role: AccountRole, slug: str, amount: Decimal, currency: str) -> PostingLine:
        return cls(role.code_for(slug), role.account_type, currency, credit=amount)


def _canonical(payload: object) -> bytes:
    return json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()


def ledger_fingerprint(
    *,
    tenant_id: int,
    entry_type: str,
    reference_id: str,
    reverses_id: int | None,
    lines: Sequence[PostingLine],
) -> str:
    """Hash of what a posting says (not where it sits in the chain)."""
    return hashlib.sha256(
        _canonical(
            {
                "tenant": tenant_id,
                "entry_type": entry_type,
                "reference_id": reference_id,
                "reverses": reverses_id,
                "lines": [
                    [
                        line.code,
                        str(line.account_type),
                        line.currency,
                        format_amount(line.debit, line.currency),
                        format_amount(line.credit, line.currency),
                    ]
                    for line in lines
                ],
            }
        )
    ).hexdigest()


def ledger_chain_hash(
    *,
    previous_hash: str,
    sequence: int,
    idempotency_key: str,
    fingerprint: str,
    created_at: datetime,
) -> str:
    """Hash of a transaction: the previous transaction's hash + this one's content."""
    own = _canonical(
        {
            "sequence": sequence,
            "idempotency_key": idempotency_key,
            "fingerprint": fingerprint,
            "created_at": created_at.isoformat(),
        }
    )
    return hashlib.sha256(previous_hash.encode() + b"\n" + own).hexdigest()


def _check_balanced(lines: Sequence[PostingLine]) -> None:
    if len(lines) < 2:
        raise LedgerError("a posting needs at least two lines")
    totals: dict[str, Decimal] = {}
    for line in lines:
        totals[line.currency] = totals.get(line.currency, ZERO) + line.debit - line.credit
    unbalanced = {currency: total for currency, total in totals.items() if total != 0}
    if unbalanced:
        raise LedgerError(f"posting does not balance: {unbalanced}")


def _chain_lock(*, tenant_id: int) -> None:
    if connection.vendor != "postgresql":
        return  # SQLite (the demo) lets one writer at a time into the whole database anyway
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [CHAIN_LOCK_CLASS, tenant_id])


def _accounts_lock(
    *, tenant_id: int, lines: Sequence[PostingLine]
) -> dict[tuple[str, str], LedgerAccount]:
    """Create the accounts a posting needs (if new) and lock them all, in id order.

    Always one INSERT … ON CONFLICT DO NOTHING and one SELECT … FOR UPDATE: the same statements
    for a tenant's first posting and its millionth.
    """
    wanted = {(line.code, line.currency): line.account_type for line in lines}
    LedgerAccount.objects.bulk_create(
        [
            LedgerAccount(tenant_id=tenant_id, code=code, currency=currency, type=account_type)
            for (code, currency), account_type in sorted(wanted.items())
        ],
        ignore_conflicts=True,
    )
    codes = sorted({code for code, _ in wanted})
    accounts = {
        (account.code, account.currency): account
        for account in LedgerAccount.objects.select_for_update()
        .filter(tenant_id=tenant_id, code__in=codes)
        .order_by("id")
        if (account.code, account.currency) in wanted
    }
    for key, account_type in wanted.items():
        if accounts[key].type != account_type:
            raise LedgerError(f"account {key[0]} is {accounts[key].type}, not {account_type}")
    return accounts


def ledger_post(
    *,
    tenant_id: int,
    entry_type: LedgerTransaction.EntryType,
    reference_id: str,
    idempotency_key: str,
    lines: Sequence[PostingLine],
    reverses: LedgerTransaction | None = None,
) -> LedgerTransaction:
    """Post one balanced transaction, exactly once per (tenant, idempotency key).

    The same key with the same content returns the transaction posted first and writes
    nothing; with other content it raises IdempotencyConflict. Joins the caller's atomic block
    (no savepoint: a failed posting must fail the business step it belongs to).
    """
    _check_balanced(lines)
    if reverses is not None and reverses.tenant_id != tenant_id:
        raise LedgerError("a transaction can only be reversed in its own tenant's books")
    fingerprint = ledger_fingerprint(
        tenant_id=tenant_id,
        entry_type=str(entry_type),
        reference_id=reference_id,
        reverses_id=reverses.pk if reverses is not None else None,
        lines=lines,
    )
    with transaction.atomic(savepoint=False):
        _chain_lock(tenant_id=tenant_id)
        existing = LedgerTransaction.objects.filter(
            tenant_id=tenant_id, idempotency_key=idempotency_key
        ).first()
        if existing is None:
            return _post_new(
                tenant_id=tenant_id,
                entry_type=entry_type,
                reference_id=reference_id,
                idempotency_key=idempotency_key,
                fingerprint=fingerprint,
                lines=lines,
                reverses=reverses,
            )
    # Raised outside the atomic block: nothing was written, so the caller's transaction stays
    # usable (it may catch the error and carry on).
    if existing.fingerprint != fingerprint:
        raise IdempotencyConflict(
            f"idempotency key {idempotency_key!r} was used for transaction "
            f"#{existing.sequence} with different content"
        )
    return existing


def _post_new(
    *,
    tenant_id: int,
    entry_type: LedgerTransaction.EntryType,
    reference_id: str,
    idempotency_key: str,
    fingerprint: str,
    lines: Sequence[PostingLine],
    reverses: LedgerTransaction | None,
) -> LedgerTransaction:
    """Write a new transaction; the caller holds the tenant's chain lock."""
    accounts = _accounts_lock(tenant_id=tenant_id, lines=lines)
    head = (
        LedgerTransaction.objects.filter(tenant_id=tenant_id)
        .order_by("-sequence")
        .values_list("sequence", "hash")
        .first()
    )
    sequence, previous_hash = (head[0] + 1, head[1]) if head else (1, "")
    created_at = timezone.now()
    posted = LedgerTransaction.objects.create(
        tenant_id=tenant_id,
        entry_type=entry_type,
        reference_id=reference_id,
        idempotency_key=idempotency_key,
        fingerprint=fingerprint,
        reverses=reverses,
        sequence=sequence,
        previous_hash=previous_hash,
        hash=ledger_chain_hash(
            previous_hash=previous_hash,
            sequence=sequence,
            idempotency_key=idempotency_key,
            fingerprint=fingerprint,
            created_at=created_at,
        ),
        created_at=created_at,
    )
    entries = []
    for line in lines:
        account = accounts[(line.code, line.currency)]
        if account.is_debit_normal:
            account.balance += line.debit - line.credit
        else:
            account.balance += line.credit - line.debit
        entries.append(
            FinancialLedgerEntry(
                tenant_id=tenant_id,
                transaction=posted,
                account=account,
                debit=line.debit,
                credit=line.credit,
                balance_after=account.balance,
            )
        )
    FinancialLedgerEntry.objects.bulk_create(entries)
    LedgerAccount.objects.bulk_update(
        sorted({a.pk: a for a in accounts.values()}.values(), key=lambda a: a.pk), ["balance"]
    )
    return posted


def ledger_reverse(*, original: LedgerTransaction) -> LedgerTransaction:
    """The exact reversal of a transaction: every line on the other side (entry_type reversal)."""
    lines = [
        PostingLine(
            entry.account.code,
            LedgerAccount.Type(entry.account.type),
            entry.account.currency,
            debit=entry.credit,
            credit=entry.debit,
        )
        for entry in original.entries.select_related("account").order_by("id")
    ]
    return ledger_post(
        tenant_id=original.tenant_id,
        entry_type=LedgerTransaction.EntryType.REVERSAL,
        reference_id=original.reference_id,
        idempotency_key=f"reversal:{original.pk}",
        lines=lines,
        reverses=original,
    )
