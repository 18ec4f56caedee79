"""Staff CSV downloads: every tenant's rows, or one tenant's (`?tenant=<id>`), audited.

Staff only: not signed in → the admin's sign-in page and back; signed in without `is_staff` →
403. The stream runs under `platform_access` (one `PlatformAccessLog` row naming the staff
member and the dataset), entered by the stream itself: the request's scope is gone by the time
the body is produced (see `wasla.reporting.csv_stream`).
"""

from __future__ import annotations

from functools import partial

from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest
from django.http.response import HttpResponseBase
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from wasla.reporting.exports import DATASETS, dataset_response
from wasla.reporting.filters import (
    ExportFilterForm,
    TenantChoice,
    export_problem,
    staff_only_problem,
)
from wasla.tenants.context import platform_access


@require_GET
def export_csv(request: HttpRequest, dataset: str) -> HttpResponseBase:
    user = request.user
    if not user.is_authenticated:
        return redirect_to_login(request.get_full_path(), reverse("admin:login"))
    if not user.is_staff:
        return staff_only_problem()
    spec = DATASETS.get(dataset)
    if spec is None:
        raise Http404
    actor = user.get_username()
    form = ExportFilterForm(request.GET, dataset=spec)
    tenant = TenantChoice(request.GET)
    if request.GET.get("tenant"):
        # The tenant directory is behind row-level security too: naming one is platform work.
        with platform_access(reason=f"dashboard export {spec.name}: tenant", actor=actor):
            tenant_valid = tenant.is_valid()
    else:
        tenant_valid = tenant.is_valid()
    if not (form.is_valid() & tenant_valid):
        return export_problem(form, tenant)
    chosen = tenant.cleaned_data["tenant"]
    reason = f"dashboard export {spec.name} of " + (f"tenant {chosen.pk}" if chosen else "all")
    return dataset_response(
        dataset=spec,
        tenant=chosen,
        filters=form.list_filters(),
        scope=partial(platform_access, reason=reason, actor=actor),
        today=timezone.localdate(),
    )
