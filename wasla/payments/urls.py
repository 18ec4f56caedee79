from django.urls import path

from . import views
from .webhooks.views import webhook_view

urlpatterns = [
    path("webhooks/<str:provider>/<uuid:token>/", webhook_view, name="webhook"),
    # The same endpoint without its trailing slash: a redirect would drop the POST body (or,
    # under DEBUG, fail), and a provider's configured URL may lack the slash.
    path("webhooks/<str:provider>/<uuid:token>", webhook_view, name="webhook-no-slash"),
    path("payments/return/<uuid:attempt_id>/", views.payment_return, name="payment-return"),
    path(
        "payments/return/<uuid:attempt_id>/cancel/",
        views.payment_cancel_link_followed,
        name="payment-cancel-link",
    ),
]
