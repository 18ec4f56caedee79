"""Merchant portal test helpers: a team member with a login, and a test client signed in as
one. Other portal tests import these too."""

from __future__ import annotations

import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.test import Client

from wasla.tenants.models import Tenant, TenantMember

PASSWORD = "correct horse battery staple 42"


def make_member(
    tenant: Tenant,
    role: str = TenantMember.Role.OWNER,
    username: str | None = None,
    email: str | None = None,
) -> User:
    """A login that is a `role` of `tenant`'s team; its password is PASSWORD."""
    username = username or f"{role}-{secrets.token_hex(4)}"
    user: User = get_user_model().objects.create_user(
        username=username, email=email or f"{username}@merchant.example", password=PASSWORD
    )
    TenantMember.objects.create(tenant=tenant, user=user, role=role)
    return user


def member_client(
    tenant: Tenant, role: str = TenantMember.Role.OWNER, language: str = "en"
) -> Client:
    """A test client signed in as a new `role` of `tenant`, reading pages in `language`."""
    client = Client()
    client.force_login(make_member(tenant, role))
    client.cookies["wasla_language"] = language
    return client


def sar(amount: str) -> str:
    """How an English page writes `amount` SAR ("SAR\u00a01,234.50")."""
    return f"SAR\u00a0{amount}"
