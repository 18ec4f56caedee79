"""Thin views: validate the filters, call the selectors, render. Staff only, audited."""

from __future__ import annotations

from typing import Any, cast
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from . import selectors
from .access import staff_view
from .forms import FilterForm, InvoiceFilterForm, SimulatorForm, today_riyadh
from .rollups import FULL_DAYS, rollup_last_run
from .simulator import fee_plan_simulate, proposed_plan
from .tasks import dashboard_reconcile_snapshot_task, rollup_refresh_task


def _query(request: HttpRequest, *, drop: tuple[str, ...] = ("before", "page")) -> str:
    """The current filters as a query string, without the paging parameters."""
    query: QueryDict = request.GET.copy()
    for name in drop:
        query.pop(name, None)
    return query.urlencode()


def _export_url(kind: str, form: FilterForm) -> str:
    """The CSV export of the list as shown: the form's data, with the default dates it filled
    in, so the file covers the same days as the page (paging left out)."""
    query = cast(QueryDict, form.data).copy()  # the request's GET, defaults filled in
    for name in ("before", "page"):
        query.pop(name, None)
    url = reverse("dashboard:export", args=[kind])
    return f"{url}?{query.urlencode()}"


@require_GET
@staff_view("home")
def home(request: HttpRequest) -> HttpResponse:
    form = FilterForm(request.GET)
    context: dict[str, Any] = {"form": form, "query": _query(request)}
    if not form.is_valid():
        return render(request, "dashboard/home.html", context, status=400)
    filters = form.filters()
    daily = selectors.payments_per_day(filters=filters)
    monthly = selectors.payments_per_month(filters=filters)
    rates = selectors.success_rates(filters=filters)
    revenue = selectors.revenue_per_month(filters=filters)
    now = timezone.now()
    webhooks = selectors.webhook_health(filters=filters)
    context.update(
        daily=daily,
        monthly=monthly,
        rates=rates,
        revenue=revenue,
        top_tenants=selectors.revenue_top_tenants(filters=filters),
        refunds=selectors.refunds_summary(filters=filters),
        settlements=selectors.settlements_by_status(filters=filters),
        invoices=selectors.invoices_summary(filters=filters, today=today_riyadh()),
        webhooks=webhooks,
        webhook_age=webhooks.oldest_age(now),
        circuits=selectors.circuit_states(filters=filters),
        reconcile=selectors.reconcile_snapshot_get(),
        rollup=rollup_last_run(),
        charts={
            "daily": daily.chart(),
            "monthly": monthly.chart(),
            "rates": {
                "labels": [f"{r.provider} · {r.method}" for r in rates],
                "rates": [float(r.rate * 100) if r.rate is not None else 0 for r in rates],
            },
            "revenue": _revenue_chart(revenue),
            "text": {
                "attempts": _("Payments"),
                "paid": _("Paid"),
                "rate": _("Success rate (%)"),
            },
        },
        payments_url=reverse("dashboard:payments"),
    )
    return render(request, "dashboard/home.html", context)


def _revenue_chart(rows: list[selectors.MoneyRow]) -> dict[str, Any]:
    months = sorted({r.month for r in rows})
    series: dict[str, list[str]] = {}
    for r in rows:  # grouped rows: one per month and currency
        series.setdefault(r.currency, ["0"] * len(months))[months.index(r.month)] = str(r.amount)
    return {"labels": [m.isoformat()[:7] for m in months], "series": series}


@require_GET
@staff_view("payments")
def payments(request: HttpRequest) -> HttpResponse:
    form = FilterForm(request.GET)
    query = _query(request)
    context: dict[str, Any] = {"form": form, "query": query, "export_url": None}
    if not form.is_valid():
        return render(request, "dashboard/payments.html", context, status=400)
    try:
        page = selectors.payment_page(filters=form.filters(), before=request.GET.get("before"))
    except selectors.BadCursor:
        context["page_error"] = _("This page link is not valid; start from the first page.")
        return render(request, "dashboard/payments.html", context, status=400)
    context.update(
        page=page,
        next_query=_with(query, before=page.next_cursor),
        export_url=_export_url("payments", form),
        first_page=bool(request.GET.get("before")),
    )
    return render(request, "dashboard/payments.html", context)


def _with(query: str, **extra: str | None) -> str:
    parts = [query] if query else []
    parts += [urlencode({k: v}) for k, v in extra.items() if v]
    return "&".join(parts)


@require_GET
@staff_view("invoices")
def invoices(request: HttpRequest) -> HttpResponse:
    form = InvoiceFilterForm(request.GET)
    query = _query(request)
    context: dict[str, Any] = {"form": form, "query": query}
    before_raw = request.GET.get("before")
    before = int(before_raw) if before_raw and before_raw.isdigit() else None
    if not form.is_valid() or (before_raw and before is None):
        if before_raw and before is None:
            context["page_error"] = _("This page link is not valid; start from the first page.")
        return render(request, "dashboard/invoices.html", context, status=400)
    tenant = form.cleaned_data.get("tenant")
    page = selectors.invoice_page(
        tenant_id=tenant.pk if tenant else None,
        status=form.cleaned_data.get("status") or None,
        today=today_riyadh(),
        before=before,
    )
    context.update(
        page=page,
        next_query=_with(query, before=page.next_cursor),
        first_page=before is not None,
        today=today_riyadh(),
    )
    return render(request, "dashboard/invoices.html", context)


@require_GET
@staff_view("simulator")
def simulator(request: HttpRequest) -> HttpResponse:
    submitted = "currency" in request.GET
    form = SimulatorForm(request.GET if submitted else None, initial=_simulator_initial())
    context: dict[str, Any] = {"form": form, "result": None}
    if not submitted:
        return render(request, "dashboard/simulator.html", context)
    if not form.is_valid():
        return render(request, "dashboard/simulator.html", context, status=400)
    data = form.cleaned_data
    page_raw = request.GET.get("page") or "1"
    if not page_raw.isdigit() or int(page_raw) < 1:
        context["page_error"] = _("This page link is not valid; start from the first page.")
        return render(request, "dashboard/simulator.html", context, status=400)
    plan = proposed_plan(
        currency=data["currency"],
        fixed_fee=data.get("fixed_fee"),
        percentage=data.get("percentage"),
        minimum_fee=data.get("minimum_fee"),
        maximum_fee=data.get("maximum_fee"),
    )
    result = fee_plan_simulate(
        plan=plan,
        first=data["date_from"],
        last=data["date_to"],
        tenant_ids=[t.pk for t in data["tenants"]],
        page=int(page_raw),
    )
    query = _query(request)
    context.update(
        result=result,
        plan=plan,
        previous_query=_with(query, page=str(result.page - 1)) if result.page > 1 else None,
        next_query=_with(query, page=str(result.page + 1)) if result.page < result.pages else None,
    )
    return render(request, "dashboard/simulator.html", context)


def _simulator_initial() -> dict[str, Any]:
    today = today_riyadh()
    return {"currency": "SAR", "date_from": today.replace(day=1), "date_to": today}


@require_POST
@staff_view("reconcile")
def reconcile_run(request: HttpRequest) -> HttpResponse:
    """Queue the reconciliation snapshot (a few seconds at scale); the overview shows it."""
    dashboard_reconcile_snapshot_task.delay(actor=request.user.get_username())
    return HttpResponseRedirect(reverse("dashboard:home") + "#reconciliation")


@require_POST
@staff_view("refresh")
def rollup_refresh_run(request: HttpRequest) -> HttpResponse:
    """Queue a full refresh of the charts' daily roll-ups (the beat keeps them current)."""
    rollup_refresh_task.delay(days=FULL_DAYS, actor=request.user.get_username())
    return HttpResponseRedirect(reverse("dashboard:home"))
