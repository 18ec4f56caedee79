from django.apps import AppConfig


class ZatcaConfig(AppConfig):
    name = "wasla.invoicing.zatca"
    label = "zatca"
    verbose_name = "ZATCA e-invoicing"
