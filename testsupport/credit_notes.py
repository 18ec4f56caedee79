"""An issued credit note on an invoice, for tests that read one (the API, its PDF); and the
merchant credit a refund after a paid invoice leaves, made through the real services.

Written as the issuing will write it: a draft with its lines, then its number from the credit
note series, its totals, issue time and parties in one transaction; the database freezes it
from then on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.db import transaction

from wasla.common.money import round_money
from wasla.invoicing.credit_notes import credit_notes_issue
from wasla.invoicing.models import (
    CreditNote,
    CreditNoteLine,
    DocumentSeries,
    Invoice,
    InvoicePayment,
    MerchantCredit,
)
from wasla.invoicing.numbering import document_number_next
from wasla.invoicing.parties import buyer_snapshot, seller_snapshot
from wasla.invoicing.payments import invoice_payment_record
from wasla.payments.models import RefundRecord
from wasla.tenants.models import Tenant

from .invoicing import paid_payment_at, riyadh, run_month
from .payments import refunded


def issued_credit_note(
    invoice: Invoice,
    *,
    issued_at: datetime,
    quantity: int = 1,
    net: str = "1.00",
    vat_rate: str = "15.00",
    reason: str = "Fees reduced for payments refunded after invoicing",
) -> CreditNote:
    currency = invoice.currency
    net_amount = Decimal(net)
    vat = round_money(net_amount * Decimal(vat_rate) / 100, currency)
    with transaction.atomic():
        note = CreditNote.objects.create(
            tenant_id=invoice.tenant_id, invoice=invoice, currency=currency, reason=reason
        )
        CreditNoteLine.objects.create(
            tenant_id=invoice.tenant_id,
            credit_note=note,
            description_ar="تخفيض الرسوم للمدفوعات المستردة",
            description_en="Fee reduction for refunded payments",
            quantity=quantity,
            unit_price=round_money(net_amount / quantity, currency),
            net_amount=net_amount,
            vat_rate=Decimal(vat_rate),
            vat_amount=vat,
        )
        note.number = document_number_next(series=DocumentSeries.CREDIT_NOTE)
        note.status = CreditNote.Status.ISSUED
        note.issued_at = issued_at
        note.subtotal, note.vat_total, note.total = net_amount, vat, net_amount + vat
        note.buyer_snapshot = buyer_snapshot(Tenant.objects.get(pk=invoice.tenant_id))
        note.seller_snapshot = seller_snapshot()
        fields = ["number", "status", "issued_at", "subtotal", "vat_total", "total"]
        note.save(update_fields=[*fields, "buyer_snapshot", "seller_snapshot"])
    return note


@dataclass(frozen=True)
class CreditLeft:
    invoice: Invoice  # January's, paid
    credit_note: CreditNote
    credit: MerchantCredit
    refund: RefundRecord


def merchant_credit_left(tenant: Tenant) -> CreditLeft:
    """Under the 1.00 + 2.5 % plan (`percentage_fee_plan`): January's fees 6.00 + 3.50, its
    invoice (10.93) paid by transfer, then the 200.00 payment refunded in full: a credit note
    of 6.90 on a paid invoice, all of it the merchant's credit."""
    a = paid_payment_at(tenant, riyadh(2026, 1, 9), "200.00")
    paid_payment_at(tenant, riyadh(2026, 1, 10), "100.00")
    january = run_month(tenant, 2026, 1)
    assert january is not None
    assert january.total == Decimal("10.93")
    invoice_payment_record(
        invoice=january,
        amount=january.total,
        paid_on=date(2026, 2, 3),
        reference="FT-1",
        method=InvoicePayment.Method.BANK_TRANSFER,
        actor="finance",
        now=riyadh(2026, 2, 3),
    )
    refund = refunded(a, "200.00")
    [note] = credit_notes_issue(now=riyadh(2026, 2, 10))
    credit = MerchantCredit.objects.get(credit_note=note)
    assert credit.amount == Decimal("6.90")
    return CreditLeft(january, note, credit, refund)
