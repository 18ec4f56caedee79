from __future__ import annotations

import uuid
from dataclasses import replace

from django.db.models import Exists, OuterRef, QuerySet

from wasla.common.listing import NO_FILTERS, ListFilters, filters_apply
from wasla.common.problems import NotFound
from wasla.tenants.models import Tenant

from .models import Order

ORDER_FILTER_PATHS = {"status": "status", "reference": "reference", "created": "created_at"}


def order_list(*, tenant: Tenant | None, filters: ListFilters = NO_FILTERS) -> QuerySet[Order]:
    """The tenant's orders, newest first, narrowed by `filters`; `provider` and `method` keep
    the orders that have a payment attempt through them (one EXISTS, no duplicate rows).
    `tenant=None` is every tenant's, for staff under `platform_access`."""
    queryset = Order.objects.all() if tenant is None else Order.objects.for_tenant(tenant)
    queryset = queryset.order_by("-created_at", "-id")
    if filters.provider is not None or filters.method is not None:
        # The attempt model sits above orders (payments): reached through the relation.
        attempt_model = Order._meta.get_field("attempts").related_model
        attempts = attempt_model._default_manager.filter(order_id=OuterRef("pk"))
        if filters.provider is not None:
            attempts = attempts.filter(provider=filters.provider)
        if filters.method is not None:
            attempts = attempts.filter(method=filters.method)
        queryset = queryset.filter(Exists(attempts))
        filters = replace(filters, provider=None, method=None)
    return filters_apply(queryset, filters, ORDER_FILTER_PATHS)


def order_get(*, tenant: Tenant, order_id: int | str | uuid.UUID) -> Order:
    try:
        return Order.objects.for_tenant(tenant).get(pk=order_id)
    except (Order.DoesNotExist, ValueError, TypeError):
        raise NotFound("No such order.") from None
