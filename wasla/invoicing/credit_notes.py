"""Credit notes: the fees that refunds after invoicing give back, credited on the invoice that
billed them.

A refund of an invoiced payment records a `credit_note_due` settlement adjustment (settlement
app). `credit_notes_issue` (daily beat task, `manage.py issue_credit_notes`) gathers those not
credited yet, per tenant and original invoice, and issues one credit note for each in one
transaction: the invoice row locked (so two runs queue and the second finds the adjustments
linked), a draft with one line per VAT rate (VAT once per rate on the aggregate, at the rate
the invoice billed), the adjustments linked (unique per adjustment: credited once), the next
number of the `credit_note` series, the parties as they stand (snapshots), the ledger posting.
Its total first lowers what the invoice still has due (`amount_credited`; an invoice left with
nothing due is closed); the rest, when the invoice was paid, becomes the merchant's credit
(`MerchantCredit`), which the next invoices use (merchant_credit.py).
"""

from __future__ import annotations

import logging
from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.db.models import QuerySet

from wasla.settlement.models import SettlementAdjustment
from wasla.tenants.context import platform_access, tenant_context
from wasla.tenants.models import Tenant

from .models import (
    ZERO,
    CreditNote,
    CreditNoteAdjustment,
    CreditNoteLine,
    DocumentSeries,
    Invoice,
    MerchantCredit,
)
from .numbering import document_number_next
from .paid import invoice_close_if_settled
from .parties import buyer_snapshot, seller_snapshot
from .postings import credit_note_post_issue
from .services import PRE_ENGINE_VAT_RATE, InvoicingError, invoice_lines_compute
from .zatca.stamping import zatca_document_register

logger = logging.getLogger(__name__)

CREDIT_LINE_AR = "رد رسوم وصلة على مدفوعات مستردة"
CREDIT_LINE_EN = "Wasla payment fees on refunded payments"


class CreditNotesIncomplete(InvoicingError):
    """Some credit notes could not be issued (each logged); the others were."""

    def __init__(self, issued: list[CreditNote], failures: list[str]) -> None:
        self.issued, self.failures = issued, failures
        super().__init__("; ".join(failures))


def _uncredited() -> QuerySet[SettlementAdjustment]:
    return SettlementAdjustment.objects.filter(
        kind=SettlementAdjustment.Kind.CREDIT_NOTE_DUE,
        fee_delta__lt=0,  # a refund that gave no fee back has nothing to credit
        credit_note_link__isnull=True,
    )


def credit_note_issue_for_invoice(*, invoice_id: int, now: datetime) -> CreditNote | None:
    """The credit note of `invoice_id`'s refunds not credited yet, or None when there are none.

    Runs in the invoice's tenant scope; one transaction."""
    with transaction.atomic():
        invoice = Invoice.objects.select_for_update().get(pk=invoice_id)
        rows = list(
            SettlementAdjustment.objects.filter(
                pk__in=_uncredited().values("pk"),
                settlement__invoice_link__invoice=invoice,
            )
            .order_by("pk")
            .values_list(
                "pk", "fee_delta", "settlement__fee_breakdown", "settlement__order__reference"
            )
        )
        if not rows:
            return None
        lines = invoice_lines_compute(
            fees=[
                (Decimal(snapshot.get("vat_rate") or PRE_ENGINE_VAT_RATE), -delta)
                for _, delta, snapshot, _ in rows
            ],
            currency=invoice.currency,
        )
        subtotal = sum((line.net_amount for line in lines), Decimal(0))
        vat_total = sum((line.vat_amount for line in lines), Decimal(0))
        orders = ", ".join(sorted({reference for *_, reference in rows}))
        note = CreditNote.objects.create(
            tenant_id=invoice.tenant_id,
            invoice=invoice,
            currency=invoice.currency,
            reason=f"Refund of payments billed on {invoice.display_number} (orders {orders})",
            subtotal=subtotal,
            vat_total=vat_total,
            total=subtotal + vat_total,
        )
        CreditNoteLine.objects.bulk_create(
            CreditNoteLine(
                tenant_id=invoice.tenant_id,
                credit_note=note,
                position=position,
                description_ar=CREDIT_LINE_AR,
                description_en=CREDIT_LINE_EN,
                quantity=line.quantity,
                unit_price=line.unit_price,
                net_amount=line.net_amount,
                vat_rate=line.vat_rate,
                vat_amount=line.vat_amount,
            )
            for position, line in enumerate(lines, start=1)
        )
        CreditNoteAdjustment.objects.bulk_create(
            CreditNoteAdjustment(tenant_id=invoice.tenant_id, credit_note=note, adjustment_id=pk)
            for pk, *_ in rows
        )
        note.number = document_number_next(series=DocumentSeries.CREDIT_NOTE)
        note.status = CreditNote.Status.ISSUED
        note.issued_at = now
        tenant = Tenant.objects.get(pk=invoice.tenant_id)
        note.buyer_snapshot, note.seller_snapshot = buyer_snapshot(tenant), seller_snapshot()
        note.save(
            update_fields=["number", "status", "issued_at", "buyer_snapshot", "seller_snapshot"]
        )
        credit_note_post_issue(note=note, tenant=tenant)
        _credit_apply(note=note, invoice=invoice, now=now)
        zatca_document_register(credit_note=note)  # stamped and cleared after the commit
        return note


def _credit_apply(*, note: CreditNote, invoice: Invoice, now: datetime) -> None:
    """What the locked invoice still had due drops by the note's total; what the note leaves
    over (the invoice was paid, or paid in part) is the merchant's credit."""
    credited = ZERO
    if invoice.status == Invoice.Status.ISSUED:
        credited = min(note.total, invoice.amount_due)
    if credited > 0:
        invoice.amount_credited += credited
        invoice.amount_due -= credited
        closed = invoice_close_if_settled(invoice=invoice, now=now)
        invoice.save(update_fields=["amount_credited", "amount_due", *closed])
    if note.total - credited > 0:
        MerchantCredit.objects.create(
            tenant_id=note.tenant_id,
            credit_note=note,
            currency=note.currency,
            amount=note.total - credited,
            created_at=now,
        )


def credit_notes_issue(*, now: datetime) -> list[CreditNote]:
    """Issue a credit note for every (tenant, invoice) with refunds not credited yet.

    Each in its tenant's scope and its own transaction; running it again issues nothing more.
    Raises CreditNotesIncomplete (listing the issued ones) when any failed."""
    with platform_access(reason="credit notes for refunds after invoicing"):
        pending = list(
            _uncredited()
            .values_list("tenant_id", "settlement__invoice_link__invoice_id")
            .distinct()
            .order_by("tenant_id", "settlement__invoice_link__invoice_id")
        )
    issued: list[CreditNote] = []
    failures: list[str] = []
    for tenant_id, invoice_id in pending:
        try:
            with tenant_context(tenant_id):
                note = credit_note_issue_for_invoice(invoice_id=invoice_id, now=now)
        except Exception as error:
            logger.exception("credit note for invoice %s failed", invoice_id)
            failures.append(f"invoice {invoice_id}: {type(error).__name__}: {error}")
            continue
        if note is not None:
            issued.append(note)
    if failures:
        raise CreditNotesIncomplete(issued, failures)
    return issued
