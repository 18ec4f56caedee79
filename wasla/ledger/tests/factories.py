"""Paid payments and refunds driven through the real confirmation and refund code."""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.utils import timezone

from conftest import make_attempt, make_order, make_tap_config
from wasla.ledger.accounts import AccountRole
from wasla.ledger.models import LedgerAccount
from wasla.payments.models import PaymentAttempt, PaymentGatewayConfig, RefundRecord
from wasla.payments.providers.base import PaymentResult, PaymentStatus, RefundResult, RefundStatus
from wasla.payments.refunds import refund_apply_result
from wasla.payments.services import payment_apply_result
from wasla.settlement.models import FeePlan, SettlementRecord
from wasla.tenants.models import Tenant


def gateway(tenant: Tenant) -> PaymentGatewayConfig:
    return PaymentGatewayConfig.objects.filter(tenant=tenant).first() or make_tap_config(tenant)


def standard_plan_in(currency: str) -> FeePlan:
    """The "standard" plan in another currency (migrations create only the SAR one): 1 unit."""
    plan = FeePlan.objects.filter(code="standard", currency=currency).first()
    if plan is None:
        latest = FeePlan.objects.filter(code="standard").order_by("-version").first()
        plan = FeePlan.objects.create(
            code="standard",
            name=f"Standard ({currency})",
            version=(latest.version if latest else 0) + 1,
            currency=currency,
            fixed_fee=Decimal(1),
            effective_from=latest.effective_from if latest else timezone.now(),
        )
    return plan


def paid_payment(tenant: Tenant, amount: str = "100.00", currency: str = "SAR") -> PaymentAttempt:
    """A payment confirmed through payment_apply_result: attempt, order, settlement, ledger."""
    standard_plan_in(currency)
    attempt = make_attempt(gateway(tenant), make_order(tenant, amount, currency=currency))
    return payment_apply_result(
        attempt_id=attempt.id,
        result=PaymentResult(
            status=PaymentStatus.PAID,
            provider_reference=f"chg_{uuid.uuid4().hex}",
            amount=attempt.amount,
            currency=attempt.currency,
        ),
    )


def paid_settlement(tenant: Tenant, amount: str = "100.00") -> SettlementRecord:
    return SettlementRecord.objects.get(payment_attempt=paid_payment(tenant, amount))


def refunded(attempt: PaymentAttempt, amount: str) -> RefundRecord:
    """A refund the provider confirmed, applied through refund_apply_result."""
    refund = RefundRecord.objects.create(
        tenant_id=attempt.tenant_id,
        payment_attempt=attempt,
        provider=attempt.provider,
        amount=Decimal(amount),
        currency=attempt.currency,
        idempotency_key=uuid.uuid4().hex,
    )
    return refund_apply_result(
        refund_id=refund.id,
        result=RefundResult(
            status=RefundStatus.SUCCEEDED,
            provider_reference=f"re_{uuid.uuid4().hex}",
            amount=refund.amount,
            currency=refund.currency,
        ),
    )


def balance(tenant: Tenant, role: AccountRole, currency: str = "SAR") -> Decimal:
    account = LedgerAccount.objects.filter(
        tenant=tenant, code=role.code_for(tenant.slug), currency=currency
    ).first()
    return account.balance if account is not None else Decimal(0)
