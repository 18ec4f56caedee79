from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.db.models import Max, Sum
from django.utils import timezone

from wasla.ledger.services import (
    ledger_post_fee,
    ledger_post_fee_reduction,
    ledger_post_fee_reversal,
)
from wasla.payments.models import PaymentAttempt, RefundRecord

from .fees import RefundPolicy, fee_compute, refund_fee_delta
from .models import FeePlan, SettlementAdjustment, SettlementRecord
from .selectors import fee_plan_resolve


def fee_plan_version_next(*, plan: FeePlan, effective_from: datetime) -> FeePlan:
    """A plan changes by a new version: a copy of `plan`'s terms, numbered after the code's
    latest version, in force from `effective_from` (staff edit it before then). Past versions,
    and the settlements that used them, stay as they were."""
    latest = FeePlan.objects.filter(code=plan.code).aggregate(v=Max("version"))["v"] or 0
    terms = {name: getattr(plan, name) for name in FeePlan.TERMS}
    return FeePlan.objects.create(
        code=plan.code, version=latest + 1, effective_from=effective_from, **terms
    )


def settlement_create_for_payment(*, attempt: PaymentAttempt) -> SettlementRecord:
    """Record Wasla's fee for a just-paid attempt. Runs inside the confirmation transaction.

    The plan is the one in force at the payment's `paid_at` (two SELECTs, whatever the history);
    its breakdown is snapshotted on the settlement, so no later plan change can alter it. The
    insert marks the plan version and assignment `in_use` (trigger), freezing them.
    """
    paid_at = attempt.paid_at or timezone.now()
    plan = fee_plan_resolve(tenant_id=attempt.tenant_id, currency=attempt.currency, at=paid_at)
    breakdown = fee_compute(plan=plan, gross=attempt.amount, currency=attempt.currency)
    settlement = SettlementRecord.objects.create(
        tenant_id=attempt.tenant_id,
        order_id=attempt.order_id,
        payment_attempt=attempt,
        currency=attempt.currency,
        gross_amount=attempt.amount,
        wasla_fee=breakdown.fee,
        net_amount=attempt.amount - breakdown.fee,
        fee_breakdown=breakdown.as_snapshot(),
        fee_plan_id=plan.plan_id,
        fee_plan_assignment_id=plan.assignment_id,
        payment_paid_at=paid_at,
    )
    ledger_post_fee(settlement=settlement)  # same transaction: the fee is booked or nothing is
    return settlement


def settlement_apply_refund(*, refund: RefundRecord, full: bool) -> SettlementAdjustment | None:
    """Record what a succeeded refund does to Wasla's fee. Runs inside the refund's transaction.

    The refund policy is the one snapshotted on the settlement (see `fees.RefundPolicy` and
    `fees.refund_fee_delta`), never the plan's current one. Before invoicing, a refund that
    gives the whole fee back reverses the settlement and other fee changes are reductions;
    after invoicing the same amounts become due as a credit note on the next invoice. A policy
    that keeps the fee still records the refund, as a `fee_kept` adjustment of zero.
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
    delta = refund_fee_delta(
        snapshot=settlement.fee_breakdown,
        fee=settlement.wasla_fee,
        gross=settlement.gross_amount,
        remaining_fee=remaining_fee,
        refund_amount=refund.amount,
        full=full,
        currency=settlement.currency,
    )
    invoiced = settlement.status in (
        SettlementRecord.Status.INVOICED,
        SettlementRecord.Status.PAID,
    )
    if settlement.fee_breakdown.get("refund_policy") == RefundPolicy.KEEP_FEE:
        kind = SettlementAdjustment.Kind.FEE_KEPT
    elif invoiced:
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
