from __future__ import annotations

import uuid

from django.db.models import QuerySet

from wasla.common.listing import NO_FILTERS, ListFilters, filters_apply
from wasla.common.problems import NotFound
from wasla.tenants.models import Tenant

from .models import PaymentAttempt, PaymentGatewayConfig, RefundRecord

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


def payment_list(*, tenant: Tenant, filters: ListFilters = NO_FILTERS) -> QuerySet[PaymentAttempt]:
    """The tenant's payment attempts, newest first, narrowed by `filters`."""
    queryset = PaymentAttempt.objects.for_tenant(tenant).order_by("-created_at", "-id")
    return filters_apply(queryset, filters, PAYMENT_FILTER_PATHS)


def refund_list(*, tenant: Tenant, filters: ListFilters = NO_FILTERS) -> QuerySet[RefundRecord]:
    """The tenant's refunds across its payments, newest first, narrowed by `filters`
    (`provider`, `method` and `reference` are those of the refunded payment)."""
    queryset = RefundRecord.objects.for_tenant(tenant).order_by("-created_at", "-id")
    return filters_apply(queryset, filters, REFUND_FILTER_PATHS)


def payment_get(*, tenant: Tenant, payment_id: uuid.UUID) -> PaymentAttempt:
    attempt = PaymentAttempt.objects.for_tenant(tenant).filter(pk=payment_id).first()
    if attempt is None:
        raise NotFound("No such payment.")
    return attempt


def gateway_list(*, tenant: Tenant, provider: str) -> QuerySet[PaymentGatewayConfig]:
    return (
        PaymentGatewayConfig.objects.for_tenant(tenant).filter(provider=provider).order_by("mode")
    )
