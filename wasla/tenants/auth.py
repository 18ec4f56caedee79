"""DRF authentication by tenant API token (`Authorization: Bearer wsl_…`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils import timezone
from rest_framework import authentication, exceptions, permissions
from rest_framework.request import Request

from .context import Scope, scope_enter_for_request
from .lookups import tenant_id_for_api_token
from .models import ApiToken, Tenant
from .services import TOKEN_PREFIX, token_digest


@dataclass(frozen=True)
class TenantPrincipal:
    """The caller of the merchant API: a tenant, identified by one of its tokens."""

    tenant: Tenant
    token_id: int
    is_authenticated: bool = True
    is_staff: bool = False

    @property
    def pk(self) -> str:
        return f"tenant:{self.tenant.pk}"


class TenantTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[TenantPrincipal, ApiToken] | None:
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Malformed Authorization header.")
        try:
            plaintext = header[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed("Malformed token.") from None
        if not plaintext.startswith(TOKEN_PREFIX):
            raise exceptions.AuthenticationFailed("Invalid token.")
        digest = token_digest(plaintext)
        # The tenant comes first (a narrow database lookup that returns its id only), then
        # the request works in that tenant's scope, token and tenant rows included.
        tenant_id = tenant_id_for_api_token(digest=digest)
        if tenant_id is None:
            raise exceptions.AuthenticationFailed("Invalid token.")
        scope_enter_for_request(Scope(tenant_id=tenant_id))
        token = (
            ApiToken.objects.select_related("tenant")
            .filter(digest=digest, revoked_at__isnull=True)
            .first()
        )
        if token is None or not token.tenant.is_active:
            raise exceptions.AuthenticationFailed("Invalid token.")
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
        return TenantPrincipal(tenant=token.tenant, token_id=token.pk), token

    def authenticate_header(self, request: Request) -> str:
        return f'{self.keyword} realm="wasla"'


class IsTenant(permissions.BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        return isinstance(request.user, TenantPrincipal)


def request_tenant(request: Request) -> Tenant:
    user = request.user
    assert isinstance(user, TenantPrincipal)
    return user.tenant
