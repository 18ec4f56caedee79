"""Plain-text exports of the books for Beancount and hledger (`manage.py export_ledger`).

Amounts are signed the plain-text-accounting way: debits positive, credits negative, so an
income or liability account's balance is the negative of its credit-normal `balance`. Dates are
calendar days in the project's time zone (Asia/Riyadh). Both exports assert every account's
closing balance; the hledger one also asserts each posting's `balance_after`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from decimal import Decimal

from django.utils import timezone

from wasla.common.money import format_amount

from .models import FinancialLedgerEntry, LedgerAccount, LedgerTransaction

HLEDGER_TYPES = {
    LedgerAccount.Type.ASSET: "A",
    LedgerAccount.Type.LIABILITY: "L",
    LedgerAccount.Type.INCOME: "R",
    LedgerAccount.Type.EXPENSE: "X",
}


def _signed(amount: Decimal, account: LedgerAccount) -> Decimal:
    return amount if account.is_debit_normal else -amount


def _money(amount: Decimal, currency: str) -> str:
    if amount == 0:
        amount = abs(amount)  # never print "-0.00"
    return f"{format_amount(amount, currency)} {currency}"


def _text(value: str) -> str:
    return value.replace("\\", "/").replace('"', "'")


def _books(
    tenant_id: int | None,
) -> tuple[list[LedgerAccount], list[LedgerTransaction], date]:
    accounts = LedgerAccount.objects.order_by("code", "currency")
    transactions = LedgerTransaction.objects.order_by("created_at", "id").prefetch_related(
        "entries__account"
    )
    if tenant_id is not None:
        accounts = accounts.filter(tenant_id=tenant_id)
        transactions = transactions.filter(tenant_id=tenant_id)
    account_list, tx_list = list(accounts), list(transactions)
    days = [timezone.localdate(tx.created_at) for tx in tx_list]
    first_day = min(days, default=timezone.localdate())
    return account_list, tx_list, first_day


def _entries(tx: LedgerTransaction) -> Iterable[FinancialLedgerEntry]:
    return sorted(tx.entries.all(), key=lambda e: e.pk)


def ledger_export_beancount(*, tenant_id: int | None = None) -> str:
    accounts, transactions, first_day = _books(tenant_id)
    out = ['option "title" "Wasla ledger"', 'option "operating_currency" "SAR"', ""]
    currencies: dict[str, list[str]] = {}
    for account in accounts:
        currencies.setdefault(account.code, []).append(account.currency)
    for code, codes_currencies in currencies.items():
        out.append(f"{first_day.isoformat()} open {code} {','.join(sorted(codes_currencies))}")
    out.append("")
    last_day = first_day
    for tx in transactions:
        day = timezone.localdate(tx.created_at)
        last_day = max(last_day, day)
        out.append(f'{day.isoformat()} * "{tx.entry_type}" "{_text(tx.reference_id)}"')
        out.append(f'  sequence: "{tx.sequence}"')
        out.append(f'  idempotency: "{_text(tx.idempotency_key)}"')
        out.append(f'  hash: "{tx.hash}"')
        if tx.reverses_id is not None:
            out.append(f'  reverses: "{tx.reverses_id}"')
        for entry in _entries(tx):
            amount = entry.debit - entry.credit
            out.append(f"  {entry.account.code}  {_money(amount, entry.account.currency)}")
        out.append("")
    # A balance assertion holds at the start of its day: assert the day after the last posting.
    closing = (last_day + timedelta(days=1)).isoformat()
    for account in accounts:
        balance = _money(_signed(account.balance, account), account.currency)
        out.append(f"{closing} balance {account.code}  {balance}")
    return "\n".join(out) + "\n"


def ledger_export_hledger(*, tenant_id: int | None = None) -> str:
    accounts, transactions, first_day = _books(tenant_id)
    out = ["; Wasla ledger", ""]
    declared: set[str] = set()
    for account in accounts:
        if account.code not in declared:
            declared.add(account.code)
            out.append(
                f"account {account.code}  ; type: {HLEDGER_TYPES[LedgerAccount.Type(account.type)]}"
            )
    out.append("")
    last_day = first_day
    for tx in transactions:
        day = timezone.localdate(tx.created_at)
        last_day = max(last_day, day)
        out.append(
            f"{day.isoformat()} * {tx.entry_type} {tx.reference_id}"
            f"  ; sequence:{tx.sequence}, idempotency:{tx.idempotency_key}"
        )
        for entry in _entries(tx):
            account = entry.account
            amount = _money(entry.debit - entry.credit, account.currency)
            after = _money(_signed(entry.balance_after, account), account.currency)
            out.append(f"    {account.code}  {amount} = {after}")
        out.append("")
    if accounts:
        out.append(f"{last_day.isoformat()} closing balances")
        for account in accounts:
            zero = _money(Decimal(0), account.currency)
            balance = _money(_signed(account.balance, account), account.currency)
            out.append(f"    {account.code}  {zero} = {balance}")
        out.append("")
    return "\n".join(out)
