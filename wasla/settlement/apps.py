from django.apps import AppConfig


class SettlementConfig(AppConfig):
    name = "wasla.settlement"
    label = "settlement"
