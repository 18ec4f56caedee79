"""Settlement's answers to the payment events (subscribed in `SettlementConfig.ready()`).

Each runs synchronously in the payment's transaction: if one raises, the payment step rolls
back with it (a checkout is refused, a confirmation or refund is retried later).
"""

from __future__ import annotations

from wasla.payments.events import PaymentCheckoutRequested, PaymentConfirmed, RefundSucceeded
from wasla.payments.problems import NoFeePlan

from .selectors import FeePlanNotFound, fee_plan_resolve
from .services import settlement_apply_refund, settlement_create_for_payment


def settlement_on_checkout_requested(event: PaymentCheckoutRequested) -> None:
    """A payment that could not be settled must not be taken: its confirmation would fail.
    Refuses the checkout when no fee plan covers the order's currency now."""
    try:
        fee_plan_resolve(tenant_id=event.tenant_id, currency=event.currency, at=event.requested_at)
    except FeePlanNotFound:
        raise NoFeePlan(f"No fee plan covers {event.currency} payments yet.") from None


def settlement_on_payment_confirmed(event: PaymentConfirmed) -> None:
    """The settlement of the payment and its fee posting."""
    settlement_create_for_payment(payment=event)


def settlement_on_refund_succeeded(event: RefundSucceeded) -> None:
    """The refund's fee consequence (reversal, reduction, credit note due or fee kept)."""
    settlement_apply_refund(refund=event)
