"""The merchant's CSV downloads: its own rows only, for every member (owner, finance, viewer).

`export_csv` streams one dataset with the filters of the list it was linked from; the
`exports` page lists the datasets with a period form and sends the choice on to `export_csv`.
The stream enters the member's tenant scope itself (`tenant_context`): by the time the body is
produced, the request's scope is gone (see `wasla.reporting.csv_stream`).
"""

from __future__ import annotations

from functools import partial
from typing import cast
from urllib.parse import urlencode

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from wasla.reporting.exports import DATASETS, dataset_response
from wasla.reporting.filters import ExportFilterForm
from wasla.tenants.context import tenant_context

from .access import EVERYONE, member_view


@require_GET
@member_view(roles=EVERYONE)
def export_csv(request: HttpRequest, dataset: str) -> HttpResponse:
    spec = DATASETS.get(dataset)
    if spec is None:
        raise Http404
    form = ExportFilterForm(request.GET, dataset=spec)
    if not form.is_valid():
        return _page(request, form=form, status=400)
    tenant = request.tenant  # type: ignore[attr-defined]
    # A StreamingHttpResponse; member_view's signature names HttpResponse, their common base
    # being HttpResponseBase.
    return cast(
        HttpResponse,
        dataset_response(
            dataset=spec,
            tenant=tenant,
            filters=form.list_filters(),
            scope=partial(tenant_context, tenant.pk),
            today=timezone.localdate(),
        ),
    )


@require_GET
@member_view(roles=EVERYONE)
def exports(request: HttpRequest) -> HttpResponse:
    """The datasets and a period; choosing one (`?dataset=payments&date_from=...`) checks the
    period here, so a mistake is shown on this page, then downloads it."""
    spec = DATASETS.get(request.GET.get("dataset", ""))
    if spec is None:
        return _page(request, form=None)
    form = ExportFilterForm(request.GET, dataset=spec)
    if not form.is_valid():
        return _page(request, form=form, status=400)
    query = {k: v for k, v in request.GET.items() if k in ("date_from", "date_to") and v}
    url = reverse("portal:export", args=[spec.name])
    return redirect(f"{url}?{urlencode(query)}" if query else url)


def _page(
    request: HttpRequest, *, form: ExportFilterForm | None, status: int = 200
) -> HttpResponse:
    context = {
        "datasets": list(DATASETS.values()),
        "form": form,
        "chosen": form.dataset.name if form is not None else "payments",
        "date_from": request.GET.get("date_from", ""),
        "date_to": request.GET.get("date_to", ""),
    }
    return render(request, "portal/exports.html", context, status=status)
