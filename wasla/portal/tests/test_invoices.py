"""Invoices and credit notes in the portal: the list (status, total, amount due), an invoice's
page (lines, VAT, credits, payments, ZATCA status, how to pay: the card on file, the hosted
card page when a payment waits, a bank transfer), the PDFs the API serves; fixed statements."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from testsupport.billing import ISSUED, issued_invoice
from testsupport.credit_notes import issued_credit_note
from testsupport.invoicing import (
    bank_transfer_at,
    make_invoiceable_tenant,
    paid_payment_at,
    riyadh,
    run_month,
)
from testsupport.portal import member_client, sar
from wasla.invoicing.models import BillingCard, CollectionTry, Invoice

pytestmark = pytest.mark.django_db


@pytest.fixture
def store():
    return make_invoiceable_tenant()


def test_the_list_shows_invoices_and_credit_notes(store):
    invoice = issued_invoice(store)
    note = issued_credit_note(invoice, issued_at=riyadh(2026, 2, 5), net="0.50")
    answer = member_client(store).get("/merchant/invoices/")
    assert answer.status_code == 200
    html = answer.content.decode()
    assert invoice.display_number in html
    assert note.display_number in html
    assert sar("1.15") in html  # total
    assert [i.pk for i, _ in answer.context["rows"]] == [invoice.pk]
    assert f'href="/merchant/invoices/{invoice.pk}/"' in html
    assert f'href="/merchant/credit-notes/{note.pk}/"' in html


def test_an_unpaid_invoice_says_how_to_pay(store):
    invoice = issued_invoice(store)
    answer = member_client(store).get(f"/merchant/invoices/{invoice.pk}/")
    assert answer.status_code == 200
    html = answer.content.decode()
    assert "Fee" in html or "fee" in html  # the line's English description
    assert sar("1.00") in html
    assert sar("0.15") in html
    assert sar("1.15") in html
    assert 'id="bank-transfer"' in html
    assert "SA0380000000608010167519" in html
    assert "Al Rajhi Bank" in html
    assert invoice.display_number in html  # the reference to quote
    assert "No card on file" in html
    assert "pay-by-card" not in html  # no payment waits for the merchant
    assert "Not yet sent to ZATCA" in html or "Waiting for ZATCA" in html


def test_a_payment_waiting_for_authentication_links_the_hosted_page(store):
    invoice = issued_invoice(store)
    BillingCard.objects.create(
        tenant=store,
        stripe_customer_id="cus_1",
        payment_method_id="pm_1",
        brand="visa",
        last4="4242",
        exp_month=12,
        exp_year=2030,
        saved_at=ISSUED,
    )
    CollectionTry.objects.create(
        tenant=store,
        invoice=invoice,
        number=1,
        status=CollectionTry.Status.REQUIRES_AUTHENTICATION,
        attempted_at=ISSUED,
    )
    client = member_client(store)
    html = client.get(f"/merchant/invoices/{invoice.pk}/").content.decode()
    assert "VISA ending 4242" in html
    link = html.split('id="pay-by-card" href="')[1].split('"')[0]
    assert link.startswith("/billing/invoices/")
    hosted = client.get(link)
    assert hosted.status_code == 200
    assert invoice.display_number in hosted.content.decode()


def test_a_paid_invoice_shows_its_payment_and_no_instructions(store):
    invoice = issued_invoice(store)
    bank_transfer_at(invoice, riyadh(2026, 2, 10), Decimal("1.15"), "TRX-778")
    html = member_client(store).get(f"/merchant/invoices/{invoice.pk}/").content.decode()
    assert "TRX-778" in html
    assert "Bank transfer" in html
    assert 'id="how-to-pay"' not in html
    assert Invoice.objects.get(pk=invoice.pk).status == "paid"


def test_the_pdfs_are_the_apis(store):
    invoice = issued_invoice(store)
    note = issued_credit_note(invoice, issued_at=riyadh(2026, 2, 5))
    client = member_client(store)
    pdf = client.get(f"/merchant/invoices/{invoice.pk}/pdf/")
    assert pdf.status_code == 200
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    assert "attachment" in pdf["Content-Disposition"]
    note_page = client.get(f"/merchant/credit-notes/{note.pk}/")
    assert note_page.status_code == 200
    assert invoice.display_number in note_page.content.decode()
    note_pdf = client.get(f"/merchant/credit-notes/{note.pk}/pdf/")
    assert note_pdf.content.startswith(b"%PDF")


def test_arabic_invoice_page(store):
    invoice = issued_invoice(store)
    html = (
        member_client(store, language="ar")
        .get(f"/merchant/invoices/{invoice.pk}/")
        .content.decode()
    )
    assert '<html lang="ar" dir="rtl">' in html
    assert "ر.س." in html


def _statements(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/merchant/invoices/").status_code == 200
    return len(queries)


def test_the_list_costs_the_same_for_3_and_30_invoices(store):
    client = member_client(store)
    months = [(2023 + n // 12, 1 + n % 12) for n in range(30)]
    for year, month in months[:3]:
        paid_payment_at(store, riyadh(year, month, 10))
        invoice = run_month(store, year, month)
        assert invoice is not None
        issued_credit_note(invoice, issued_at=riyadh(year, month, 28))
    few = _statements(client)
    for year, month in months[3:]:
        paid_payment_at(store, riyadh(year, month, 10))
        invoice = run_month(store, year, month)
        assert invoice is not None
        issued_credit_note(invoice, issued_at=riyadh(year, month, 28))
    assert _statements(client) == few
