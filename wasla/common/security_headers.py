"""Security headers Django does not set itself, and the one exception to the strict CSP.

Django's SecurityMiddleware and XFrameOptionsMiddleware give nosniff, Referrer-Policy,
Cross-Origin-Opener-Policy and X-Frame-Options; django-csp gives Content-Security-Policy (see
"Security headers" in config/settings/base.py). This module adds Permissions-Policy, and lets
the two forms whose answer is a redirect to a provider's hosted page (the storefront's checkout,
the invoice pay page) post there: Chromium applies form-action to the redirects that follow a
form submission, so 'self' alone would stop the shopper on our page.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase

View = TypeVar("View", bound=Callable[..., HttpResponseBase])


def permissions_policy() -> str:
    """`camera=(), microphone=(), ...` from WASLA_PERMISSIONS_POLICY (feature -> allowed origins,
    'self' or quoted URLs; an empty list refuses the feature everywhere)."""
    return ", ".join(
        f"{feature}=({' '.join(origins)})"
        for feature, origins in settings.WASLA_PERMISSIONS_POLICY.items()
    )


class PermissionsPolicyMiddleware:
    """Permissions-Policy on every response (Django has no setting for it)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response
        self.header = permissions_policy()

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", self.header)
        return response


def checkout_origins() -> list[str]:
    """Where a checkout form's redirect may lead: the providers' hosted pages, and the local
    simulators' origin when they are on (read per request: tests move them to their server)."""
    origins = list(settings.WASLA_CSP_CHECKOUT_ORIGINS)
    if settings.WASLA_SANDBOX:
        parts = urlsplit(settings.WASLA_SANDBOX_BASE_URL)
        origins.append(f"{parts.scheme}://{parts.netloc}")
    return origins


def checkout_form_action(view: View) -> View:
    """Add the hosted payment pages to the response's form-action (django-csp's csp_update, with
    the origins read when the view answers)."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> HttpResponseBase:
        response = view(*args, **kwargs)
        response._csp_update = {"form-action": checkout_origins()}  # type: ignore[attr-defined]
        return response

    return wrapped  # type: ignore[return-value]
