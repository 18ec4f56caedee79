"""Who may open a dashboard page: Wasla staff only, each request audited.

`staff_view` is the dashboard's entry point, as `member_view` is the portal's. Staff work across
every tenant, which is the audited platform path: the view runs inside
`platform_access(reason="dashboard <view>", actor=<username>)`, so each request leaves exactly
one `PlatformAccessLog` row, as the admin's requests do (`wasla.tenants.middleware`).

- not logged in: to the admin's sign-in page (staff sign in there), back here afterwards;
- logged in without `is_staff`: 403 page, nothing read;
- staff signed in without the second factor (through the merchant portal's form, say): to the
  admin's sign-in page too, which asks for the authenticator's code — the admin site's own
  check (wasla/common/admin_site.py), so one sign-in serves both.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from wasla.common.db.reads import page_read_transaction
from wasla.tenants.context import platform_access

View = Callable[..., HttpResponse]


def staff_view(name: str) -> Callable[[View], View]:
    """Staff only; the view (and its template rendering) runs under platform access."""

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            user = request.user
            if not user.is_authenticated:
                return redirect_to_login(request.get_full_path(), reverse("admin:login"))
            if not user.is_staff:
                return render(request, "dashboard/forbidden.html", status=403)
            # is_verified: set on request.user by django-otp's OTPMiddleware.
            if not user.is_verified():  # type: ignore[attr-defined]
                return redirect_to_login(request.get_full_path(), reverse("admin:login"))
            # The audit row commits on its own, so a page that fails is still on record.
            with (
                platform_access(reason=f"dashboard {name}", actor=user.get_username()),
                page_read_transaction(request),
            ):
                return view(request, *args, **kwargs)

        return wrapper

    return decorate
