"""Tax invoices and credit notes as documents: one typed `InvoiceDocument` that every rendering
reads, and its ZATCA QR (`zatca_qr_tlv`). Plain dataclasses: no models, no database."""

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
from wasla.invoicing.documents.qr import QrError, zatca_qr_decode, zatca_qr_fields, zatca_qr_tlv

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
    "vat_breakdown_for",
    "zatca_qr_decode",
    "zatca_qr_fields",
    "zatca_qr_tlv",
]
