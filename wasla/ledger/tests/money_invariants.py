"""The financial invariants the money state machine checks after every step, and the small
model of a payment it keeps (test_financial_state_machine.py).

- every ledger transaction balances and Σ over all accounts is zero;
- every account's `balance_after` chain is consistent and ends at its balance;
- at most one settlement per order, exactly one fee posting per settlement with a fee;
- refunded ≤ paid, and the refunded amount is the sum of the succeeded refunds;
- each tenant's fee income equals the effective fees of its settlements, and each settlement's
  fee is the one its plan gave at payment time (later plan changes never touch it);
- `verify_ledger` passes.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.management import call_command
from django.db import connection
from django.db.models import Sum

from wasla.common.money import round_money
from wasla.ledger.accounts import AccountRole
from wasla.ledger.models import FinancialLedgerEntry, LedgerAccount, LedgerTransaction
from wasla.payments.models import PaymentAttempt, RefundRecord
from wasla.settlement.models import SettlementAdjustment, SettlementRecord
from wasla.tenants.models import Tenant


@dataclass
class Payment:
    """What the model knows of one checkout."""

    tenant_index: int
    attempt_id: uuid.UUID
    amount: Decimal
    plan: tuple[Decimal, Decimal, Decimal | None]  # the plan in force when it was paid
    paid_event: bytes | None = None
    paid: bool = False
    closed: bool = False  # expired before it was paid
    refunded: Decimal = Decimal(0)
    refund_events: list[bytes] = field(default_factory=list)
    refund_event_ids: list[str] = field(default_factory=list)
    pending_refunds: list[Decimal] = field(default_factory=list)  # parked ahead of the payment


def stripe_event(event_type: str, obj: dict, event_id: str = "") -> bytes:
    return json.dumps(
        {
            "id": event_id or "evt_" + uuid.uuid4().hex,
            "object": "event",
            "api_version": "2026-06-24.dahlia",
            "created": int(time.time()),
            "data": {"object": obj},
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "type": event_type,
        }
    ).encode()


def expected_fee(plan: tuple[Decimal, Decimal, Decimal | None], gross: Decimal) -> Decimal:
    fixed, percentage, maximum = plan
    fee = fixed + percentage * gross / Decimal(100)
    if maximum is not None:
        fee = min(fee, maximum)
    return round_money(min(fee, gross), "SAR")


def check_every_transaction_balances_and_the_books_sum_to_zero() -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT count(*) FROM (
                SELECT e.transaction_id FROM ledger_financialledgerentry e
                JOIN ledger_ledgeraccount a ON a.id = e.account_id
                GROUP BY e.transaction_id, a.currency
                HAVING sum(e.debit) <> sum(e.credit) OR count(*) < 2
            ) unbalanced
            """
        )
        assert cursor.fetchone()[0] == 0
    totals = FinancialLedgerEntry.objects.aggregate(d=Sum("debit"), c=Sum("credit"))
    assert (totals["d"] or 0) == (totals["c"] or 0)


def check_balance_after_chains_are_consistent() -> None:
    for account in LedgerAccount.objects.all():
        running = Decimal(0)
        for debit, credit, after in (
            FinancialLedgerEntry.objects.filter(account=account)
            .order_by("id")
            .values_list("debit", "credit", "balance_after")
        ):
            step = debit - credit
            running += step if account.is_debit_normal else -step
            assert after == running, f"{account.code}: {after} != {running}"
        assert account.balance == running


def check_one_settlement_per_order_and_one_fee_posting_per_settlement(
    payments: list[Payment],
) -> None:
    for payment in payments:
        attempt = PaymentAttempt.objects.get(pk=payment.attempt_id)
        settlements = SettlementRecord.objects.filter(order_id=attempt.order_id)
        assert settlements.count() == (1 if payment.paid else 0)
        for settlement in settlements:
            assert settlement.wasla_fee == expected_fee(payment.plan, payment.amount)
            fees = LedgerTransaction.objects.filter(
                tenant_id=settlement.tenant_id,
                entry_type="fee",
                reference_id=f"settlement:{settlement.pk}",
            )
            assert fees.count() == (1 if settlement.wasla_fee > 0 else 0)


def check_refunded_never_exceeds_paid(payments: list[Payment]) -> None:
    for payment in payments:
        attempt = PaymentAttempt.objects.get(pk=payment.attempt_id)
        succeeded = RefundRecord.objects.filter(
            payment_attempt=attempt, status="succeeded"
        ).aggregate(total=Sum("amount"))["total"] or Decimal(0)
        assert attempt.refunded_amount == succeeded == payment.refunded
        assert attempt.refunded_amount <= attempt.amount
        expected = "pending" if not payment.paid else "paid"
        if payment.closed and not payment.paid:
            expected = "cancelled"
        elif payment.paid and payment.refunded == payment.amount:
            expected = "refunded"
        elif payment.paid and payment.refunded:
            expected = "partially_refunded"
        assert attempt.status == expected


def check_fee_income_is_the_effective_fees(tenants: list[Tenant]) -> None:
    for tenant in tenants:
        settlements = SettlementRecord.objects.filter(tenant=tenant)
        fees = settlements.aggregate(total=Sum("wasla_fee"))["total"] or Decimal(0)
        deltas = SettlementAdjustment.objects.filter(tenant=tenant).exclude(
            kind=SettlementAdjustment.Kind.CREDIT_NOTE_DUE
        ).aggregate(total=Sum("fee_delta"))["total"] or Decimal(0)
        income = LedgerAccount.objects.filter(
            tenant=tenant, code=AccountRole.FEE_INCOME.code_for(tenant.slug)
        ).first()
        assert (income.balance if income else Decimal(0)) == fees + deltas
        for settlement in settlements.filter(status="reversed"):
            assert settlement.wasla_fee + sum(
                a.fee_delta for a in settlement.adjustments.all()
            ) == Decimal(0)


def check_verify_ledger_passes() -> None:
    call_command("verify_ledger", stdout=_Sink())


class _Sink:
    def write(self, _text: str) -> None:
        pass

    def flush(self) -> None:
        pass
