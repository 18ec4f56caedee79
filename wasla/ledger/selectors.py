from __future__ import annotations

from django.db.models import QuerySet

from wasla.common.listing import NO_FILTERS, ListFilters, filters_apply
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


def ledger_entry_export_list(
    *, tenant: Tenant | None, filters: ListFilters = NO_FILTERS
) -> QuerySet[FinancialLedgerEntry]:
    """Ledger entries in posting order (the journal as it was written, so each account's
    `balance_after` reads forwards), narrowed by the transaction's creation time.
    `tenant=None` is every tenant's, for staff under `platform_access`."""
    qs = FinancialLedgerEntry.objects.all()
    if tenant is not None:
        qs = qs.filter(tenant=tenant)
    qs = qs.select_related("transaction", "account", "tenant").order_by("transaction_id", "id")
    return filters_apply(qs, filters, {"created": "transaction__created_at"})
