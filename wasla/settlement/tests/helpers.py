"""Paid payments for settlement tests: through the real COD confirmation path, or at a chosen
confirmation time (the settlement service run on an attempt paid then)."""

from __future__ import annotations

import uuid
from datetime import datetime

from conftest import make_attempt, make_order
from wasla.payments.events import PaymentConfirmed
from wasla.payments.models import PaymentAttempt, PaymentGatewayConfig
from wasla.payments.services import payment_checkout, payment_collect
from wasla.settlement.models import SettlementRecord
from wasla.settlement.services import settlement_create_for_payment
from wasla.tenants.models import Tenant


def cod_config(tenant: Tenant) -> PaymentGatewayConfig:
    config, _ = PaymentGatewayConfig.objects.get_or_create(
        tenant=tenant, provider="cod", mode=PaymentGatewayConfig.Mode.SANDBOX
    )
    return config


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
