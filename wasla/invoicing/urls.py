"""Wasla's own billing endpoints: the billing webhook and the hosted invoice payment page."""

from django.urls import path

from .billing_pages import billing_pay_page, billing_pay_return
from .billing_webhook_view import billing_webhook_view

urlpatterns = [
    path("webhooks/billing/stripe/", billing_webhook_view, name="billing-webhook"),
    path("billing/invoices/<str:token>/pay/", billing_pay_page, name="billing-pay"),
    path("billing/invoices/<str:token>/pay/return/", billing_pay_return, name="billing-pay-return"),
]
