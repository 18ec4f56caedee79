"""Settlement services: fee plan versions, the settlement of a paid payment and the fee
consequence of a refund. The last two run as subscribers of the payment events (see `apps.py`),
inside the payment's own transaction, from the facts the event carries."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Max

from wasla.payments.events import PaymentConfirmed, RefundSucceeded

from .fees import fee_compute
from .models import FeePlan, SettlementAdjustment, SettlementRecord
from .postings import (
    settlement_post_fee,
    settlement_post_fee_reduction,
    settlement_post_fee_reversal,
)
from .selectors import fee_plan_resolve_with_slug, settlement_refund_effect


def fee_plan_version_next(*, plan: FeePlan, effective_from: datetime) -> FeePlan:
    """A plan changes by a new version: a copy of `plan`'s terms, numbered after the code's
    latest version, in force from `effective_from` (staff edit it before then). Past versions,
    and the settlements that used them, stay as they were."""
    latest = FeePlan.objects.filter(code=plan.code).aggregate(v=Max("version"))["v"] or 0
    terms = {name: getattr(plan, name) for name in FeePlan.TERMS}
    return FeePlan.objects.create(
        code=plan.code, version=latest + 1, effective_from=effective_from, **terms
    )


def settlement_create_for_payment(*, payment: PaymentConfirmed) -> SettlementRecord:
    """Record Wasla's fee for a just-paid attempt. Runs inside the confirmation transaction.

    The plan is the one in force at the payment's `paid_at` (one SELECT, whatever the history,
    which brings the tenant's slug for the fee posting too); its breakdown is snapshotted on the
    settlement, so no later plan change can alter it. The insert marks the plan version and
    assignment `in_use` (trigger), freezing them.
    """
    plan, slug = fee_plan_resolve_with_slug(
        tenant_id=payment.tenant_id, currency=payment.currency, at=payment.paid_at
    )
    breakdown = fee_compute(plan=plan, gross=payment.amount, currency=payment.currency)
    settlement = SettlementRecord.objects.create(
        tenant_id=payment.tenant_id,
        order_id=payment.order_id,
        payment_attempt_id=payment.attempt_id,
        currency=payment.currency,
        gross_amount=payment.amount,
        wasla_fee=breakdown.fee,
        net_amount=payment.amount - breakdown.fee,
        fee_breakdown=breakdown.as_snapshot(),
        fee_plan_id=plan.plan_id,
        fee_plan_assignment_id=plan.assignment_id,
        payment_paid_at=payment.paid_at,
    )
    settlement_post_fee(settlement=settlement, slug=slug)  # same transaction: booked, or nothing is
    return settlement


def settlement_apply_refund(*, refund: RefundSucceeded) -> SettlementAdjustment | None:
    """Record what a succeeded refund does to Wasla's fee. Runs inside the refund's transaction.

    The refund policy is the one snapshotted on the settlement (see `fees.RefundPolicy` and
    `fees.refund_fee_delta`), never the plan's current one. Before invoicing, a refund that
    gives the whole fee back reverses the settlement and other fee changes are reductions;
    after invoicing the same amounts become due as a credit note on the invoice that billed them
    (issued by invoicing's daily `credit_notes_issue`). A policy
    that keeps the fee still records the refund, as a `fee_kept` adjustment of zero.
    """
    settlement = (
        SettlementRecord.objects.select_for_update()
        .filter(payment_attempt_id=refund.attempt_id)
        .first()
    )
    if settlement is None:
        return None
    effect = settlement_refund_effect(
        settlement=settlement, refund_amount=refund.amount, full=refund.full
    )
    kind, delta = effect.kind, effect.fee_delta
    if kind == SettlementAdjustment.Kind.REVERSAL:
        SettlementRecord.objects.filter(pk=settlement.pk).update(
            status=SettlementRecord.Status.REVERSED
        )
    adjustment = SettlementAdjustment.objects.create(
        tenant_id=settlement.tenant_id,
        settlement=settlement,
        refund_id=refund.refund_id,
        kind=kind,
        refund_amount=refund.amount,
        fee_delta=delta,
    )
    # Credit notes (refunds after invoicing) are issued and booked by invoicing.
    if kind == SettlementAdjustment.Kind.REVERSAL:
        settlement_post_fee_reversal(settlement=settlement)
    elif kind == SettlementAdjustment.Kind.FEE_REDUCTION and delta < 0:
        settlement_post_fee_reduction(adjustment=adjustment)
    return adjustment
