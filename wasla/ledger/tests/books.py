"""A populated ledger: several tenants, SAR and KWD fees, reductions, reversals, an invoice."""

from __future__ import annotations

from decimal import Decimal

from django.utils import timezone

from testsupport.factories import make_tenant
from testsupport.payments import paid_payment, refunded
from wasla.ledger.accounts import AccountRole
from wasla.ledger.models import LedgerTransaction
from wasla.ledger.services import PostingLine, ledger_post
from wasla.settlement.models import FeePlanAssignment, SettlementRecord
from wasla.tenants.models import Tenant


def _hybrid_plan_from_now(tenant: Tenant) -> None:
    """The tenant's later payments pay 1 SAR + 1.25 %: a partial refund gives the % part back."""
    FeePlanAssignment.objects.create(
        tenant=tenant,
        plan_code="standard",
        effective_from=timezone.now(),
        percentage_override=Decimal("1.25"),
    )


def populate() -> list[Tenant]:
    acme, souq, odd = make_tenant("acme"), make_tenant("souq-1"), make_tenant("Odd_Shop")
    for tenant in (acme, souq, odd):
        for _ in range(3):
            paid_payment(tenant)
    paid_payment(souq, "25.000", currency="KWD")
    reversed_one = paid_payment(acme)
    refunded(reversed_one, "100.00")  # full refund before invoicing: reversal
    _hybrid_plan_from_now(acme)
    reduced = paid_payment(acme)
    refunded(reduced, "20.00")  # fee 2.25: a 0.25 reduction
    assert [a.fee_delta for a in reduced.settlement.adjustments.all()] == [Decimal("-0.250")]
    _hybrid_plan_from_now(souq)
    reduced_then_refunded = paid_payment(souq)
    refunded(reduced_then_refunded, "10.00")  # a 0.13 reduction (0.125, half up)
    refunded(reduced_then_refunded, "90.00")  # the rest: reverses the fee and the reduction
    refunded(paid_payment(odd), "40.00")  # partial refund of a fixed fee: nothing to book
    # An invoice issued and paid by bank transfer (the lines invoicing posts).
    ledger_post(
        tenant_id=odd.pk,
        entry_type=LedgerTransaction.EntryType.INVOICE,
        reference_id="invoice:1",
        idempotency_key="invoice-issue:1",
        lines=[
            PostingLine.dr(AccountRole.RECEIVABLE, odd.slug, Decimal("2.30"), "SAR"),
            PostingLine.cr(AccountRole.UNBILLED, odd.slug, Decimal("2.00"), "SAR"),
            PostingLine.cr(AccountRole.VAT_OUTPUT, odd.slug, Decimal("0.30"), "SAR"),
        ],
    )
    ledger_post(
        tenant_id=odd.pk,
        entry_type=LedgerTransaction.EntryType.PAYMENT,
        reference_id="invoice:1",
        idempotency_key="invoice-payment:1",
        lines=[
            PostingLine.dr(AccountRole.BANK, odd.slug, Decimal("2.30"), "SAR"),
            PostingLine.cr(AccountRole.RECEIVABLE, odd.slug, Decimal("2.30"), "SAR"),
        ],
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
