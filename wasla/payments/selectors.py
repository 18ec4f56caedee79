from __future__ import annotations

import uuid
from typing import TypeVar

from django.db.models import Model, QuerySet

from wasla.common.listing import NO_FILTERS, ListFilters, filters_apply
from wasla.common.problems import NotFound
from wasla.tenants.models import Tenant

from .models import PaymentAttempt, PaymentGatewayConfig, RefundRecord

M = TypeVar("M", bound=Model)

PAYMENT_FILTER_PATHS = {
    "status": "status",
    "provider": "provider",
    "method": "method",
    "reference": "order__reference",
    "created": "created_at",
}
REFUND_FILTER_PATHS = {
    "status": "status",
    "provider": "payment_attempt__provider",
    "method": "payment_attempt__method",
    "reference": "payment_attempt__order__reference",
    "created": "created_at",
}


def payment_list(
    *, tenant: Tenant | None, filters: ListFilters = NO_FILTERS
) -> QuerySet[PaymentAttempt]:
    """The tenant's payment attempts, newest first, narrowed by `filters`. `tenant=None` is
    every tenant's, for staff under `platform_access` (row-level security shows nothing else)."""
    queryset = _of(PaymentAttempt.objects.all(), tenant).order_by("-created_at", "-id")
    return filters_apply(queryset, filters, PAYMENT_FILTER_PATHS)


def refund_list(
    *, tenant: Tenant | None, filters: ListFilters = NO_FILTERS
) -> QuerySet[RefundRecord]:
    """The tenant's refunds across its payments, newest first, narrowed by `filters`
    (`provider`, `method` and `reference` are those of the refunded payment); `tenant=None`
    as in `payment_list`."""
    queryset = _of(RefundRecord.objects.all(), tenant).order_by("-created_at", "-id")
    return filters_apply(queryset, filters, REFUND_FILTER_PATHS)


def _of(queryset: QuerySet[M], tenant: Tenant | None) -> QuerySet[M]:
    return queryset if tenant is None else queryset.filter(tenant=tenant)


def payment_get(*, tenant: Tenant, payment_id: uuid.UUID) -> PaymentAttempt:
    attempt = PaymentAttempt.objects.for_tenant(tenant).filter(pk=payment_id).first()
    if attempt is None:
        raise NotFound("No such payment.")
    return attempt


def gateway_list(*, tenant: Tenant, provider: str) -> QuerySet[PaymentGatewayConfig]:
    return (
        PaymentGatewayConfig.objects.for_tenant(tenant).filter(provider=provider).order_by("mode")
    )
