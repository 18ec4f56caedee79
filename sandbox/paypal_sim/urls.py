from django.urls import path, re_path

from sandbox.paypal_sim import views

app_name = "sandbox_paypal"

# Real clients call `{base}/v2/checkout/orders` without a trailing slash; both spellings work.
urlpatterns = [
    re_path(r"^v1/oauth2/token/?$", views.token_api, name="token"),
    re_path(r"^v1/notifications/webhooks/?$", views.webhooks_api, name="webhooks"),
    re_path(
        r"^v1/notifications/webhooks/(?P<webhook_id>[^/]+)/?$",
        views.webhook_api,
        name="webhook",
    ),
    re_path(
        r"^v1/notifications/webhooks-events/(?P<event_id>[^/]+)/?$",
        views.event_api,
        name="event",
    ),
    re_path(
        r"^v1/notifications/webhooks-events/(?P<event_id>[^/]+)/resend/?$",
        views.event_resend_api,
        name="event_resend",
    ),
    re_path(
        r"^v1/notifications/verify-webhook-signature/?$",
        views.verify_signature_api,
        name="verify_signature",
    ),
    re_path(r"^v2/checkout/orders/?$", views.orders_api, name="orders"),
    re_path(r"^v2/checkout/orders/(?P<order_id>[^/]+)/?$", views.order_api, name="order"),
    re_path(
        r"^v2/checkout/orders/(?P<order_id>[^/]+)/capture/?$",
        views.order_capture_api,
        name="order_capture",
    ),
    re_path(r"^v2/payments/captures/(?P<capture_id>[^/]+)/?$", views.capture_api, name="capture"),
    re_path(
        r"^v2/payments/captures/(?P<capture_id>[^/]+)/refund/?$",
        views.capture_refund_api,
        name="capture_refund",
    ),
    re_path(r"^v2/payments/refunds/(?P<refund_id>[^/]+)/?$", views.refund_api, name="refund"),
    path("checkoutnow/<str:order_id>/", views.checkout_page, name="checkout"),
    re_path(r"^certs/(?P<cert_id>[A-Za-z0-9-]+)\.pem$", views.certificate_view, name="certificate"),
    *views.control.urlpatterns(),
]
