"""Builders of invoice documents for tests: valid by default, figures computed the way the
invoicing app computes them, so a test overrides only what it is about."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from wasla.common.money import round_money
from wasla.invoicing.documents.document import (
    CreditNoteReference,
    DocumentKind,
    DocumentLine,
    InvoiceDocument,
    NationalAddress,
    PaymentInstructions,
    TaxParty,
    vat_breakdown_for,
)

__all__ = ["make_buyer", "make_credit_note", "make_invoice", "make_line", "make_seller"]


def make_seller(**overrides: Any) -> TaxParty:
    fields: dict[str, Any] = {
        "legal_name_ar": "شركة وصلة للمدفوعات",
        "legal_name_en": "Wasla Payments Co.",
        "vat_number": "310122393500003",
        "cr_number": "1010010000",
        "address": NationalAddress(
            building_number="2322",
            street="King Fahd Road",
            district="Al Olaya",
            city="Riyadh",
            postal_code="12214",
            country="SA",
        ),
    }
    return TaxParty(**(fields | overrides))


def make_buyer(**overrides: Any) -> TaxParty:
    fields: dict[str, Any] = {
        "legal_name_ar": "مؤسسة النخيل للتجارة",
        "legal_name_en": "Al Nakheel Trading Est.",
        "vat_number": "300075588700003",
        "cr_number": "4030012345",
        "address": NationalAddress(
            building_number="8228",
            street="Prince Sultan Street",
            district="Al Rawdah",
            city="Jeddah",
            postal_code="23435",
            country="SA",
        ),
    }
    return TaxParty(**(fields | overrides))


def make_line(
    *,
    description_en: str = "Transaction fees",
    description_ar: str = "رسوم العمليات",
    quantity: Decimal = Decimal("1234"),
    unit_price: Decimal = Decimal("1.00"),
    vat_rate: Decimal = Decimal("15.00"),
    currency: str = "SAR",
) -> DocumentLine:
    net = round_money(quantity * unit_price, currency)
    return DocumentLine(
        description_ar=description_ar,
        description_en=description_en,
        quantity=quantity,
        unit_price=unit_price,
        net_amount=net,
        vat_rate=vat_rate,
        vat_amount=round_money(net * vat_rate / 100, currency),
    )


def _totals(lines: tuple[DocumentLine, ...], currency: str, paid: Decimal) -> dict[str, Any]:
    breakdown = vat_breakdown_for(lines=lines, currency=currency)
    subtotal = sum((entry.taxable_amount for entry in breakdown), Decimal("0.00"))
    vat = sum((entry.vat_amount for entry in breakdown), Decimal("0.00"))
    return {
        "lines": lines,
        "vat_breakdown": breakdown,
        "subtotal": subtotal,
        "vat_total": vat,
        "total": subtotal + vat,
        "amount_paid": paid,
        "amount_due": subtotal + vat - paid,
    }


def make_invoice(
    *,
    lines: tuple[DocumentLine, ...] | None = None,
    amount_paid: Decimal = Decimal("0.00"),
    **overrides: Any,
) -> InvoiceDocument:
    """A January 2025 fee invoice: 1,234 fixed fees and one percentage-fee line at 15% VAT."""
    currency = overrides.get("currency", "SAR")
    if lines is None:
        lines = (
            make_line(currency=currency),
            make_line(
                description_en="Percentage fees (1.5% of 18,400.00)",
                description_ar="رسوم نسبية (1.5% من 18,400.00)",
                quantity=Decimal("1"),
                unit_price=Decimal("276.00"),
                currency=currency,
            ),
        )
    fields: dict[str, Any] = {
        "kind": DocumentKind.TAX_INVOICE,
        "number": "INV-000001",
        "issued_at": datetime(2025, 2, 1, 6, 30, 15, tzinfo=UTC),
        "supply_start": date(2025, 1, 1),
        "supply_end": date(2025, 1, 31),
        "currency": currency,
        "seller": make_seller(),
        "buyer": make_buyer(),
        "due_date": date(2025, 2, 15),
        "payment": PaymentInstructions(iban="SA0380000000608010167519", bank_name="Al Rajhi Bank"),
        **_totals(lines, currency, amount_paid),
    }
    return InvoiceDocument(**(fields | overrides))


def make_credit_note(
    *, lines: tuple[DocumentLine, ...] | None = None, **overrides: Any
) -> InvoiceDocument:
    """A credit note for fees of refunded payments on INV-000001."""
    if lines is None:
        lines = (
            make_line(
                description_en="Fee reduction for refunded payments",
                description_ar="تخفيض الرسوم للمدفوعات المستردة",
                quantity=Decimal("12"),
            ),
        )
    fields: dict[str, Any] = {
        "kind": DocumentKind.CREDIT_NOTE,
        "number": "CN-000001",
        "issued_at": datetime(2025, 2, 20, 9, 0, tzinfo=UTC),
        "supply_start": date(2025, 1, 1),
        "supply_end": date(2025, 1, 31),
        "currency": "SAR",
        "seller": make_seller(),
        "buyer": make_buyer(),
        "credit_note_of": CreditNoteReference(
            original_invoice_number="INV-000001",
            reason="Fees reduced for payments refunded after invoicing",
        ),
        **_totals(lines, "SAR", Decimal("0.00")),
    }
    return InvoiceDocument(**(fields | overrides))


def replace(document: InvoiceDocument, **changes: Any) -> InvoiceDocument:
    """`dataclasses.replace`, re-running the document's checks."""
    return dataclasses.replace(document, **changes)
