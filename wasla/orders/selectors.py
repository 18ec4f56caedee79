from __future__ import annotations

import uuid

from django.db.models import QuerySet

from wasla.common.problems import NotFound
from wasla.tenants.models import Tenant

from .models import Order


def order_list(*, tenant: Tenant) -> QuerySet[Order]:
    return Order.objects.for_tenant(tenant).order_by("-created_at", "-id")


def order_get(*, tenant: Tenant, order_id: int | str | uuid.UUID) -> Order:
    try:
        return Order.objects.for_tenant(tenant).get(pk=order_id)
    except (Order.DoesNotExist, ValueError, TypeError):
        raise NotFound("No such order.") from None
