from django.apps import AppConfig


class InvoicingConfig(AppConfig):
    name = "wasla.invoicing"
    label = "invoicing"
