"""The books after invoicing, checked to the halala for one tenant and currency (invariant 10).

`books_agree` reads the settlements, invoices, credit notes, payments and merchant credits and
the ledger's balances, and asserts that they tell one story:

- Σ fees of the settlements that stand (net of every adjustment) = Σ invoice subtotals -
  Σ credit note subtotals + the fees not invoiced yet = the ledger's fee Income;
- the fees not invoiced yet = Unbilled; Receivable = Σ invoice amounts due - the merchant's
  unused credit; VAT Output = Σ invoice VAT - Σ credit note VAT; Bank = Σ bank transfers;
- every document is its own arithmetic, recomputed here from what it bills: one line per VAT
  rate, net = Σ fees billed at that rate, VAT = that net x rate rounded once (never the sum of
  per-payment roundings), subtotal/VAT/total the sums of the lines;
- a reversed settlement stands for nothing, and every refund after invoicing was credited.
Shared by the property over random histories and the worked month exported to the ledgers.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.apps import apps
from django.db.models import Sum

from testsupport.payments import balance
from wasla.common.money import round_money
from wasla.invoicing.models import CreditNote, Invoice, InvoicePayment, MerchantCredit
from wasla.invoicing.services import PRE_ENGINE_VAT_RATE
from wasla.ledger.accounts import AccountRole
from wasla.settlement.models import SettlementAdjustment, SettlementRecord
from wasla.tenants.models import Tenant

ZERO = Decimal(0)
CREDITED_LATER = SettlementAdjustment.Kind.CREDIT_NOTE_DUE


@dataclass(frozen=True)
class Books:
    """The figures of one tenant and currency, once they agree."""

    fees_standing: Decimal
    invoiced: Decimal  # Σ invoice subtotals
    credited: Decimal  # Σ credit note subtotals
    not_invoiced: Decimal
    receivable: Decimal
    unused_credit: Decimal


def _total(rows, field: str = "amount") -> Decimal:  # type: ignore[no-untyped-def]
    return rows.aggregate(total=Sum(field))["total"] or ZERO


def unused_merchant_credit(tenant: Tenant, currency: str) -> Decimal:
    """The merchant's credit less what later invoices used of it. Uses are rows of a model
    named `MerchantCreditUse` with an `amount` and a link to the credit, when that model
    exists; before it does, no credit was ever used."""
    credit = _total(MerchantCredit.objects.filter(tenant=tenant, currency=currency))
    invoicing = apps.get_app_config("invoicing").get_models()
    use_model = next((m for m in invoicing if m.__name__ == "MerchantCreditUse"), None)
    if use_model is None:
        return credit
    link = next(
        field.name
        for field in use_model._meta.get_fields()
        if field.is_relation and field.related_model is MerchantCredit
    )
    mine = {f"{link}__tenant": tenant, f"{link}__currency": currency}
    uses = use_model._default_manager.filter(**mine)
    return credit - _total(uses)


def _rate(settlement: SettlementRecord) -> Decimal:
    return Decimal(settlement.fee_breakdown.get("vat_rate") or PRE_ENGINE_VAT_RATE)


def _lines_match(document: Invoice | CreditNote, fees: list[tuple[Decimal, Decimal]]) -> None:
    """`document`'s lines are one per VAT rate of `fees` ((rate, fee) pairs), VAT once on each
    rate's aggregate; its totals are the lines' sums."""
    by_rate: dict[Decimal, list[Decimal]] = defaultdict(list)
    for rate, fee in fees:
        by_rate[rate].append(fee)
    currency = document.currency
    expected = []
    for rate in sorted(by_rate):
        net = round_money(sum(by_rate[rate], ZERO), currency)
        expected.append((rate, len(by_rate[rate]), net, round_money(net * rate / 100, currency)))
    lines = [
        (line.vat_rate, line.quantity, line.net_amount, line.vat_amount)
        for line in document.lines.order_by("position")
    ]
    assert lines == expected, (str(document), lines, expected)
    subtotal = sum((net for _, _, net, _ in expected), ZERO)
    vat = sum((vat for *_, vat in expected), ZERO)
    assert (document.subtotal, document.vat_total, document.total) == (
        subtotal,
        vat,
        subtotal + vat,
    ), str(document)


def _documents_match(tenant: Tenant, currency: str) -> None:
    for invoice in Invoice.objects.filter(tenant=tenant, currency=currency).exclude(
        status__in=[Invoice.Status.DRAFT, Invoice.Status.VOID]
    ):
        fees = []
        for link in invoice.settlement_links.select_related("settlement"):
            settlement = link.settlement
            before = settlement.adjustments.exclude(kind=CREDITED_LATER)
            # What the invoice billed: the fee net of the reductions made before it.
            assert link.fee == settlement.wasla_fee + _total(before, "fee_delta"), str(link)
            fees.append((_rate(settlement), link.fee))
        assert invoice.total_operations == len(fees)
        _lines_match(invoice, fees)
    for note in CreditNote.objects.filter(tenant=tenant, currency=currency, status="issued"):
        credited = SettlementAdjustment.objects.filter(credit_note_link__credit_note=note)
        _lines_match(note, [(_rate(a.settlement), -a.fee_delta) for a in credited])


def books_agree(tenant: Tenant, currency: str) -> Books:
    """Assert the identities of the module docstring for `tenant` in `currency`."""
    settlements = SettlementRecord.objects.filter(tenant=tenant, currency=currency)
    adjustments = SettlementAdjustment.objects.filter(settlement__in=settlements)
    standing = settlements.exclude(status=SettlementRecord.Status.REVERSED)
    fees_standing = _total(standing, "wasla_fee") + _total(
        adjustments.filter(settlement__in=standing), "fee_delta"
    )
    for settlement in settlements.filter(status=SettlementRecord.Status.REVERSED):
        assert settlement.wasla_fee + _total(settlement.adjustments, "fee_delta") == 0
    uncredited = adjustments.filter(
        kind=CREDITED_LATER, fee_delta__lt=0, credit_note_link__isnull=True
    )
    assert not uncredited.exists(), "a refund after invoicing was never credited"
    pending = settlements.filter(status=SettlementRecord.Status.PENDING)
    not_invoiced = _total(pending, "wasla_fee") + _total(
        adjustments.filter(settlement__in=pending), "fee_delta"
    )
    invoices = Invoice.objects.filter(tenant=tenant, currency=currency).exclude(
        status__in=[Invoice.Status.DRAFT, Invoice.Status.VOID]
    )
    notes = CreditNote.objects.filter(
        tenant=tenant, currency=currency, status=CreditNote.Status.ISSUED
    )
    invoiced, credited = _total(invoices, "subtotal"), _total(notes, "subtotal")
    income = balance(tenant, AccountRole.FEE_INCOME, currency)
    assert fees_standing == invoiced - credited + not_invoiced == income, (
        fees_standing,
        invoiced,
        credited,
        not_invoiced,
        income,
    )
    assert balance(tenant, AccountRole.UNBILLED, currency) == not_invoiced
    unused = unused_merchant_credit(tenant, currency)
    receivable = balance(tenant, AccountRole.RECEIVABLE, currency)
    assert receivable == _total(invoices, "amount_due") - unused, (receivable, unused)
    vat = balance(tenant, AccountRole.VAT_OUTPUT, currency)
    assert vat == _total(invoices, "vat_total") - _total(notes, "vat_total")
    transfers = InvoicePayment.objects.filter(
        invoice__in=invoices, method=InvoicePayment.Method.BANK_TRANSFER
    )
    assert balance(tenant, AccountRole.BANK, currency) == _total(transfers)
    _documents_match(tenant, currency)
    return Books(fees_standing, invoiced, credited, not_invoiced, receivable, unused)
