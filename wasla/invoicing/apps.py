from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InvoicingConfig(AppConfig):
    name = "wasla.invoicing"
    label = "invoicing"
    verbose_name = _("Invoicing")

    def ready(self) -> None:
        from wasla.settlement.reconcile_checks import reconcile_check_register

        from .reconciliation import CHECK, invoicing_differences

        # `manage.py reconcile` (settlement) checks the invoicing books too.
        reconcile_check_register(CHECK, invoicing_differences)
