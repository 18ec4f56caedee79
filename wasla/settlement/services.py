from __future__ import annotations

from decimal import Decimal

from django.conf import settings

from wasla.common.money import round_money
from wasla.payments.models import PaymentAttempt

from .models import SettlementRecord


def fee_compute(*, gross: Decimal, currency: str) -> dict[str, str]:
    """The default plan: a fixed fee (1.00 SAR), no percentage; VAT is charged on the invoice."""
    fixed = round_money(Decimal(settings.WASLA_DEFAULT_FIXED_FEE), currency)
    fee = min(fixed, gross)  # never take more than the payment itself
    return {
        "plan": "standard",
        "plan_version": "1",
        "fixed": str(fixed),
        "percentage": "0",
        "percentage_part": str(round_money(Decimal(0), currency)),
        "fee": str(fee),
    }


def settlement_create_for_payment(*, attempt: PaymentAttempt) -> SettlementRecord:
    """Record Wasla's fee for a just-paid attempt. Runs inside the confirmation transaction."""
    breakdown = fee_compute(gross=attempt.amount, currency=attempt.currency)
    fee = Decimal(breakdown["fee"])
    return SettlementRecord.objects.create(
        tenant_id=attempt.tenant_id,
        order_id=attempt.order_id,
        payment_attempt=attempt,
        currency=attempt.currency,
        gross_amount=attempt.amount,
        wasla_fee=fee,
        net_amount=attempt.amount - fee,
        fee_breakdown=breakdown,
    )
