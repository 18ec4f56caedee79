"""The portal's money pages: overview, payments and refunds, settlements, invoices and credit
notes (the CSV exports have their own urls_exports)."""

from django.urls import path

from . import invoices, overview, payments, settlements

urlpatterns = [
    path("", overview.overview_page, name="overview"),
    path("payments/", payments.payment_list_page, name="payments"),
    path("payments/<uuid:payment_id>/", payments.payment_detail_page, name="payment"),
    path(
        "payments/<uuid:payment_id>/refund/",
        payments.payment_refund_page,
        name="payment_refund",
    ),
    path(
        "payments/<uuid:payment_id>/refund/confirm/",
        payments.payment_refund_confirm_page,
        name="payment_refund_confirm",
    ),
    path("settlements/", settlements.settlement_months_page, name="settlements"),
    path(
        "settlements/<int:year>/<int:month>/",
        settlements.settlement_month_page,
        name="settlement_month",
    ),
    path("invoices/", invoices.invoice_list_page, name="invoices"),
    path("invoices/<int:invoice_id>/", invoices.invoice_detail_page, name="invoice"),
    path("invoices/<int:invoice_id>/pdf/", invoices.invoice_pdf_download, name="invoice_pdf"),
    path(
        "credit-notes/<int:credit_note_id>/",
        invoices.credit_note_detail_page,
        name="credit_note",
    ),
    path(
        "credit-notes/<int:credit_note_id>/pdf/",
        invoices.credit_note_pdf_download,
        name="credit_note_pdf",
    ),
]
