"""The merchant reads its invoices and credit notes: lists with filters, details with amounts as
strings, the PDFs rendered from the issued documents; another tenant's are 404, drafts are
never shown, bad filters are 400, no token is 401."""

from __future__ import annotations

import re
import subprocess

import pytest
from rest_framework.test import APIClient

from testsupport.credit_notes import issued_credit_note
from testsupport.factories import api_client_for
from testsupport.invoicing import make_invoiceable_tenant, paid_payment_at, riyadh, run_month
from wasla.invoicing.models import CreditNote, Invoice
from wasla.tenants.models import Tenant

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"
_BIDI_MARKS = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _invoiced(tenant: Tenant, year: int, month: int, payments: int = 1) -> Invoice:
    for day in range(1, payments + 1):
        paid_payment_at(tenant, riyadh(year, month, day + 1))
    invoice = run_month(tenant, year, month)
    assert invoice is not None
    return invoice


def _pdf_text(pdf: bytes) -> str:
    text = subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=pdf, check=True, capture_output=True
    ).stdout.decode()
    return _BIDI_MARKS.sub("", text)


@pytest.fixture
def merchant() -> Tenant:
    return make_invoiceable_tenant()


@pytest.fixture
def client(merchant: Tenant) -> APIClient:
    return api_client_for(merchant)


def test_the_list_shows_issued_and_paid_invoices_newest_period_first(merchant, client):
    january = _invoiced(merchant, 2026, 1, payments=2)
    february = _invoiced(merchant, 2026, 2)
    Invoice.objects.create(tenant=merchant, year=2026, month=3)  # a draft: never listed
    _invoiced(make_invoiceable_tenant(), 2026, 1)  # another tenant's

    response = client.get("/api/v1/invoices/")

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    assert [row["number"] for row in body["results"]] == [
        february.display_number,
        january.display_number,
    ]
    row = body["results"][1]
    assert row["id"] == january.pk
    assert (row["year"], row["month"], row["currency"], row["status"]) == (2026, 1, "SAR", "issued")
    assert row["period"] == {"start": "2026-01-01", "end": "2026-01-31"}
    assert (row["subtotal"], row["vat"], row["total"]) == ("2.00", "0.30", "2.30")
    assert (row["amount_paid"], row["amount_due"]) == ("0.00", "2.30")
    assert row["total_operations"] == 2
    assert row["due_date"] == "2026-02-15"
    assert row["issued_at"] == "2026-02-01T00:00:00+03:00"  # the run, at the month's end
    assert row["paid_at"] is None
    assert row["lines"] == [
        {
            "description_ar": "رسوم وصلة على المدفوعات",
            "description_en": "Wasla payment fees",
            "quantity": 2,
            "vat_rate": "15.00",
            "unit_price": "1.00",
            "net": "2.00",
            "vat": "0.30",
        }
    ]
    assert row["credit_notes"] == []


def test_the_list_filters_by_period_and_status(merchant, client):
    _invoiced(merchant, 2025, 12)
    january = _invoiced(merchant, 2026, 1)
    february = _invoiced(merchant, 2026, 2)
    Invoice.objects.filter(pk=february.pk).update(
        status=Invoice.Status.PAID,
        amount_paid=february.total,
        amount_due=0,
        paid_at=riyadh(2026, 3, 2),
    )

    def numbers(query: str) -> list[str]:
        response = client.get("/api/v1/invoices/" + query)
        assert response.status_code == 200, response.content
        return [row["number"] for row in response.json()["results"]]

    assert numbers("?year=2026&month=1") == [january.display_number]
    assert numbers("?year=2026") == [february.display_number, january.display_number]
    assert numbers("?month=2") == [february.display_number]
    assert numbers("?status=paid") == [february.display_number]
    assert numbers("?status=issued&year=2026") == [january.display_number]
    assert numbers("?year=2024") == []
    paid = client.get(f"/api/v1/invoices/{february.pk}/").json()
    assert (paid["status"], paid["amount_paid"], paid["amount_due"]) == ("paid", "1.15", "0.00")
    assert paid["paid_at"] == "2026-03-02T00:00:00+03:00"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("?year=26", "year"),
        ("?year=20266", "year"),
        ("?year=1999", "year"),
        ("?year=2026.0", "year"),
        ("?year=%D9%A2%D9%A0%D9%A2%D9%A6", "year"),  # Arabic-Indic digits
        ("?year=+2026", "year"),
        ("?month=0", "month"),
        ("?month=13", "month"),
        ("?month=-1", "month"),
        ("?month=one", "month"),
        ("?status=draft", "status"),
        ("?status=void", "status"),
        ("?status=PAID", "status"),
        ("?year=2026&year=2025", "year"),
        ("?stauts=paid", "stauts"),
    ],
)
def test_a_bad_filter_is_a_400_problem(client, query, field):
    response = client.get("/api/v1/invoices/" + query)
    assert response.status_code == 400
    assert response["Content-Type"] == PROBLEM
    assert field in response.json()["errors"]


def test_the_detail_answers_the_invoice_and_its_credit_notes(merchant, client):
    invoice = _invoiced(merchant, 2026, 1, payments=2)
    note = issued_credit_note(invoice, issued_at=riyadh(2026, 2, 10))
    CreditNote.objects.create(tenant=merchant, invoice=invoice, reason="draft: not shown")

    response = client.get(f"/api/v1/invoices/{invoice.pk}/")

    assert response.status_code == 200
    body = response.json()
    assert body["number"] == invoice.display_number
    assert body["total"] == "2.30"
    assert body["credit_notes"] == [{"id": note.pk, "number": note.display_number}]


def test_the_invoice_pdf_is_an_attachment_rendered_from_the_issued_invoice(merchant, client):
    invoice = _invoiced(merchant, 2026, 1, payments=2)

    response = client.get(f"/api/v1/invoices/{invoice.pk}/pdf/", HTTP_ACCEPT="application/pdf")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        f'attachment; filename="{invoice.display_number}.pdf"'
    )
    assert response.content.startswith(b"%PDF")
    text = _pdf_text(response.content)
    assert invoice.display_number in text
    assert "2.30" in text


def test_credit_notes_list_detail_and_pdf(merchant, client):
    invoice = _invoiced(merchant, 2026, 1, payments=2)
    first = issued_credit_note(invoice, issued_at=riyadh(2026, 2, 10), net="0.50")
    second = issued_credit_note(invoice, issued_at=riyadh(2026, 2, 11))
    CreditNote.objects.create(tenant=merchant, invoice=invoice, reason="draft: not shown")

    listed = client.get("/api/v1/credit-notes/").json()
    assert [row["number"] for row in listed["results"]] == [
        second.display_number,
        first.display_number,
    ]
    detail = client.get(f"/api/v1/credit-notes/{first.pk}/")
    assert detail.status_code == 200
    body = detail.json()
    assert (body["invoice"], body["invoice_number"]) == (invoice.pk, invoice.display_number)
    assert (body["subtotal"], body["vat"], body["total"]) == ("0.50", "0.08", "0.58")
    assert (body["status"], body["currency"]) == ("issued", "SAR")
    assert body["reason"] == "Fees reduced for payments refunded after invoicing"
    assert body["lines"][0]["net"] == "0.50"

    pdf = client.get(f"/api/v1/credit-notes/{first.pk}/pdf/")
    assert pdf.status_code == 200
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf["Content-Disposition"] == f'attachment; filename="{first.display_number}.pdf"'
    assert pdf.content.startswith(b"%PDF")
    text = _pdf_text(pdf.content)
    assert first.display_number in text
    assert invoice.display_number in text


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/invoices/{invoice}/",
        "/api/v1/invoices/{invoice}/pdf/",
        "/api/v1/credit-notes/{note}/",
        "/api/v1/credit-notes/{note}/pdf/",
    ],
)
def test_another_tenants_documents_are_404(client, path):
    invoice = _invoiced(make_invoiceable_tenant(), 2026, 1)
    note = issued_credit_note(invoice, issued_at=riyadh(2026, 2, 10))

    response = client.get(path.format(invoice=invoice.pk, note=note.pk))

    assert response.status_code == 404
    assert response["Content-Type"] == PROBLEM
    assert response.json()["type"].endswith("/not-found")


@pytest.mark.parametrize("suffix", ["", "pdf/"])
def test_drafts_are_404(merchant, client, suffix):
    draft = Invoice.objects.create(tenant=merchant, year=2026, month=1)
    invoice = _invoiced(merchant, 2026, 2)
    note = CreditNote.objects.create(tenant=merchant, invoice=invoice, reason="draft")

    assert client.get(f"/api/v1/invoices/{draft.pk}/{suffix}").status_code == 404
    assert client.get(f"/api/v1/credit-notes/{note.pk}/{suffix}").status_code == 404
    assert client.get(f"/api/v1/invoices/{10**30}/{suffix}").status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/invoices/",
        "/api/v1/invoices/1/",
        "/api/v1/invoices/1/pdf/",
        "/api/v1/credit-notes/",
        "/api/v1/credit-notes/1/",
        "/api/v1/credit-notes/1/pdf/",
    ],
)
def test_without_a_token_it_is_401(path):
    response = APIClient().get(path + "?year=nonsense")  # 401 before 400
    assert response.status_code == 401
    assert response["Content-Type"] == PROBLEM
