"""Tax invoices and credit notes as documents: one typed `InvoiceDocument` that every rendering
reads. Plain dataclasses: no models, no database."""

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

__all__ = [
    "CreditNoteReference",
    "DocumentError",
    "DocumentKind",
    "DocumentLine",
    "InvoiceDocument",
    "NationalAddress",
    "PaymentInstructions",
    "TaxParty",
    "VatBreakdown",
    "vat_breakdown_for",
]
