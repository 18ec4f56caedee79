"""Payments taken through the real services, for tests that need what follows a payment (its
settlement, its ledger postings, its refunds) rather than the payment itself: confirmed through
`payment_apply_result`, collected cash on delivery, settled at a chosen time, refunded through
`refund_apply_result`; and the ledger balance they leave."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from django.utils import timezone

from wasla.ledger.accounts import AccountRole
from wasla.ledger.models import LedgerAccount
from wasla.payments.events import PaymentConfirmed
from wasla.payments.models import PaymentAttempt, PaymentGatewayConfig, RefundRecord
from wasla.payments.providers.base import PaymentResult, PaymentStatus, RefundResult, RefundStatus
from wasla.payments.refunds import refund_apply_result
from wasla.payments.services import payment_apply_result, payment_checkout, payment_collect
from wasla.settlement.models import FeePlan, SettlementRecord
from wasla.settlement.services import settlement_create_for_payment
from wasla.tenants.models import Tenant

from .factories import make_attempt, make_cod_config, make_order, make_refund, make_tap_config


def gateway(tenant: Tenant) -> PaymentGatewayConfig:
    """The tenant's first gateway, or a new Tap one."""
    return PaymentGatewayConfig.objects.filter(tenant=tenant).first() or make_tap_config(tenant)


def cod_config(tenant: Tenant) -> PaymentGatewayConfig:
    """The tenant's sandbox cash-on-delivery gateway, created on first use."""
    existing = PaymentGatewayConfig.objects.filter(
        tenant=tenant, provider="cod", mode=PaymentGatewayConfig.Mode.SANDBOX
    ).first()
    return existing or make_cod_config(tenant)


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
    refund = make_refund(attempt, amount)
    return refund_apply_result(
        refund_id=refund.id,
        result=RefundResult(
            status=RefundStatus.SUCCEEDED,
            provider_reference=f"re_{uuid.uuid4().hex}",
            amount=refund.amount,
            currency=refund.currency,
        ),
    )


def cod_paid(tenant: Tenant, amount: str = "100.00") -> PaymentAttempt:
    """A cash-on-delivery payment collected through payment_collect (the webhook path)."""
    cod_config(tenant)
    attempt = payment_checkout(
        tenant=tenant,
        order_id=make_order(tenant, amount).id,
        provider="cod",
        method="cod",
        return_url="",
        client_key=uuid.uuid4().hex,
    )
    return payment_collect(tenant=tenant, attempt_id=attempt.id)


def settled_at(
    tenant: Tenant, paid_at: datetime, amount: str = "100.00", currency: str = "SAR"
) -> SettlementRecord:
    """A payment confirmed at `paid_at`, settled by the real settlement service."""
    attempt = make_attempt(
        cod_config(tenant),
        make_order(tenant, amount, currency=currency),
        status=PaymentAttempt.Status.PAID,
        paid_at=paid_at,
    )
    return settlement_create_for_payment(
        payment=PaymentConfirmed(
            tenant_id=attempt.tenant_id,
            attempt_id=attempt.id,
            order_id=attempt.order_id,
            provider=attempt.provider,
            amount=attempt.amount,
            currency=attempt.currency,
            paid_at=paid_at,
        )
    )


def balance(tenant: Tenant, role: AccountRole, currency: str = "SAR") -> Decimal:
    """The balance of the tenant's `role` account in `currency` (zero before its first entry)."""
    account = LedgerAccount.objects.filter(
        tenant=tenant, code=role.code_for(tenant.slug), currency=currency
    ).first()
    return account.balance if account is not None else Decimal(0)
