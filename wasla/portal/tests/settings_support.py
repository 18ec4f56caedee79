"""The settings pages' tests speak of memberships (roles, removal), so their `make_member`
returns the `TenantMember` row of the login that `testsupport.portal` makes."""

from __future__ import annotations

from testsupport.portal import PASSWORD
from testsupport.portal import make_member as make_login
from testsupport.portal import member_client as client_for
from wasla.tenants.models import Tenant, TenantMember

__all__ = ["PASSWORD", "client_for", "make_member"]


def make_member(tenant: Tenant, role: str = "owner", username: str | None = None) -> TenantMember:
    return make_login(tenant, role, username).tenant_membership
