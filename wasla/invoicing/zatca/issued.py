"""The UBL XML of an issued invoice or credit note, from the models, through the one mapping to
`InvoiceDocument` that the PDF uses too (wasla/invoicing/rendering.py).

The XML says what was true at issue and nothing later, so the same document always gives the
same bytes (its hash is chained and cleared): payments recorded afterwards and credit notes on
the invoice are not in it. The merchant credit an invoice used at issue
(`amount_credit_applied`, frozen with it) is its prepaid amount.
"""

from __future__ import annotations

from decimal import Decimal

from wasla.invoicing.models import CreditNote, Invoice
from wasla.invoicing.rendering import credit_note_document, invoice_document

from .ubl import ChainLink, ubl_document


def invoice_ubl(*, invoice: Invoice, chain: ChainLink, sar_rate: Decimal | None = None) -> bytes:
    """The unsigned UBL of an issued (or paid) invoice; `sar_rate` for a non-SAR invoice."""
    return ubl_document(
        document=invoice_document(invoice=invoice),
        chain=chain,
        prepaid=invoice.amount_credit_applied,
        sar_rate=sar_rate,
    )


def credit_note_ubl(
    *, credit_note: CreditNote, chain: ChainLink, sar_rate: Decimal | None = None
) -> bytes:
    """The unsigned UBL of an issued credit note; `sar_rate` for a non-SAR credit note."""
    return ubl_document(
        document=credit_note_document(credit_note=credit_note), chain=chain, sar_rate=sar_rate
    )
