"""The invoice admin: amounts to the currency's exponent, the invoice's credit notes and
payments on its page, the parties as issued readable, and nothing of an issued document
editable; the bank transfer form speaks amounts the same way."""

from __future__ import annotations

import re

import pytest

from testsupport.credit_notes import issued_credit_note
from testsupport.invoicing import (
    bank_transfer_at,
    make_invoiceable_tenant,
    paid_payment_at,
    riyadh,
    run_month,
)
from wasla.invoicing.models import CreditNote, Invoice

pytestmark = pytest.mark.django_db


@pytest.fixture
def invoice() -> Invoice:
    tenant = make_invoiceable_tenant()
    for _ in range(3):
        paid_payment_at(tenant, riyadh(2026, 1, 9))
    issued = run_month(tenant, 2026, 1)
    assert issued is not None
    return issued


def field(page: str, name: str) -> str:
    found = re.search(rf'field-{name}">.*?<div class="readonly">(.*?)</div>', page, re.S)
    assert found, f"no field {name}"
    return found.group(1).strip()


def test_invoice_amounts_show_the_currencys_decimals(admin_client, invoice):
    admin_client.cookies["wasla_language"] = "en"

    listing = admin_client.get("/admin/invoicing/invoice/").text
    page = admin_client.get(f"/admin/invoicing/invoice/{invoice.pk}/change/").text

    assert "SAR\xa03.45" in listing  # 3 x 1.00 fee + 15 % VAT
    assert field(page, "subtotal_text") == "SAR\xa03.00"
    assert field(page, "vat_total_text") == "SAR\xa00.45"
    assert field(page, "amount_due_text") == "SAR\xa03.45"
    assert "3.000" not in page
    assert "0.450" not in page


def test_in_arabic_amounts_carry_the_riyal_sign(admin_client, invoice):
    page = admin_client.get(f"/admin/invoicing/invoice/{invoice.pk}/change/").text

    assert 'dir="rtl"' in page
    assert field(page, "total_text").startswith("3.45\xa0ر.س.")
    assert "فاتورة" in page  # the model's name in Arabic


def test_the_invoice_page_lists_its_credit_notes_and_payments(admin_client, invoice):
    admin_client.cookies["wasla_language"] = "en"
    note = issued_credit_note(invoice, issued_at=riyadh(2026, 2, 2), net="1.00")
    invoice.refresh_from_db()
    bank_transfer_at(invoice, riyadh(2026, 2, 3), invoice.amount_due, "TRF-778")

    page = admin_client.get(f"/admin/invoicing/invoice/{invoice.pk}/change/").text
    note_page = admin_client.get(f"/admin/invoicing/creditnote/{note.pk}/change/").text

    assert note.display_number in page
    assert f"/admin/invoicing/creditnote/{note.pk}/change/" in page
    assert "SAR\xa01.15" in page  # the credit note's total, inline
    assert "TRF-778" in page
    assert '<pre class="wasla-json" dir="ltr">' in page  # the parties as issued
    assert field(note_page, "total_text") == "SAR\xa01.15"
    assert 'name="_save"' not in note_page


def test_issued_documents_cannot_be_changed_or_deleted(admin_client, invoice):
    note = issued_credit_note(invoice, issued_at=riyadh(2026, 2, 2))
    for url in (
        f"/admin/invoicing/invoice/{invoice.pk}",
        f"/admin/invoicing/creditnote/{note.pk}",
    ):
        assert admin_client.post(f"{url}/change/", {}).status_code == 403
        assert admin_client.get(f"{url}/delete/").status_code == 403
    assert CreditNote.objects.filter(pk=note.pk).exists()


def test_invoices_filter_by_issue_date_and_search_by_tenant(admin_client, invoice):
    admin_client.cookies["wasla_language"] = "en"
    other = run_month(make_invoiceable_tenant(), 2026, 1)

    since = "2026-02-01T00:00:00%2B03:00"
    by_date = admin_client.get(f"/admin/invoicing/invoice/?issued_at__gte={since}").text
    searched = admin_client.get(f"/admin/invoicing/invoice/?q={invoice.tenant.slug}").text

    assert invoice.display_number in by_date
    assert invoice.display_number in searched
    assert other is None or other.display_number not in searched


def test_the_transfer_form_states_the_amount_due_in_the_currency(admin_client, invoice):
    admin_client.cookies["wasla_language"] = "en"

    page = admin_client.get(f"/admin/invoicing/invoice/{invoice.pk}/record-payment/").text

    assert f"Invoice {invoice.display_number}: SAR\xa03.45 due." in page
