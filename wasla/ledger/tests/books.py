"""A populated ledger: several tenants, SAR and KWD fees, reductions, reversals, an invoice."""

from __future__ import annotations

from decimal import Decimal

from conftest import make_tenant
from wasla.ledger.services import (
    ledger_post_fee_reduction,
    ledger_post_invoice_issue,
    ledger_post_invoice_payment,
)
from wasla.payments.models import RefundRecord
from wasla.settlement.models import SettlementAdjustment, SettlementRecord
from wasla.tenants.models import Tenant

from .factories import paid_payment, refunded


def _fee_reduction(settlement: SettlementRecord, refund_amount: str, fee_delta: str) -> None:
    """A partial refund under a percentage plan (fee plans belong to the settlement app): the
    adjustment row it records, then its posting."""
    refund = RefundRecord.objects.create(
        tenant_id=settlement.tenant_id,
        payment_attempt_id=settlement.payment_attempt_id,
        provider="tap",
        amount=Decimal(refund_amount),
        currency=settlement.currency,
        idempotency_key=f"pct-{settlement.pk}-{refund_amount}",
        status=RefundRecord.Status.SUCCEEDED,
    )
    adjustment = SettlementAdjustment.objects.create(
        tenant_id=settlement.tenant_id,
        settlement=settlement,
        refund=refund,
        kind=SettlementAdjustment.Kind.FEE_REDUCTION,
        refund_amount=refund.amount,
        fee_delta=Decimal(fee_delta),
    )
    ledger_post_fee_reduction(adjustment=adjustment)


def populate() -> list[Tenant]:
    acme, souq, odd = make_tenant("acme"), make_tenant("souq-1"), make_tenant("Odd_Shop")
    for tenant in (acme, souq, odd):
        for _ in range(3):
            paid_payment(tenant)
    paid_payment(souq, "25.000", currency="KWD")
    reversed_one = paid_payment(acme)
    refunded(reversed_one, "100.00")  # full refund before invoicing: reversal
    reduced = paid_payment(acme)
    _fee_reduction(reduced.settlement, "20.00", "-0.25")
    reduced_then_refunded = paid_payment(souq)
    _fee_reduction(reduced_then_refunded.settlement, "10.00", "-0.10")
    refunded(reduced_then_refunded, "100.00")  # reverses the fee and the reduction
    refunded(paid_payment(odd), "40.00")  # partial refund of a fixed fee: nothing to book
    ledger_post_invoice_issue(
        tenant_id=odd.pk, invoice_id=1, currency="SAR", fees=Decimal("2.00"), vat=Decimal("0.30")
    )
    ledger_post_invoice_payment(
        tenant_id=odd.pk, invoice_id=1, currency="SAR", amount=Decimal("2.30"), method="manual"
    )
    return [acme, souq, odd]


def effective_fees(tenant: Tenant) -> dict[str, Decimal]:
    """Per currency: the fee of each settlement after its adjustments (a reversed one: zero)."""
    fees: dict[str, Decimal] = {}
    for settlement in SettlementRecord.objects.filter(tenant=tenant):
        fee = settlement.wasla_fee + sum(
            (a.fee_delta for a in settlement.adjustments.all()), Decimal(0)
        )
        if settlement.status == SettlementRecord.Status.REVERSED:
            assert fee == 0
        fees[settlement.currency] = fees.get(settlement.currency, Decimal(0)) + fee
    return fees
