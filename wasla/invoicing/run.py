"""The monthly run across tenants, for `manage.py generate_invoices` and the beat task.

Each tenant is invoiced in its own tenant scope and its own transactions (one per currency), so
one tenant's failure rolls back only that tenant's invoice and the others go on. Every tenant
ends with one outcome: `issued` (new invoices), `already_invoiced` (a second run), `nothing`
(no fee to bill), `skipped` (tax profile incomplete, the problems listed) or `failed` (the error).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from wasla.common.money import format_amount
from wasla.settlement.models import SettlementRecord
from wasla.tenants.context import platform_access, tenant_context
from wasla.tenants.models import Tenant

from .models import Invoice
from .services import TaxProfileIncomplete, invoice_generate, period_check

logger = logging.getLogger(__name__)


@dataclass
class TenantRunResult:
    tenant: str
    outcome: str = "nothing"
    invoices: list[dict[str, str]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    error: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "tenant": self.tenant,
            "outcome": self.outcome,
            "invoices": self.invoices,
            "problems": self.problems,
            "error": self.error,
        }


def _currencies(*, tenant: Tenant, year: int, month: int, end: datetime) -> list[str]:
    """Currencies the tenant may be invoiced in for the month: those of its unbilled
    settlements, and those of invoices it already has for the month."""
    pending = SettlementRecord.objects.filter(
        tenant=tenant, status=SettlementRecord.Status.PENDING, payment_paid_at__lt=end
    ).values_list("currency", flat=True)
    invoiced = Invoice.objects.filter(tenant=tenant, year=year, month=month).values_list(
        "currency", flat=True
    )
    return sorted(set(pending.distinct()) | set(invoiced.distinct()))


def invoices_generate_for_tenant(
    *, tenant: Tenant, year: int, month: int, now: datetime
) -> TenantRunResult:
    """Invoice one tenant for one month in each of its currencies; never raises."""
    result = TenantRunResult(tenant=tenant.slug)
    end = period_check(year=year, month=month, now=now)
    try:
        with tenant_context(tenant.pk):
            for currency in _currencies(tenant=tenant, year=year, month=month, end=end):
                generated = invoice_generate(
                    tenant=tenant, year=year, month=month, now=now, currency=currency
                )
                invoice = generated.invoice
                if invoice is None:
                    continue
                if generated.created or result.outcome != "issued":
                    result.outcome = "issued" if generated.created else "already_invoiced"
                result.invoices.append(
                    {
                        "number": invoice.display_number,
                        "currency": invoice.currency,
                        "total": format_amount(invoice.total, invoice.currency),
                    }
                )
    except TaxProfileIncomplete as error:
        result.outcome, result.problems = "skipped", error.problems
    except Exception as error:
        logger.exception("invoicing %s for %s-%02d failed", tenant.slug, year, month)
        result.outcome, result.error = "failed", f"{type(error).__name__}: {error}"
    return result


def invoices_generate_all(
    *, year: int, month: int, now: datetime, tenant_slug: str | None = None
) -> list[TenantRunResult]:
    """Invoice every active tenant (or the one named) for a month that has ended.

    Raises PeriodNotEnded before touching anything; LookupError for an unknown slug."""
    period_check(year=year, month=month, now=now)
    with platform_access(reason=f"monthly invoicing {year}-{month:02d}"):
        tenants = Tenant.objects.filter(is_active=True).order_by("slug")
        if tenant_slug is not None:
            tenants = Tenant.objects.filter(slug=tenant_slug)
        found = list(tenants)
    if tenant_slug is not None and not found:
        raise LookupError(f"no tenant {tenant_slug!r}")
    return [
        invoices_generate_for_tenant(tenant=tenant, year=year, month=month, now=now)
        for tenant in found
    ]
