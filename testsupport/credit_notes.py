"""An issued credit note on an invoice, for tests that read one (the API, its PDF).

Written as the issuing will write it: a draft with its lines, then its number from the credit
note series, its totals, issue time and parties in one transaction; the database freezes it
from then on.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.db import transaction

from wasla.common.money import round_money
from wasla.invoicing.models import CreditNote, CreditNoteLine, DocumentSeries, Invoice
from wasla.invoicing.numbering import document_number_next
from wasla.invoicing.parties import buyer_snapshot, seller_snapshot
from wasla.tenants.models import Tenant


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
