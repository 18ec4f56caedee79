"""Tax invoices and credit notes as documents: one typed `InvoiceDocument`, its ZATCA QR
(`zatca_qr_tlv`) and its bilingual PDF (`document_pdf`). Plain dataclasses in, bytes and
strings out: no models, no database."""

from fatoora.tlv import QrError, zatca_qr_decode
from wasla.invoicing.documents.document import (
    CreditNoteReference,
    DocumentError,
    DocumentKind,
    DocumentLine,
    InvoiceDocument,
    NationalAddress,
    PaymentInstructions,
    TaxParty,
    VatBreakdown,
    vat_breakdown_for,
)
from wasla.invoicing.documents.pdf import document_html, document_pdf
from wasla.invoicing.documents.qr import zatca_qr_fields, zatca_qr_tlv

__all__ = [
    "CreditNoteReference",
    "DocumentError",
    "DocumentKind",
    "DocumentLine",
    "InvoiceDocument",
    "NationalAddress",
    "PaymentInstructions",
    "QrError",
    "TaxParty",
    "VatBreakdown",
    "document_html",
    "document_pdf",
    "vat_breakdown_for",
    "zatca_qr_decode",
    "zatca_qr_fields",
    "zatca_qr_tlv",
]
