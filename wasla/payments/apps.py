from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PaymentsConfig(AppConfig):
    name = "wasla.payments"
    label = "payments"
    verbose_name = _("Payments")

    def ready(self) -> None:
        # Observability: payments counted by provider, method and outcome.
        from .observability import payment_metrics_connect

        payment_metrics_connect()
