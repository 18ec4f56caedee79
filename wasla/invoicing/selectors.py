"""What a merchant reads of its invoicing: its issued invoices and credit notes.

Drafts and void drafts are never listed nor found: they are not tax documents (a draft has no
number yet). Another tenant's document is not found either (404, never 403).
"""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from wasla.common.listing import NO_FILTERS, ListFilters, filters_apply
from wasla.common.problems import NotFound
from wasla.tenants.models import Tenant

from .models import CollectionTry, CreditNote, Invoice

LISTED_INVOICE_STATUSES = (Invoice.Status.ISSUED, Invoice.Status.PAID)


def invoice_list(
    *, tenant: Tenant, year: int | None = None, month: int | None = None, status: str | None = None
) -> QuerySet[Invoice]:
    """The tenant's issued and paid invoices, newest period first, with their lines, payments,
    issued credit notes and collection tries (prefetched: a page costs the same few queries
    whatever its size); `year`/`month` are the period the invoice bills."""
    qs = (
        Invoice.objects.for_tenant(tenant)
        .filter(status__in=LISTED_INVOICE_STATUSES)
        .select_related("zatca")
        .prefetch_related(
            "lines",
            "payments",
            Prefetch(
                "credit_notes",
                queryset=CreditNote.objects.filter(status=CreditNote.Status.ISSUED).order_by(
                    "number"
                ),
            ),
            Prefetch("collection_tries", queryset=CollectionTry.objects.order_by("number")),
        )
        .order_by("-year", "-month", "-number")
    )
    if year is not None:
        qs = qs.filter(year=year)
    if month is not None:
        qs = qs.filter(month=month)
    if status:
        qs = qs.filter(status=status)
    return qs


def invoice_get(*, tenant: Tenant, invoice_id: int) -> Invoice:
    try:
        return invoice_list(tenant=tenant).get(pk=invoice_id)
    except (Invoice.DoesNotExist, ValueError, TypeError):
        raise NotFound("No such invoice.") from None


def credit_note_list(*, tenant: Tenant) -> QuerySet[CreditNote]:
    """The tenant's issued credit notes, newest first, with their lines and invoice."""
    return (
        CreditNote.objects.for_tenant(tenant)
        .filter(status=CreditNote.Status.ISSUED)
        .select_related("invoice", "zatca")
        .prefetch_related("lines")
        .order_by("-number")
    )


def credit_note_get(*, tenant: Tenant, credit_note_id: int) -> CreditNote:
    try:
        return credit_note_list(tenant=tenant).get(pk=credit_note_id)
    except (CreditNote.DoesNotExist, ValueError, TypeError):
        raise NotFound("No such credit note.") from None


def invoice_export_list(
    *, tenant: Tenant | None, filters: ListFilters = NO_FILTERS
) -> QuerySet[Invoice]:
    """Issued and paid invoices in number order, narrowed by status and issue time; `tenant=
    None` is every tenant's, for staff under `platform_access`. No prefetching: an export row
    is the invoice's own totals."""
    qs = Invoice.objects.filter(status__in=LISTED_INVOICE_STATUSES)
    if tenant is not None:
        qs = qs.filter(tenant=tenant)
    qs = qs.select_related("tenant").order_by("number")
    return filters_apply(qs, filters, {"status": "status", "created": "issued_at"})


def credit_note_export_list(
    *, tenant: Tenant | None, filters: ListFilters = NO_FILTERS
) -> QuerySet[CreditNote]:
    """Issued credit notes in number order, with the invoice each corrects, narrowed as
    `invoice_export_list` (a credit note's status is `issued`)."""
    qs = CreditNote.objects.filter(status=CreditNote.Status.ISSUED)
    if tenant is not None:
        qs = qs.filter(tenant=tenant)
    qs = qs.select_related("tenant", "invoice").order_by("number")
    return filters_apply(qs, filters, {"status": "status", "created": "issued_at"})
