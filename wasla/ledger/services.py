"""The posting engine: balanced lines in, one immutable, hash-chained transaction out.

The ledger knows accounts, `PostingLine`s and `ledger_post` (and `ledger_reverse`), nothing of
payments, settlements or invoices: each app above writes its own postings through it (the fee
postings are in `wasla/settlement/postings.py`). `ledger_post` is the only writer of ledger rows.
It runs inside the caller's transaction (the payment confirmation, the refund), so a posting
commits or rolls back with the business fact it records.

Locks, always in this order, so concurrent postings cannot deadlock:
1. the tenant's hash chain (a transaction-scoped advisory lock keyed by the tenant): postings of
   one tenant are serialised, postings of different tenants never wait for each other;
2. the accounts touched, in (code, currency) order, row-locked by the statement that moves their
   balance, so `balance_after` is computed from the balance no other transaction is changing.
Every posting takes the same fixed number of SQL statements, whatever the size of the ledger. On
PostgreSQL a new posting is three: the chain lock; one SELECT of the chain head and of a
transaction already posted under the key; one statement that upserts and locks the accounts,
moves their balances and inserts the transaction and its entries (data-modifying CTEs, so the
append-only and balance triggers fire as for any insert). SQLite (the demo) writes the same rows
through the ORM, one statement each.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

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
        existing, head = _existing_and_head(tenant_id=tenant_id, idempotency_key=idempotency_key)
        if existing is None:
            sequence, previous_hash = (head.sequence + 1, head.hash) if head else (1, "")
            created_at = timezone.now()
            posted = LedgerTransaction(
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
            if connection.vendor == "postgresql":
                _write_batched(posted=posted, lines=lines)
            else:
                _write_rows(posted=posted, lines=lines)
            return posted
    # Raised outside the atomic block: nothing was written, so the caller's transaction stays
    # usable (it may catch the error and carry on).
    if existing.fingerprint != fingerprint:
        raise IdempotencyConflict(
            f"idempotency key {idempotency_key!r} was used for transaction "
            f"#{existing.sequence} with different content"
        )
    return existing


def _existing_and_head(
    *, tenant_id: int, idempotency_key: str
) -> tuple[LedgerTransaction | None, LedgerTransaction | None]:
    """The transaction already posted under the key (if any) and the tenant's chain head (its
    last transaction, if any), in one SELECT by index. Read under the chain lock, in a statement
    that starts after it was granted, so the head is the one the next posting follows."""
    # Plain SQL (PostgreSQL and SQLite alike): the ORM's form of it cost a sizeable share of a
    # Celery worker's CPU per confirmation in query compiling (bench/webhooks.py profiles).
    table = LedgerTransaction._meta.db_table
    rows = list(
        LedgerTransaction.objects.raw(
            f"SELECT * FROM {table} WHERE tenant_id = %s AND (idempotency_key = %s"  # noqa: S608
            f" OR sequence = (SELECT max(sequence) FROM {table} WHERE tenant_id = %s))",
            [tenant_id, idempotency_key, tenant_id],
        )
    )
    existing = next((row for row in rows if row.idempotency_key == idempotency_key), None)
    head = max(rows, key=lambda row: row.sequence, default=None)
    return existing, head


def _account_deltas(lines: Sequence[PostingLine]) -> dict[tuple[str, str], Decimal]:
    """What the posting adds to each account's balance on its normal side, by (code, currency),
    in that order (the order the accounts are locked in)."""
    deltas: dict[tuple[str, str], Decimal] = {}
    for line in lines:
        key = (line.code, line.currency)
        deltas[key] = deltas.get(key, ZERO) + _normal_side(line.account_type, line)
    return dict(sorted(deltas.items()))


def _normal_side(account_type: str, line: PostingLine) -> Decimal:
    if account_type in (LedgerAccount.Type.ASSET, LedgerAccount.Type.EXPENSE):
        return line.debit - line.credit
    return line.credit - line.debit


def _write_batched(*, posted: LedgerTransaction, lines: Sequence[PostingLine]) -> None:
    """PostgreSQL: the accounts, the transaction and its entries in one statement.

    The accounts are upserted with the posting's delta (a new account starts at it, an existing
    one adds it: `ON CONFLICT DO UPDATE` locks the row first), so RETURNING gives each account's
    balance after the whole posting; an entry's `balance_after` is that minus what the account's
    later lines of the same posting add. Entries are inserted in line order.
    """
    deltas = _account_deltas(lines)
    types = {(line.code, line.currency): line.account_type for line in lines}
    now = timezone.now()
    account_rows = ", ".join(["(%s, %s, %s, %s, %s::numeric, %s)"] * len(deltas))
    account_params: list[Any] = []
    for (code, currency), delta in deltas.items():
        account_params += [posted.tenant_id, code, currency, str(types[(code, currency)]), delta]
        account_params.append(now)
    later = dict.fromkeys(deltas, ZERO)  # what the lines after this one add, per account
    line_params: list[list[Any]] = []
    for order, line in reversed(list(enumerate(lines))):
        key = (line.code, line.currency)
        line_params.append([line.code, line.currency, line.debit, line.credit, later[key], order])
        later[key] += _normal_side(types[key], line)
    line_rows = ", ".join(
        ["(%s, %s, %s::numeric, %s::numeric, %s::numeric, %s::integer)"] * len(lines)
    )
    sql = f"""
        WITH account AS (
            INSERT INTO ledger_ledgeraccount AS a (tenant_id, code, currency, type, balance,
                                                   created_at)
            VALUES {account_rows}
            ON CONFLICT (tenant_id, code, currency)
                DO UPDATE SET balance = a.balance + EXCLUDED.balance
            RETURNING a.id, a.code, a.currency, a.type, a.balance
        ), posted AS (
            INSERT INTO ledger_ledgertransaction (tenant_id, entry_type, reference_id,
                idempotency_key, fingerprint, reverses_id, sequence, previous_hash, hash,
                created_at)
            VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
            RETURNING id
        ), entry AS (
            INSERT INTO ledger_financialledgerentry (tenant_id, transaction_id, account_id,
                                                     debit, credit, balance_after)
            SELECT %s, posted.id, account.id, line.debit, line.credit,
                   account.balance - line.later
            FROM posted,
                (VALUES {line_rows}) AS line (code, currency, debit, credit, later, ord)
                JOIN account ON account.code = line.code AND account.currency = line.currency
            ORDER BY line.ord
        )
        SELECT posted.id, account.code, account.currency, account.type
        FROM posted, account
    """  # noqa: S608 (only rows of placeholders are formatted in; every value is a parameter)
    params = [
        *account_params,
        posted.tenant_id,
        str(posted.entry_type),
        posted.reference_id,
        posted.idempotency_key,
        posted.fingerprint,
        posted.reverses_id,
        posted.sequence,
        posted.previous_hash,
        posted.hash,
        posted.created_at,
        posted.tenant_id,
        *(value for row in line_params for value in row),
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    for _, code, currency, account_type in rows:
        if account_type != types[(code, currency)]:
            # Raised inside the caller's atomic block: what the statement wrote rolls back.
            raise LedgerError(f"account {code} is {account_type}, not {types[(code, currency)]}")
    posted.pk = rows[0][0]
    posted._state.adding = False
    posted._state.db = connection.alias


def _write_rows(*, posted: LedgerTransaction, lines: Sequence[PostingLine]) -> None:
    """Other databases (SQLite, the demo): the same rows through the ORM, accounts locked in
    (code, currency) order where the database locks rows at all."""
    tenant_id = posted.tenant_id
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
        .order_by("code", "currency")
        if (account.code, account.currency) in wanted
    }
    for key, account_type in wanted.items():
        if accounts[key].type != account_type:
            raise LedgerError(f"account {key[0]} is {accounts[key].type}, not {account_type}")
    posted.save(force_insert=True)
    entries = []
    for line in lines:
        account = accounts[(line.code, line.currency)]
        account.balance += _normal_side(account.type, line)
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
