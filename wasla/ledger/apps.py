from django.apps import AppConfig


class LedgerConfig(AppConfig):
    name = "wasla.ledger"
    label = "ledger"
