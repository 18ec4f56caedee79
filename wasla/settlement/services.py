from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db.models import Sum

from wasla.common.money import round_money
from wasla.ledger.services import (
    ledger_post_fee,
    ledger_post_fee_reduction,
    ledger_post_fee_reversal,
)
from wasla.payments.models import PaymentAttempt, RefundRecord

from .models import SettlementAdjustment, SettlementRecord


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
    settlement = SettlementRecord.objects.create(
        tenant_id=attempt.tenant_id,
        order_id=attempt.order_id,
        payment_attempt=attempt,
        currency=attempt.currency,
        gross_amount=attempt.amount,
        wasla_fee=fee,
        net_amount=attempt.amount - fee,
        fee_breakdown=breakdown,
    )
    ledger_post_fee(settlement=settlement)  # same transaction: the fee is booked or nothing is
    return settlement


def settlement_apply_refund(*, refund: RefundRecord, full: bool) -> SettlementAdjustment | None:
    """Record what a succeeded refund does to Wasla's fee. Runs inside the refund's transaction.

    Policy (default plan): a full refund before invoicing reverses the whole fee; a partial
    one keeps the fixed fee and gives back the percentage part on the refunded amount; after
    invoicing the same amounts become due as a credit note on the next invoice.
    """
    settlement = (
        SettlementRecord.objects.select_for_update()
        .filter(payment_attempt_id=refund.payment_attempt_id)
        .first()
    )
    if settlement is None:
        return None
    already = settlement.adjustments.aggregate(total=Sum("fee_delta"))["total"] or Decimal(0)
    remaining_fee = settlement.wasla_fee + already
    percentage = Decimal(settlement.fee_breakdown.get("percentage", "0"))
    if full:
        delta = -remaining_fee
    else:
        delta = -min(
            round_money(refund.amount * percentage / Decimal(100), settlement.currency),
            remaining_fee,
        )
    invoiced = settlement.status in (
        SettlementRecord.Status.INVOICED,
        SettlementRecord.Status.PAID,
    )
    if invoiced:
        kind = SettlementAdjustment.Kind.CREDIT_NOTE_DUE
    elif full:
        kind = SettlementAdjustment.Kind.REVERSAL
        SettlementRecord.objects.filter(pk=settlement.pk).update(
            status=SettlementRecord.Status.REVERSED
        )
    else:
        kind = SettlementAdjustment.Kind.FEE_REDUCTION
    adjustment = SettlementAdjustment.objects.create(
        tenant_id=settlement.tenant_id,
        settlement=settlement,
        refund=refund,
        kind=kind,
        refund_amount=refund.amount,
        fee_delta=delta,
    )
    # Credit notes (refunds after invoicing) are booked by invoicing, on the next invoice.
    if kind == SettlementAdjustment.Kind.REVERSAL:
        ledger_post_fee_reversal(settlement=settlement)
    elif kind == SettlementAdjustment.Kind.FEE_REDUCTION and delta < 0:
        ledger_post_fee_reduction(adjustment=adjustment)
    return adjustment
