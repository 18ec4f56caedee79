from django.apps import AppConfig


class ZatcaSimConfig(AppConfig):
    name = "sandbox.zatca_sim"
    label = "sandbox_zatca"
