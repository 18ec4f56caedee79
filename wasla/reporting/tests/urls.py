"""The project's URLs with the export routes included, for the tests of this branch: the
portal's and dashboard's urls.py include them once the lead adds the lines. Portal pages the
frame links to but that are not built yet answer a stub."""

from django.http import HttpResponse
from django.urls import include, path

from config import urls as project
from wasla.portal import urls as portal_urls

FRAME_LINKS = ("overview", "payments", "settlements", "invoices", "gateways", "tokens", "team")


def _stub(request):  # type: ignore[no-untyped-def]
    return HttpResponse("stub")


portal_patterns = [
    path("", include("wasla.portal.urls_exports")),
    *portal_urls.urlpatterns,
    *(path(f"stub/{name}/", _stub, name=name) for name in FRAME_LINKS),
]
dashboard_patterns = [path("", include("wasla.dashboard.urls_exports"))]

urlpatterns = [
    path("merchant/", include((portal_patterns, "portal"))),
    path("dashboard/", include((dashboard_patterns, "dashboard"))),
    *(p for p in project.urlpatterns if str(p.pattern) not in ("merchant/", "dashboard/")),
]
