from django.urls import path

from . import views, webhooks

urlpatterns = [
    path("webhooks/<str:provider>/<uuid:token>/", webhooks.webhook_view, name="webhook"),
    path("payments/return/<uuid:attempt_id>/", views.payment_return, name="payment-return"),
    path(
        "payments/return/<uuid:attempt_id>/cancel/",
        views.payment_abandoned,
        name="payment-abandon",
    ),
]
