from django.apps import AppConfig


class PaypalSimConfig(AppConfig):
    name = "sandbox.paypal_sim"
    label = "sandbox_paypal"
