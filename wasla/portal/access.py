"""Who may open a portal page: a logged-in member of a tenant, with the role the page needs.

`member_view` is the portal's entry point, as the API token is the API's: it finds the tenant
of the login through the narrow RLS lookup (`tenant_id_for_user`), enters that tenant's scope
for the rest of the request, and loads the membership. Everything the view reads afterwards is
that tenant's only — the database's row-level security makes sure of it — so another tenant's
payment or invoice id finds nothing and answers 404.

- not logged in: to the portal's login page, back here afterwards;
- logged in but no member of any (active) tenant: 403 page;
- a member whose role is not among `roles`: 403 page, nothing done.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from wasla.common.db.reads import page_read_transaction
from wasla.tenants.context import Scope, scope_enter_for_request
from wasla.tenants.lookups import tenant_id_for_user
from wasla.tenants.models import TenantMember

Role = TenantMember.Role
EVERYONE = (Role.OWNER, Role.FINANCE, Role.VIEWER)
MONEY_ROLES = (Role.OWNER, Role.FINANCE)
OWNER_ONLY = (Role.OWNER,)

View = Callable[..., HttpResponse]


def forbidden(request: HttpRequest, message: str) -> HttpResponse:
    return render(request, "portal/forbidden.html", {"message": message}, status=403)


def member_view(roles: Iterable[str] = EVERYONE) -> Callable[[View], View]:
    allowed = frozenset(roles)

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            user = request.user
            if not user.is_authenticated:
                return redirect_to_login(request.get_full_path(), reverse("portal:login"))
            tenant_id = tenant_id_for_user(user_id=user.pk)
            if tenant_id is None:
                return forbidden(request, _("This login does not belong to any store."))
            scope_enter_for_request(Scope(tenant_id=tenant_id, actor=user.get_username()))
            member = (
                TenantMember.objects.select_related("tenant")
                .filter(user_id=user.pk, tenant_id=tenant_id)
                .first()
            )
            if member is None or not member.tenant.is_active:
                return forbidden(request, _("This store is not active."))
            if member.role not in allowed:
                return forbidden(request, _("Your role does not allow this."))
            request.member = member  # type: ignore[attr-defined]
            request.tenant = member.tenant  # type: ignore[attr-defined]
            with page_read_transaction(request):
                return view(request, *args, **kwargs)

        return wrapper

    return decorate
