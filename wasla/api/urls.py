from django.urls import path

from . import billing_views, invoice_views, views

urlpatterns = [
    path("orders/", views.OrderListCreateApi.as_view(), name="order-list"),
    path("orders/<uuid:order_id>/", views.OrderDetailApi.as_view(), name="order-detail"),
    path("payments/", views.PaymentListCreateApi.as_view(), name="payment-list"),
    path("payments/<uuid:payment_id>/", views.PaymentDetailApi.as_view(), name="payment-detail"),
    path(
        "payments/<uuid:payment_id>/cancel/",
        views.PaymentCancelApi.as_view(),
        name="payment-cancel",
    ),
    path(
        "payments/<uuid:payment_id>/collect/",
        views.PaymentCollectApi.as_view(),
        name="payment-collect",
    ),
    path(
        "payments/<uuid:payment_id>/refunds/",
        views.PaymentRefundsApi.as_view(),
        name="payment-refunds",
    ),
    path("refunds/", views.RefundListApi.as_view(), name="refund-list"),
    path("gateways/<str:provider>/", views.GatewayApi.as_view(), name="gateway"),
    path("ledger/entries/", views.LedgerEntryListApi.as_view(), name="ledger-entry-list"),
    path("settlements/", views.SettlementListApi.as_view(), name="settlement-list"),
    path("reports/monthly/", views.MonthlyReportApi.as_view(), name="report-monthly"),
    path("billing/card/", billing_views.BillingCardApi.as_view(), name="billing-card"),
    path(
        "billing/card/setup/",
        billing_views.BillingCardSetupApi.as_view(),
        name="billing-card-setup",
    ),
    path("invoices/", invoice_views.InvoiceListApi.as_view(), name="invoice-list"),
    path(
        "invoices/<int:invoice_id>/",
        invoice_views.InvoiceDetailApi.as_view(),
        name="invoice-detail",
    ),
    path(
        "invoices/<int:invoice_id>/pdf/", invoice_views.InvoicePdfApi.as_view(), name="invoice-pdf"
    ),
    path(
        "invoices/<int:invoice_id>/xml/", invoice_views.InvoiceXmlApi.as_view(), name="invoice-xml"
    ),
    path("credit-notes/", invoice_views.CreditNoteListApi.as_view(), name="credit-note-list"),
    path(
        "credit-notes/<int:credit_note_id>/",
        invoice_views.CreditNoteDetailApi.as_view(),
        name="credit-note-detail",
    ),
    path(
        "credit-notes/<int:credit_note_id>/pdf/",
        invoice_views.CreditNotePdfApi.as_view(),
        name="credit-note-pdf",
    ),
    path(
        "credit-notes/<int:credit_note_id>/xml/",
        invoice_views.CreditNoteXmlApi.as_view(),
        name="credit-note-xml",
    ),
]
