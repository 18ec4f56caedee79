"""Issued invoices and credit notes, made by the monthly run, as the one `InvoiceDocument` every
rendering reads: field by field, drafts refused, and the PDF made from it read back."""

from __future__ import annotations

import re
import subprocess
from datetime import date
from decimal import Decimal

import pytest
from django.db import transaction

from testsupport.credit_notes import issued_credit_note
from testsupport.invoicing import (
    TAX_PROFILE,
    make_invoiceable_tenant,
    paid_payment_at,
    riyadh,
    run_month,
)
from wasla.invoicing.banks import UnknownBank, bank_name_for_iban
from wasla.invoicing.documents import (
    CreditNoteReference,
    DocumentKind,
    NationalAddress,
    TaxParty,
    VatBreakdown,
    document_pdf,
)
from wasla.invoicing.models import CreditNote, Invoice, InvoiceLine
from wasla.invoicing.rendering import (
    NotRenderable,
    credit_note_document,
    invoice_document,
    invoice_pdf,
    supply_period,
)
from wasla.invoicing.services import invoice_issue

pytestmark = pytest.mark.django_db

WASLA = TaxParty(
    legal_name_ar="شركة وصلة للمدفوعات",
    legal_name_en="Wasla Payments Co.",
    vat_number="300000000000003",
    cr_number="1010000000",
    address=NationalAddress(
        building_number="1234",
        street="King Fahd Road",
        district="Al Olaya",
        city="Riyadh",
        postal_code="12211",
        country="SA",
    ),
)
NAKHEEL = TaxParty(
    legal_name_ar=TAX_PROFILE["legal_name_ar"],
    legal_name_en=TAX_PROFILE["legal_name_en"],
    vat_number=TAX_PROFILE["vat_number"],
    cr_number=TAX_PROFILE["cr_number"],
    address=NationalAddress(
        building_number=TAX_PROFILE["building_number"],
        street=TAX_PROFILE["street"],
        district=TAX_PROFILE["district"],
        city=TAX_PROFILE["city"],
        postal_code=TAX_PROFILE["postal_code"],
        country=TAX_PROFILE["country_code"],
    ),
)
_BIDI_MARKS = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _january_invoice(payments: int = 2) -> Invoice:
    tenant = make_invoiceable_tenant()
    for day in range(1, payments + 1):
        paid_payment_at(tenant, riyadh(2026, 1, 10 + day))
    invoice = run_month(tenant, 2026, 1)
    assert invoice is not None
    return Invoice.objects.get(pk=invoice.pk)


def _pdf_text(pdf: bytes) -> str:
    text = subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=pdf, check=True, capture_output=True
    ).stdout.decode()
    return _BIDI_MARKS.sub("", text)


def test_an_issued_invoice_maps_field_by_field():
    invoice = _january_invoice(payments=2)

    document = invoice_document(invoice=invoice)

    assert document.kind is DocumentKind.TAX_INVOICE
    assert document.number == invoice.display_number == f"INV-{invoice.number:06d}"
    assert document.issued_at == invoice.issued_at == riyadh(2026, 2, 1)
    assert (document.supply_start, document.supply_end) == (date(2026, 1, 1), date(2026, 1, 31))
    assert document.currency == "SAR"
    assert document.seller == WASLA
    assert document.buyer == NAKHEEL
    assert len(document.lines) == 1
    line = document.lines[0]
    assert (line.description_en, line.description_ar) == (
        "Wasla payment fees",
        "رسوم وصلة على المدفوعات",
    )
    assert (line.quantity, line.unit_price, line.net_amount) == (
        2,
        Decimal("1.00"),
        Decimal("2.00"),
    )
    assert (line.vat_rate, line.vat_amount) == (Decimal("15.00"), Decimal("0.30"))
    assert document.vat_breakdown == (
        VatBreakdown(
            taxable_amount=Decimal("2.00"), rate=Decimal("15.00"), vat_amount=Decimal("0.30")
        ),
    )
    assert (document.subtotal, document.vat_total, document.total) == (
        Decimal("2.00"),
        Decimal("0.30"),
        Decimal("2.30"),
    )
    assert (document.amount_paid, document.amount_due) == (Decimal("0.00"), Decimal("2.30"))
    assert document.due_date == invoice.due_date == date(2026, 2, 15)
    assert document.payment is not None
    assert document.payment.iban == "SA0380000000608010167519"
    assert document.payment.bank_name == "Al Rajhi Bank"
    assert document.credit_note_of is None


def test_a_paid_invoice_shows_what_was_paid():
    invoice = _january_invoice(payments=1)
    Invoice.objects.filter(pk=invoice.pk).update(
        status=Invoice.Status.PAID,
        amount_paid=invoice.total,
        amount_due=Decimal(0),
        paid_at=riyadh(2026, 2, 3),
    )

    document = invoice_document(invoice=Invoice.objects.get(pk=invoice.pk))

    assert (document.total, document.amount_paid, document.amount_due) == (
        Decimal("1.15"),
        Decimal("1.15"),
        Decimal("0.00"),
    )


def test_an_averaged_unit_price_is_shown_as_one_unit_at_the_exact_net():
    """Three fees of 1.00 SAR in all: 0.33 each on average, but 3 x 0.33 is not 1.00."""
    invoiceable = make_invoiceable_tenant()
    with transaction.atomic():
        draft = Invoice.objects.create(
            tenant=invoiceable,
            year=2026,
            month=3,
            total_operations=3,
            subtotal=Decimal("1.00"),
            vat_total=Decimal("0.15"),
            total=Decimal("1.15"),
            amount_due=Decimal("1.15"),
        )
        InvoiceLine.objects.create(
            tenant=invoiceable,
            invoice=draft,
            description_ar="رسوم وصلة على المدفوعات",
            description_en="Wasla payment fees",
            quantity=3,
            unit_price=Decimal("0.33"),
            net_amount=Decimal("1.00"),
            vat_rate=Decimal("15.00"),
            vat_amount=Decimal("0.15"),
        )
        invoice_issue(invoice=draft, tenant=invoiceable, now=riyadh(2026, 4, 1))

    line = invoice_document(invoice=Invoice.objects.get(pk=draft.pk)).lines[0]

    assert (line.quantity, line.unit_price, line.net_amount) == (
        1,
        Decimal("1.00"),
        Decimal("1.00"),
    )
    assert line.description_en == "Wasla payment fees (3 operations)"
    assert line.description_ar == "رسوم وصلة على المدفوعات (عدد العمليات: 3)"


def test_an_issued_credit_note_names_its_invoice_and_reason():
    invoice = _january_invoice(payments=2)
    note = issued_credit_note(invoice, issued_at=riyadh(2026, 2, 10, 9), net="1.00")

    document = credit_note_document(credit_note=CreditNote.objects.get(pk=note.pk))

    assert document.kind is DocumentKind.CREDIT_NOTE
    assert document.number == f"CN-{note.number:06d}"
    assert document.issued_at == riyadh(2026, 2, 10, 9)
    assert (document.supply_start, document.supply_end) == (date(2026, 1, 1), date(2026, 1, 31))
    assert document.credit_note_of == CreditNoteReference(
        original_invoice_number=invoice.display_number,
        reason="Fees reduced for payments refunded after invoicing",
    )
    assert (document.seller, document.buyer) == (WASLA, NAKHEEL)
    assert (document.subtotal, document.vat_total, document.total) == (
        Decimal("1.00"),
        Decimal("0.15"),
        Decimal("1.15"),
    )
    assert (document.amount_paid, document.amount_due) == (Decimal("0.00"), Decimal("1.15"))
    assert document.due_date is None
    assert document.payment is None
    assert document.lines[0].description_en == "Fee reduction for refunded payments"


def test_drafts_and_void_drafts_are_not_rendered(tenant):
    draft = Invoice.objects.create(tenant=tenant, year=2026, month=5)
    with pytest.raises(NotRenderable, match="draft"):
        invoice_document(invoice=draft)
    Invoice.objects.filter(pk=draft.pk).update(status=Invoice.Status.VOID)
    with pytest.raises(NotRenderable, match="void"):
        invoice_document(invoice=Invoice.objects.get(pk=draft.pk))
    issued = _january_invoice(payments=1)
    note = CreditNote.objects.create(
        tenant_id=issued.tenant_id, invoice=issued, currency="SAR", reason="refund"
    )
    with pytest.raises(NotRenderable, match="draft"):
        credit_note_document(credit_note=note)


def test_the_pdf_of_the_mapped_invoice_shows_its_number_and_totals():
    invoice = _january_invoice(payments=2)

    rendered = invoice_pdf(invoice=invoice)
    text = _pdf_text(rendered.content)

    assert rendered.filename == f"{invoice.display_number}.pdf"
    assert rendered.content.startswith(b"%PDF")
    assert invoice.display_number in text
    for amount in ("2.00", "0.30", "2.30"):
        assert amount in text
    assert "SA0380000000608010167519" in text.replace(" ", "")
    assert TAX_PROFILE["legal_name_en"] in text


def test_the_pdf_of_a_credit_note_shows_its_number_and_its_invoice():
    invoice = _january_invoice(payments=1)
    note = issued_credit_note(invoice, issued_at=riyadh(2026, 2, 10), net="0.50")

    text = _pdf_text(document_pdf(document=credit_note_document(credit_note=note)))

    assert note.display_number in text
    assert invoice.display_number in text
    assert "0.58" in text  # 0.50 + 0.075 VAT, rounded half up


def test_the_supply_period_is_the_calendar_month():
    assert supply_period(year=2028, month=2) == (date(2028, 2, 1), date(2028, 2, 29))
    assert supply_period(year=2026, month=12) == (date(2026, 12, 1), date(2026, 12, 31))


def test_the_bank_is_read_from_the_iban(settings):
    assert bank_name_for_iban("SA0380000000608010167519") == "Al Rajhi Bank"
    with pytest.raises(UnknownBank):
        bank_name_for_iban("SA4499000000608010167519")
    with pytest.raises(UnknownBank):
        bank_name_for_iban("GB33BUKB20201555555555")
    # The IBAN an invoice records at its issue is the one whose bank it prints.
    settings.WASLA_SELLER = {**settings.WASLA_SELLER, "iban": "SA4499000000608010167519"}
    invoice = _january_invoice(payments=1)
    with pytest.raises(UnknownBank, match="'99'"):
        invoice_document(invoice=invoice)
