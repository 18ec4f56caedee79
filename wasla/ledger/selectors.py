from __future__ import annotations

from django.db.models import QuerySet

from wasla.tenants.models import Tenant

from .models import FinancialLedgerEntry


def ledger_entry_list(
    *,
    tenant: Tenant,
    entry_type: str | None = None,
    account: str | None = None,
    currency: str | None = None,
    reference_id: str | None = None,
) -> QuerySet[FinancialLedgerEntry]:
    """The tenant's ledger entries, newest first."""
    qs = (
        FinancialLedgerEntry.objects.for_tenant(tenant)
        .select_related("transaction", "account")
        .order_by("-id")
    )
    if entry_type:
        qs = qs.filter(transaction__entry_type=entry_type)
    if account:
        qs = qs.filter(account__code=account)
    if currency:
        qs = qs.filter(account__currency=currency)
    if reference_id:
        qs = qs.filter(transaction__reference_id=reference_id)
    return qs
