from django.urls import path

from . import views

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
    path("gateways/<str:provider>/", views.GatewayApi.as_view(), name="gateway"),
    path("ledger/entries/", views.LedgerEntryListApi.as_view(), name="ledger-entry-list"),
    path("settlements/", views.SettlementListApi.as_view(), name="settlement-list"),
    path("reports/monthly/", views.MonthlyReportApi.as_view(), name="report-monthly"),
]
