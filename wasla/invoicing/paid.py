"""An invoice with nothing left due is paid: the one place that closes an invoice, whatever
settled it (the last payment, a credit note, or the merchant's credit applied at issue)."""

from __future__ import annotations

from datetime import datetime

from wasla.settlement.models import SettlementRecord

from .models import Invoice


def invoice_close_if_settled(*, invoice: Invoice, now: datetime) -> list[str]:
    """Mark a locked, issued invoice that has nothing left due `paid` (its settlements too).

    Sets the fields on `invoice` and returns their names for the caller's save."""
    if invoice.status != Invoice.Status.ISSUED or invoice.amount_due != 0:
        return []
    invoice.status = Invoice.Status.PAID
    invoice.paid_at = now
    SettlementRecord.objects.filter(
        invoice_link__invoice=invoice, status=SettlementRecord.Status.INVOICED
    ).update(status=SettlementRecord.Status.PAID)
    return ["status", "paid_at"]
