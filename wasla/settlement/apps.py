from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class SettlementConfig(AppConfig):
    name = "wasla.settlement"
    label = "settlement"
    verbose_name = _("Settlement")

    def ready(self) -> None:
        from wasla.payments.events import (
            PaymentCheckoutRequested,
            PaymentConfirmed,
            RefundSucceeded,
            subscribe,
        )

        from .signals import fee_plan_ensure_default
        from .subscribers import (
            settlement_on_checkout_requested,
            settlement_on_payment_confirmed,
            settlement_on_refund_succeeded,
        )

        # Database set-up, not business logic: the default fee plan after a flush.
        post_migrate.connect(fee_plan_ensure_default, sender=self)
        # What settlement does when payments announce something (in the payment's transaction).
        subscribe(PaymentCheckoutRequested, settlement_on_checkout_requested)
        subscribe(PaymentConfirmed, settlement_on_payment_confirmed)
        subscribe(RefundSucceeded, settlement_on_refund_succeeded)
