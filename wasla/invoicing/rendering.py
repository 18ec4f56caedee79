"""Issued invoices and credit notes as `InvoiceDocument`s: the one mapping from the models to the
typed document that every rendering (the PDF, the ZATCA QR, later the UBL XML) is made from.

- Only issued documents are rendered (an invoice `issued` or `paid`, a credit note `issued`):
  a draft has no number yet and a void draft was never a tax document.
- The parties are the ones the document recorded at its issue (parties.py): Wasla's seller
  profile with its IBAN and the tenant's tax profile as they stood then, so editing a profile
  later never changes an issued document. The supply period is the invoice's calendar month (a
  credit note: its invoice's).
- An invoice shows what credit notes took off it and the merchant's credit applied at issue
  above its amount due (not as lines: the supply billed is unchanged).
- A line's figures are the stored ones. The stored unit price is the average per operation,
  rounded, so quantity x unit price may miss the exact net by a halala; such a line is shown as
  one unit at its net amount, the number of operations in its description, because a tax
  document's net must be its quantity times its price.
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from wasla.common.money import is_exact, round_money

from .banks import bank_name_for_iban
from .documents import (
    CreditNoteReference,
    DocumentError,
    DocumentKind,
    DocumentLine,
    InvoiceDocument,
    NationalAddress,
    PaymentInstructions,
    TaxParty,
    vat_breakdown_for,
)
from .documents.pdf import document_pdf
from .models import CreditNote, CreditNoteLine, Invoice, InvoiceLine

RENDERED_INVOICE_STATUSES = (Invoice.Status.ISSUED, Invoice.Status.PAID)


class NotRenderable(Exception):
    """A document that is not (or no longer) a tax document: a draft, or a void draft."""


def invoice_document(*, invoice: Invoice) -> InvoiceDocument:
    """The tax invoice `invoice` (issued or paid) as the document every rendering reads."""
    if (
        invoice.status not in RENDERED_INVOICE_STATUSES
        or invoice.issued_at is None  # an issued invoice has both (CHECK constraint)
        or invoice.due_date is None
    ):
        raise NotRenderable(f"invoice {invoice.pk} is {invoice.status}: only issued ones render")
    seller = _snapshot(invoice.seller_snapshot, invoice)
    currency = invoice.currency
    lines = tuple(_line(line, currency) for line in invoice.lines.all())
    start, end = supply_period(year=invoice.year, month=invoice.month)
    return InvoiceDocument(
        kind=DocumentKind.TAX_INVOICE,
        number=invoice.display_number,
        issued_at=invoice.issued_at,
        supply_start=start,
        supply_end=end,
        currency=currency,
        seller=_party(seller),
        buyer=_party(_snapshot(invoice.buyer_snapshot, invoice)),
        lines=lines,
        vat_breakdown=vat_breakdown_for(lines=lines, currency=currency),
        subtotal=_exact(invoice.subtotal, currency),
        vat_total=_exact(invoice.vat_total, currency),
        total=_exact(invoice.total, currency),
        amount_paid=_exact(invoice.amount_paid, currency),
        amount_credited=_exact(invoice.amount_credited, currency),
        credit_applied=_exact(invoice.amount_credit_applied, currency),
        amount_due=_exact(invoice.amount_due, currency),
        due_date=invoice.due_date,
        payment=PaymentInstructions(
            iban=seller["iban"], bank_name=bank_name_for_iban(seller["iban"])
        ),
    )


def credit_note_document(*, credit_note: CreditNote) -> InvoiceDocument:
    """The issued credit note as a document: it names its invoice and why it was issued."""
    if credit_note.status != CreditNote.Status.ISSUED or credit_note.issued_at is None:
        raise NotRenderable(f"credit note {credit_note.pk} is a draft: only issued ones render")
    invoice = credit_note.invoice
    currency = credit_note.currency
    lines = tuple(_line(line, currency) for line in credit_note.lines.all())
    start, end = supply_period(year=invoice.year, month=invoice.month)
    total = _exact(credit_note.total, currency)
    return InvoiceDocument(
        kind=DocumentKind.CREDIT_NOTE,
        number=credit_note.display_number,
        issued_at=credit_note.issued_at,
        supply_start=start,
        supply_end=end,
        currency=currency,
        seller=_party(_snapshot(credit_note.seller_snapshot, credit_note)),
        buyer=_party(_snapshot(credit_note.buyer_snapshot, credit_note)),
        lines=lines,
        vat_breakdown=vat_breakdown_for(lines=lines, currency=currency),
        subtotal=_exact(credit_note.subtotal, currency),
        vat_total=_exact(credit_note.vat_total, currency),
        total=total,
        amount_paid=round_money(Decimal(0), currency),
        amount_due=total,
        credit_note_of=CreditNoteReference(
            original_invoice_number=invoice.display_number, reason=credit_note.reason
        ),
    )


@dataclass(frozen=True)
class RenderedPdf:
    filename: str
    content: bytes


def invoice_pdf(*, invoice: Invoice) -> RenderedPdf:
    document = invoice_document(invoice=invoice)
    return RenderedPdf(
        f"{document.number}.pdf", document_pdf(document=document, qr_payload=_qr(invoice))
    )


def credit_note_pdf(*, credit_note: CreditNote) -> RenderedPdf:
    document = credit_note_document(credit_note=credit_note)
    return RenderedPdf(
        f"{document.number}.pdf", document_pdf(document=document, qr_payload=_qr(credit_note))
    )


def _qr(issued: Invoice | CreditNote) -> str | None:
    # Imported here: the ZATCA package renders its XML from this module's documents.
    from .zatca.selectors import document_qr_payload

    return document_qr_payload(issued=issued)


def supply_period(*, year: int, month: int) -> tuple[date, date]:
    """The first and last day of the calendar month an invoice bills."""
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


def _line(line: InvoiceLine | CreditNoteLine, currency: str) -> DocumentLine:
    quantity = Decimal(line.quantity)
    unit_price = _exact(line.unit_price, currency)
    net = _exact(line.net_amount, currency)
    description_ar, description_en = line.description_ar, line.description_en
    if round_money(quantity * unit_price, currency) != net:
        description_ar = f"{description_ar} (عدد العمليات: {line.quantity})"
        description_en = f"{description_en} ({line.quantity} operations)"
        quantity, unit_price = Decimal(1), net
    return DocumentLine(
        description_ar=description_ar,
        description_en=description_en,
        quantity=quantity,
        unit_price=unit_price,
        net_amount=net,
        vat_rate=line.vat_rate,
        vat_amount=_exact(line.vat_amount, currency),
    )


def _exact(amount: Decimal, currency: str) -> Decimal:
    """A stored amount (three decimals in the database) at its currency's decimals; one that
    would need rounding is refused, never rounded quietly."""
    if not is_exact(amount, currency):
        raise DocumentError(f"{amount} has more decimals than {currency} allows")
    return round_money(amount, currency)


def _snapshot(snapshot: object, document: Invoice | CreditNote) -> Mapping[str, str]:
    """A party recorded at issue (every issued document has both: CHECK constraint)."""
    if not isinstance(snapshot, dict):
        raise NotRenderable(f"{document} records no parties")
    return snapshot


def _party(profile: Mapping[str, str]) -> TaxParty:
    """A recorded seller or buyer profile (the tax profile fields, by their names)."""
    return TaxParty(
        legal_name_ar=profile["legal_name_ar"],
        legal_name_en=profile["legal_name_en"],
        vat_number=profile["vat_number"],
        cr_number=profile["cr_number"],
        address=NationalAddress(
            building_number=profile["building_number"],
            street=profile["street"],
            district=profile["district"],
            city=profile["city"],
            postal_code=profile["postal_code"],
            country=profile["country_code"],
        ),
    )
