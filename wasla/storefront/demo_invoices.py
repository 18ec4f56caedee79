"""The demo's invoices: the monthly run (`invoices_generate_all`, what `manage.py
generate_invoices` runs) for the demo's two past months, and what the start banner shows of them.

The months are invoiced oldest first: a month's run bills the pending settlements of that month
and of every earlier one, so the newer month first would bill the older month's payments too.
A second run finds the invoices already issued and changes nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from wasla.common.money import format_amount
from wasla.invoicing.run import invoices_generate_all
from wasla.invoicing.selectors import invoice_list
from wasla.tenants.context import tenant_context
from wasla.tenants.models import Tenant


class DemoInvoicingFailed(Exception):
    """A demo tenant could not be invoiced (its run failed or its tax profile is incomplete)."""


def demo_invoices_generate(
    *, slugs: list[str], months: list[tuple[int, int]], now: datetime
) -> None:
    """Issue the demo tenants' invoices for `months` (oldest first), as of `now`."""
    for year, month in sorted(months):
        for slug in slugs:
            for result in invoices_generate_all(year=year, month=month, now=now, tenant_slug=slug):
                if result.outcome in ("failed", "skipped"):
                    reason = result.error or "; ".join(result.problems)
                    raise DemoInvoicingFailed(f"{slug} {year}-{month:02d}: {reason}")


def demo_invoices_summary(
    *, tenants: list[Tenant], months: list[tuple[int, int]]
) -> list[dict[str, Any]]:
    """The tenants' invoices for `months`, oldest first: number, amounts, status and the API
    path of the PDF."""
    rows = []
    for tenant in tenants:
        with tenant_context(tenant.pk):
            for year, month in sorted(months):
                for invoice in invoice_list(tenant=tenant, year=year, month=month):
                    rows.append(
                        {
                            "tenant": tenant.slug,
                            "id": invoice.pk,
                            "number": invoice.display_number,
                            "year": invoice.year,
                            "month": invoice.month,
                            "currency": invoice.currency,
                            "total": format_amount(invoice.total, invoice.currency),
                            "amount_due": format_amount(invoice.amount_due, invoice.currency),
                            "status": invoice.status,
                            "due_date": invoice.due_date.isoformat() if invoice.due_date else None,
                            "pdf_url": f"/api/v1/invoices/{invoice.pk}/pdf/",
                        }
                    )
    return sorted(rows, key=lambda row: (row["year"], row["month"], row["number"]))
