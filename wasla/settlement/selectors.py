from __future__ import annotations

from django.db.models import QuerySet

from wasla.tenants.models import Tenant

from .models import SettlementRecord


def settlement_list(
    *, tenant: Tenant, year: int | None = None, month: int | None = None, status: str | None = None
) -> QuerySet[SettlementRecord]:
    qs = SettlementRecord.objects.for_tenant(tenant).order_by("-created_at", "-id")
    if year is not None:
        qs = qs.filter(created_at__year=year)
    if month is not None:
        qs = qs.filter(created_at__month=month)
    if status:
        qs = qs.filter(status=status)
    return qs
