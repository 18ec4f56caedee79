"""Tenants (merchants), their API tokens, and the audit of platform-wide access.

Every tenant-owned row carries `tenant`, and is read only through tenant-scoped code
(`TenantOwned.objects.for_tenant`). On PostgreSQL row-level security enforces it again: every
concrete `TenantOwned` table, and `Tenant` itself, shows only the rows of the tenant in scope
(`wasla.tenants.rls`), and nothing when no tenant is. Seeing every tenant takes
`platform_access`, and each entry leaves a `PlatformAccessLog` row. API tokens are stored as
SHA-256 digests: the plaintext is shown once, at creation, and never again.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .tax_profile import (
    building_number_validator,
    country_code_validator,
    cr_number_validator,
    postal_code_validator,
    vat_number_validator,
)


class Tenant(models.Model):
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=60, unique=True)
    legal_name_ar = models.CharField(max_length=200, blank=True)
    legal_name_en = models.CharField(max_length=200, blank=True)
    # The tax profile (see tax_profile.py): blank until the merchant gives it; invoicing refuses
    # a tenant whose profile is incomplete (`tenant_tax_profile_problems`).
    vat_number = models.CharField(max_length=15, blank=True, validators=[vat_number_validator])
    cr_number = models.CharField(
        "commercial registration number",
        max_length=10,
        blank=True,
        validators=[cr_number_validator],
    )
    address = models.TextField(blank=True, help_text="Free-form; invoices use the fields below.")
    # National address.
    building_number = models.CharField(
        max_length=4, blank=True, validators=[building_number_validator]
    )
    street = models.CharField(max_length=200, blank=True)
    district = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    postal_code = models.CharField(max_length=5, blank=True, validators=[postal_code_validator])
    country_code = models.CharField(max_length=2, default="SA", validators=[country_code_validator])
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("tenant")
        verbose_name_plural = _("tenants")

    def __str__(self) -> str:
        return self.slug


class TenantQuerySet(models.QuerySet[Any]):
    def for_tenant(self, tenant: Tenant) -> TenantQuerySet:
        return self.filter(tenant=tenant)


class TenantOwned(models.Model):
    """Base of every tenant-owned model."""

    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="+")

    objects = TenantQuerySet.as_manager()

    class Meta:
        abstract = True


class ApiToken(TenantOwned):
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=12, db_index=True)
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.name})"


class TenantMember(TenantOwned):
    """A person of the merchant's team: one login, one tenant, one role.

    - owner: everything, including the team, API tokens and gateway keys;
    - finance: payments, refunds, settlements, invoices, exports;
    - viewer: reads only.
    The merchant portal finds the tenant from the login (`tenant_id_for_user`), then works in
    that tenant's scope like the API does after a token.
    """

    class Role(models.TextChoices):
        OWNER = "owner", _("Owner")
        FINANCE = "finance", _("Finance")
        VIEWER = "viewer", _("Viewer")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="tenant_membership"
    )
    role = models.CharField(max_length=10, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("team member")
        verbose_name_plural = _("team members")

    def __str__(self) -> str:
        return f"{self.user_id} ({self.role})"

    @property
    def can_refund(self) -> bool:
        return self.role in (self.Role.OWNER, self.Role.FINANCE)

    @property
    def can_manage(self) -> bool:
        return self.role == self.Role.OWNER


class PlatformAccessLog(models.Model):
    """One entry into `platform_access`: who looked across tenants, and why."""

    reason = models.CharField(max_length=200)
    actor = models.CharField(max_length=150)
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("platform access entry")
        verbose_name_plural = _("platform access log")

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor}: {self.reason}"
