"""Staff views of tenants (merchants), their team, API tokens and the platform-access audit.

The admin site's own header and title are set here, translatable like every page. A tenant's
tax profile is grouped as an invoice prints it (legal names and numbers, then the national
address); invoicing refuses a tenant whose profile is incomplete, so the list says which are.
API tokens are SHA-256 digests shown by prefix only; the audit log is never edited.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from wasla.common.admin_display import ViewOnly

from .models import ApiToken, PlatformAccessLog, Tenant, TenantMember
from .tax_profile import tenant_tax_profile_problems

admin.site.site_header = _("Wasla back office")
admin.site.site_title = _("Wasla back office")
admin.site.index_title = _("Administration")


class TenantMemberFormSet(BaseInlineFormSet):
    @classmethod
    def get_default_prefix(cls) -> str:
        return "members"  # `TenantOwned.tenant` has no reverse accessor to name it after


class TenantMemberInline(admin.TabularInline):
    model = TenantMember
    formset = TenantMemberFormSet
    fields = ["user", "role", "created_at"]
    readonly_fields = ["created_at"]
    raw_id_fields = ["user"]
    extra = 0

    def get_queryset(self, request: HttpRequest) -> Any:
        return super().get_queryset(request).select_related("user")


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    list_display = ["slug", "name", "vat_number", "is_active", "tax_profile_complete", "created_at"]
    list_filter = ["is_active", "created_at"]
    search_fields = ["slug", "name", "legal_name_ar", "legal_name_en", "vat_number", "cr_number"]
    readonly_fields = ["created_at", "tax_profile_complete"]
    fieldsets = [
        (None, {"fields": ["name", "slug", "is_active", "created_at"]}),
        (
            _("Tax profile"),
            {
                "fields": [
                    "legal_name_ar",
                    "legal_name_en",
                    "vat_number",
                    "cr_number",
                    "tax_profile_complete",
                ],
                "description": _("What Wasla's tax invoices to this merchant print as the buyer."),
            },
        ),
        (
            _("National address"),
            {
                "fields": [
                    "building_number",
                    "street",
                    "district",
                    "city",
                    "postal_code",
                    "country_code",
                    "address",
                ]
            },
        ),
    ]
    inlines = [TenantMemberInline]

    @admin.display(description=_("tax profile complete"), boolean=True)
    def tax_profile_complete(self, tenant: Tenant) -> bool:
        return not tenant_tax_profile_problems(tenant)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens are made in the portal or by the API (the plaintext is shown once, there)."""

    list_display = ["prefix", "name", "tenant", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["tenant", "created_at", "revoked_at"]
    list_select_related = ["tenant"]
    search_fields = ["prefix", "name", "tenant__slug"]
    fields = readonly_fields = (
        *("tenant", "name", "prefix", "created_at", "last_used_at", "revoked_at"),
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(PlatformAccessLog)
class PlatformAccessLogAdmin(ViewOnly, admin.ModelAdmin):
    """The audit of cross-tenant access: evidence, so nobody changes or deletes it here."""

    list_display = ["at", "actor", "reason"]
    list_filter = ["at"]
    search_fields = ["actor", "reason"]
    date_hierarchy = "at"
