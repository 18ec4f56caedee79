from __future__ import annotations

import uuid

from django.db.models import QuerySet

from wasla.common.problems import NotFound
from wasla.tenants.models import Tenant

from .models import PaymentAttempt, PaymentGatewayConfig


def payment_list(*, tenant: Tenant) -> QuerySet[PaymentAttempt]:
    return PaymentAttempt.objects.for_tenant(tenant).order_by("-created_at", "-id")


def payment_get(*, tenant: Tenant, payment_id: uuid.UUID) -> PaymentAttempt:
    attempt = PaymentAttempt.objects.for_tenant(tenant).filter(pk=payment_id).first()
    if attempt is None:
        raise NotFound("No such payment.")
    return attempt


def gateway_list(*, tenant: Tenant, provider: str) -> QuerySet[PaymentGatewayConfig]:
    return (
        PaymentGatewayConfig.objects.for_tenant(tenant).filter(provider=provider).order_by("mode")
    )
