"""Settlements in the portal: Wasla's fee on each payment, by month of payment (Riyadh) —
count, gross, fees net of refunds' adjustments, and what stays with the merchant — and each
month's rows."""

from __future__ import annotations

import datetime as dt

from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from .access import member_view
from .selectors import settlement_month_rows, settlement_month_totals, settlement_months

PAGE_SIZE = 50
MONTHS_PAGE_SIZE = 24


@require_GET
@member_view()
def settlement_months_page(request: HttpRequest) -> HttpResponse:
    months = settlement_months(tenant=request.tenant)  # type: ignore[attr-defined]
    page = Paginator(months, MONTHS_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "portal/settlements/months.html", {"page": page})


@require_GET
@member_view()
def settlement_month_page(request: HttpRequest, year: int, month: int) -> HttpResponse:
    if not (2000 <= year <= 9999 and 1 <= month <= 12):
        raise Http404("No such month.")
    tenant = request.tenant  # type: ignore[attr-defined]
    rows = settlement_month_rows(tenant=tenant, year=year, month=month)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    for record in page:
        record.effective_fee = record.wasla_fee + record.fee_adjustments  # type: ignore[attr-defined]
    context = {
        "month_start": dt.date(year, month, 1),
        "totals": settlement_month_totals(tenant=tenant, year=year, month=month),
        "page": page,
    }
    return render(request, "portal/settlements/month.html", context)
