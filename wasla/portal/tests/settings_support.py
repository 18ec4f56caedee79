"""Helpers of the settings pages' tests: members with a login, and a URL conf that stands in for
the money pages' URL names while they are built on another branch (the side nav links them).

`money_urls_stubbed` is a no-op once `portal:overview` resolves, so it is safe after the merge.
"""

from __future__ import annotations

import secrets
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType

from django.contrib.auth import get_user_model
from django.http import HttpRequest, HttpResponse
from django.test import Client, override_settings
from django.urls import (
    NoReverseMatch,
    URLPattern,
    URLResolver,
    clear_url_caches,
    include,
    path,
    reverse,
)

from wasla.tenants.models import Tenant, TenantMember

MONEY_NAMES = ("overview", "payments", "settlements", "invoices", "exports")
STUB_URLCONF = "wasla.portal.tests._settings_stub_urls"
PASSWORD = "Nakheel-Portal-2026!"


def make_member(tenant: Tenant, role: str = "owner", username: str | None = None) -> TenantMember:
    username = username or f"{role}-{secrets.token_hex(3)}"
    user = get_user_model().objects.create_user(
        username=username, email=f"{username}@example.sa", password=PASSWORD
    )
    return TenantMember.objects.create(tenant=tenant, user=user, role=role)


def client_for(tenant: Tenant, role: str = "owner", language: str = "en") -> Client:
    """A browser signed in as a new member of `tenant` with `role`, reading `language`."""
    client = Client()
    client.cookies["wasla_language"] = language
    client.force_login(make_member(tenant, role).user)
    return client


def _stub(request: HttpRequest) -> HttpResponse:
    return HttpResponse("money page stub")


def _stub_module() -> ModuleType:
    import config.urls
    from wasla.portal import urls as portal_urls

    portal: list[URLPattern | URLResolver] = [
        *portal_urls.urlpatterns,
        *(path(f"_stub/{name}/", _stub, name=name) for name in MONEY_NAMES),
    ]
    module = ModuleType(STUB_URLCONF)
    module.urlpatterns = [  # type: ignore[attr-defined]
        path("merchant/", include((portal, "portal"))),
        *config.urls.urlpatterns,
    ]
    for handler in ("handler404", "handler500"):
        setattr(module, handler, getattr(config.urls, handler))
    return module


@contextmanager
def money_urls_stubbed() -> Iterator[None]:
    try:
        reverse("portal:overview")
    except NoReverseMatch:
        sys.modules[STUB_URLCONF] = _stub_module()
        try:
            with override_settings(ROOT_URLCONF=STUB_URLCONF):
                clear_url_caches()
                yield
        finally:
            clear_url_caches()
            sys.modules.pop(STUB_URLCONF, None)
        return
    yield
