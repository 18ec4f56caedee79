"""Every HTTP request gets its own tenant scope, never the one of whatever surrounds it."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from .context import platform_access, request_scope


class RequestScopeMiddleware:
    """No scope for the request until its entry point sets one (API token, webhook URL,
    storefront slug, ...). Staff in the admin work across tenants: that is the audited
    platform path, one `PlatformAccessLog` row per admin request, actor = the staff user."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.admin_prefix = "/" + getattr(settings, "WASLA_ADMIN_PREFIX", "admin/")

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with request_scope():
            user = getattr(request, "user", None)
            if request.path.startswith(self.admin_prefix) and user is not None and user.is_staff:
                reason = f"admin {request.method} {request.path}"
                with platform_access(reason=reason, actor=user.get_username()):
                    return self.get_response(request)
            return self.get_response(request)
