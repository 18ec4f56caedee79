from django.urls import path, re_path

from sandbox.stripe_sim import billing_pages, billing_views, pages, views

app_name = "sandbox_stripe"

# The official client calls `{base}/v1/...` without trailing slashes; ids are path segments.
urlpatterns = [
    path("v1/checkout/sessions", views.sessions_api, name="sessions"),
    path("v1/checkout/sessions/<str:session_id>", views.session_api, name="session"),
    path(
        "v1/checkout/sessions/<str:session_id>/expire",
        views.session_expire_api,
        name="session-expire",
    ),
    path(
        "v1/checkout/sessions/<str:session_id>/line_items",
        views.session_line_items_api,
        name="session-line-items",
    ),
    path("v1/customers", billing_views.customers_api, name="customers"),
    path("v1/customers/<str:customer_id>", billing_views.customer_api, name="customer"),
    path(
        "v1/customers/<str:customer_id>/payment_methods",
        billing_views.customer_payment_methods_api,
        name="customer-payment-methods",
    ),
    path("v1/payment_methods", billing_views.payment_methods_api, name="payment-methods"),
    path(
        "v1/payment_methods/<str:method_id>",
        billing_views.payment_method_api,
        name="payment-method",
    ),
    path(
        "v1/payment_methods/<str:method_id>/attach",
        billing_views.payment_method_attach_api,
        name="payment-method-attach",
    ),
    path(
        "v1/payment_methods/<str:method_id>/detach",
        billing_views.payment_method_detach_api,
        name="payment-method-detach",
    ),
    path("v1/setup_intents/<str:intent_id>", billing_views.setup_intent_api, name="setup-intent"),
    path("v1/payment_intents", billing_views.payment_intents_api, name="payment-intents"),
    path("v1/payment_intents/<str:intent_id>", views.payment_intent_api, name="payment-intent"),
    path(
        "v1/payment_intents/<str:intent_id>/confirm",
        billing_views.payment_intent_confirm_api,
        name="payment-intent-confirm",
    ),
    path(
        "v1/payment_intents/<str:intent_id>/cancel",
        billing_views.payment_intent_cancel_api,
        name="payment-intent-cancel",
    ),
    path("v1/charges/<str:charge_id>", views.charge_api, name="charge"),
    path("v1/refunds", views.refunds_api, name="refunds"),
    path("v1/refunds/<str:refund_id>", views.refund_api, name="refund"),
    path("v1/webhook_endpoints", views.webhook_endpoints_api, name="webhook-endpoints"),
    path(
        "v1/webhook_endpoints/<str:endpoint_id>",
        views.webhook_endpoint_api,
        name="webhook-endpoint",
    ),
    path("v1/events/<str:event_id>", views.event_api, name="event"),
    re_path(r"^v1/", views.unrecognized_api, name="unrecognized"),
    path("pay/<str:session_id>/", pages.pay_page, name="pay"),
    path("pay/<str:session_id>/3ds/", pages.threeds_page, name="3ds"),
    path("setup/<str:session_id>/", billing_pages.setup_page, name="setup"),
    path("setup/<str:session_id>/3ds/", billing_pages.setup_threeds_page, name="setup-3ds"),
    path(
        "authenticate/<str:intent_id>/",
        billing_pages.authenticate_page,
        name="authenticate",
    ),
    *views.control.urlpatterns(),
]
