"""Wasla's invoices to the merchant and its credit notes, in the portal: the list, one
document with its lines, VAT, credits, payments and ZATCA status, its PDF (the one rendering
the API serves), and how to pay what is due — the card on file, the hosted card page when a
payment waits for the merchant, or a bank transfer quoting the invoice number."""

from __future__ import annotations

from typing import Any

from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from wasla.common.problems import NotFound
from wasla.invoicing.banks import UnknownBank, bank_name_for_iban
from wasla.invoicing.billing_cards import billing_card_get
from wasla.invoicing.collection_status import invoice_collection_state, pay_token_make
from wasla.invoicing.hosted_payment import payable_try
from wasla.invoicing.models import CreditNote, Invoice
from wasla.invoicing.rendering import RenderedPdf, credit_note_pdf, invoice_pdf
from wasla.invoicing.selectors import (
    credit_note_get,
    credit_note_list,
    invoice_get,
    invoice_list,
)

from .access import member_view

PAGE_SIZE = 50


@require_GET
@member_view()
def invoice_list_page(request: HttpRequest) -> HttpResponse:
    tenant = request.tenant  # type: ignore[attr-defined]
    invoices = Paginator(invoice_list(tenant=tenant), PAGE_SIZE).get_page(request.GET.get("page"))
    notes = Paginator(credit_note_list(tenant=tenant), PAGE_SIZE).get_page(
        request.GET.get("notes_page")
    )
    rows = [(invoice, invoice_collection_state(invoice).status) for invoice in invoices]
    context = {"invoices": invoices, "rows": rows, "notes": notes}
    return render(request, "portal/invoices/list.html", context)


def _invoice(request: HttpRequest, invoice_id: int) -> Invoice:
    try:
        return invoice_get(tenant=request.tenant, invoice_id=invoice_id)  # type: ignore[attr-defined]
    except NotFound:
        raise Http404("No such invoice.") from None


def _credit_note(request: HttpRequest, credit_note_id: int) -> CreditNote:
    try:
        return credit_note_get(tenant=request.tenant, credit_note_id=credit_note_id)  # type: ignore[attr-defined]
    except NotFound:
        raise Http404("No such credit note.") from None


def _zatca_status(document: Invoice | CreditNote) -> str:
    zatca = getattr(document, "zatca", None)  # none before the document is registered
    return zatca.status if zatca is not None else ""


def _bank_transfer(invoice: Invoice) -> dict[str, str] | None:
    """Wasla's IBAN as printed on the invoice (its seller snapshot) and its bank."""
    iban = str((invoice.seller_snapshot or {}).get("iban") or "")
    if not iban:
        return None
    try:
        bank = bank_name_for_iban(iban)
    except UnknownBank:
        bank = ""
    return {
        "iban": iban,
        "bank": bank,
        "beneficiary": str((invoice.seller_snapshot or {}).get("legal_name_en") or ""),
        "beneficiary_ar": str((invoice.seller_snapshot or {}).get("legal_name_ar") or ""),
        "reference": invoice.display_number,
    }


@require_GET
@member_view()
def invoice_detail_page(request: HttpRequest, invoice_id: int) -> HttpResponse:
    invoice = _invoice(request, invoice_id)
    owes = invoice.status == Invoice.Status.ISSUED and invoice.amount_due > 0
    pay_url = (
        reverse("billing-pay", args=[pay_token_make(invoice)])
        if owes and payable_try(invoice) is not None
        else None
    )
    context: dict[str, Any] = {
        "invoice": invoice,
        "lines": list(invoice.lines.all()),
        "payments": list(invoice.payments.all()),
        "credit_notes": list(invoice.credit_notes.all()),
        "collection": invoice_collection_state(invoice).status,
        "zatca_status": _zatca_status(invoice),
        "owes": owes,
        "pay_url": pay_url,
        "bank": _bank_transfer(invoice) if owes else None,
        "card": billing_card_get(tenant=request.tenant),  # type: ignore[attr-defined]
    }
    return render(request, "portal/invoices/detail.html", context)


@require_GET
@member_view()
def credit_note_detail_page(request: HttpRequest, credit_note_id: int) -> HttpResponse:
    note = _credit_note(request, credit_note_id)
    context = {
        "note": note,
        "lines": list(note.lines.all()),
        "zatca_status": _zatca_status(note),
    }
    return render(request, "portal/invoices/credit_note.html", context)


def _attachment(pdf: RenderedPdf) -> HttpResponse:
    response = HttpResponse(pdf.content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{pdf.filename}"'
    return response


@require_GET
@member_view()
def invoice_pdf_download(request: HttpRequest, invoice_id: int) -> HttpResponse:
    return _attachment(invoice_pdf(invoice=_invoice(request, invoice_id)))


@require_GET
@member_view()
def credit_note_pdf_download(request: HttpRequest, credit_note_id: int) -> HttpResponse:
    return _attachment(credit_note_pdf(credit_note=_credit_note(request, credit_note_id)))
