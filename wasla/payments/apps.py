from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "wasla.payments"
    label = "payments"
