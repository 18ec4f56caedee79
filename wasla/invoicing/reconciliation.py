"""The invoicing leg of `manage.py reconcile` (invariant 10): per tenant and currency, the
documents, the merchant credit and the ledger must tell one story.

1. fees billed: Σ invoice subtotals - Σ credit note subtotals = Σ fees the invoices billed
   (`InvoiceSettlement.fee`) - Σ fee given back by the refunds credit notes credited;
2. receivable: the ledger's Receivable balance = Σ invoice amounts due - unused merchant credit
   (a credit note on a paid invoice leaves Receivable in credit; the invoice that uses the
   credit lowers its amount due by as much and posts its full total);
3. VAT output: the ledger's VAT Output balance = Σ invoice VAT - Σ credit note VAT.

Only issued documents count (drafts are not in the books). Each sum is one grouped query; the
ledger balances are summed from the entries, not read from the accounts' running balances.
Registered in `InvoicingConfig.ready()`; reports, never fixes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.db.models import F, QuerySet, Sum

from wasla.ledger.accounts import AccountRole
from wasla.ledger.models import FinancialLedgerEntry, LedgerAccount
from wasla.settlement.models import SettlementAdjustment
from wasla.settlement.reconcile_checks import BooksDifference
from wasla.tenants.context import platform_access
from wasla.tenants.models import Tenant

from .models import CreditNote, Invoice, InvoiceSettlement, MerchantCredit, MerchantCreditUse

CHECK = "invoicing"
ISSUED_INVOICES = (Invoice.Status.ISSUED, Invoice.Status.PAID)
Key = tuple[int, str]  # tenant id, currency
Sums = dict[Key, Decimal]


def _sums(rows: Iterable[tuple[int, str, Decimal | None]]) -> Sums:
    found: Sums = defaultdict(Decimal)
    for tenant_id, currency, amount in rows:
        found[(tenant_id, currency)] += amount or Decimal(0)
    return found


def _grouped(qs: QuerySet[Any], tenant: str, currency: str, amount: str) -> Sums:
    """Σ `amount` of `qs` per (tenant, currency), in one grouped query."""
    grouped = qs.values(tenant, currency).order_by().annotate(total=Sum(amount))
    return _sums(grouped.values_list(tenant, currency, "total"))


def _ledger(role: AccountRole) -> Sums:
    """Each tenant's `role` account balance per currency, on its normal side, from the entries."""
    tenants = Tenant.objects.values_list("pk", "slug")
    codes = {tenant_id: role.code_for(slug) for tenant_id, slug in tenants}
    rows = (
        FinancialLedgerEntry.objects.filter(account__code__in=set(codes.values()))
        .values_list("account__tenant_id", "account__code", "account__currency")
        .order_by()
        .annotate(net=Sum(F("debit") - F("credit")))
    )
    debit_normal = role.account_type in (LedgerAccount.Type.ASSET, LedgerAccount.Type.EXPENSE)
    sign = 1 if debit_normal else -1
    return _sums(
        (tenant_id, currency, sign * net)
        for tenant_id, code, currency, net in rows
        if codes.get(tenant_id) == code
    )


def _compare(kind: str, detail: str, expected: Sums, actual: Sums) -> list[BooksDifference]:
    return [
        BooksDifference(
            check=CHECK,
            kind=kind,
            tenant_id=tenant_id,
            currency=currency,
            expected=expected.get((tenant_id, currency), Decimal(0)),
            actual=actual.get((tenant_id, currency), Decimal(0)),
            detail=detail,
        )
        for tenant_id, currency in sorted(set(expected) | set(actual))
        if expected.get((tenant_id, currency), Decimal(0))
        != actual.get((tenant_id, currency), Decimal(0))
    ]


def _minus(a: Sums, b: Sums) -> Sums:
    return {key: a.get(key, Decimal(0)) - b.get(key, Decimal(0)) for key in set(a) | set(b)}


def _plus(a: Sums, b: Sums) -> Sums:
    return _minus(a, _minus({}, b))


def invoicing_differences() -> list[BooksDifference]:
    """Every (tenant, currency) where one of the three identities does not hold."""
    with platform_access(reason="reconcile invoicing"):
        invoices = Invoice.objects.filter(status__in=ISSUED_INVOICES)
        notes = CreditNote.objects.filter(status=CreditNote.Status.ISSUED)
        billed = _grouped(
            InvoiceSettlement.objects.filter(invoice__status__in=ISSUED_INVOICES),
            "tenant_id",
            "invoice__currency",
            "fee",
        )
        given_back = _grouped(
            SettlementAdjustment.objects.filter(credit_note_link__credit_note__in=notes),
            "tenant_id",
            "credit_note_link__credit_note__currency",
            "fee_delta",
        )  # ≤ 0 each
        credit = _minus(
            _grouped(MerchantCredit.objects.all(), "tenant_id", "currency", "amount"),
            _grouped(MerchantCreditUse.objects.all(), "tenant_id", "credit__currency", "amount"),
        )
        return [
            *_compare(
                "fees_billed",
                "invoice subtotals - credit note subtotals vs fees billed - fees credited",
                expected=_plus(billed, given_back),
                actual=_minus(
                    _grouped(invoices, "tenant_id", "currency", "subtotal"),
                    _grouped(notes, "tenant_id", "currency", "subtotal"),
                ),
            ),
            *_compare(
                "receivable",
                "ledger Receivable vs invoice amounts due - unused merchant credit",
                expected=_minus(_grouped(invoices, "tenant_id", "currency", "amount_due"), credit),
                actual=_ledger(AccountRole.RECEIVABLE),
            ),
            *_compare(
                "vat_output",
                "ledger VAT Output vs invoice VAT - credit note VAT",
                expected=_minus(
                    _grouped(invoices, "tenant_id", "currency", "vat_total"),
                    _grouped(notes, "tenant_id", "currency", "vat_total"),
                ),
                actual=_ledger(AccountRole.VAT_OUTPUT),
            ),
        ]
