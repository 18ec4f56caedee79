from django.apps import AppConfig
from django.db.models.signals import post_migrate


class SettlementConfig(AppConfig):
    name = "wasla.settlement"
    label = "settlement"

    def ready(self) -> None:
        from .signals import fee_plan_ensure_default

        post_migrate.connect(fee_plan_ensure_default, sender=self)
