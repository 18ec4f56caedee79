"""Staff views of fee plans and their assignment to tenants.

A plan version that a settlement used is frozen by the database; the admin shows it read-only
and offers "create the next version" instead, which is how a plan changes.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from wasla.common.money import MoneyError, is_exact

from .models import FeePlan, FeePlanAssignment, SettlementAdjustment, SettlementRecord
from .services import fee_plan_version_next


class FeePlanForm(forms.ModelForm):
    class Meta:
        model = FeePlan
        fields = ["code", "version", *FeePlan.TERMS, "effective_from"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        currency = cleaned.get("currency", "")
        for name in ("fixed_fee", "minimum_fee", "maximum_fee"):
            amount = cleaned.get(name)
            if amount is None:
                continue
            try:
                exact = is_exact(amount, currency)
            except MoneyError as exc:
                self.add_error("currency", str(exc))
                break
            if not exact:
                self.add_error(name, f"More decimals than {currency} has.")
        return cleaned


class FrozenOnceUsedAdmin(admin.ModelAdmin):
    """Rows a settlement used (`in_use`) are frozen by the database: read-only here too."""

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return not (obj is not None and obj.in_use) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return not (obj is not None and obj.in_use) and super().has_delete_permission(request, obj)


@admin.register(FeePlan)
class FeePlanAdmin(FrozenOnceUsedAdmin):
    form = FeePlanForm
    list_display = [
        "code",
        "version",
        "currency",
        "fixed_fee",
        "percentage",
        "minimum_fee",
        "maximum_fee",
        "vat_rate",
        "refund_policy",
        "effective_from",
        "in_use",
    ]
    list_filter = ["code", "currency", "in_use"]
    readonly_fields = ["in_use", "created_at"]
    actions = ["create_next_version"]

    @admin.action(description="Create the next version (effective now) of the selected plans")
    def create_next_version(self, request: HttpRequest, queryset: QuerySet[FeePlan]) -> None:
        now = timezone.now()
        with transaction.atomic():
            for plan in queryset:
                fee_plan_version_next(plan=plan, effective_from=now)
        self.message_user(
            request, "New versions created: edit them before payments use them.", messages.INFO
        )


class FeePlanAssignmentForm(forms.ModelForm):
    class Meta:
        model = FeePlanAssignment
        fields = [
            "tenant",
            "plan_code",
            "currency",
            "effective_from",
            "fixed_fee_override",
            "percentage_override",
            "minimum_fee_override",
            "maximum_fee_override",
        ]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        code, currency = cleaned.get("plan_code"), cleaned.get("currency")
        if code and not FeePlan.objects.filter(code=code, currency=currency).exists():
            self.add_error("plan_code", f"No {currency} plan with code {code!r}.")
        return cleaned


@admin.register(FeePlanAssignment)
class FeePlanAssignmentAdmin(FrozenOnceUsedAdmin):
    form = FeePlanAssignmentForm
    list_display = ["tenant", "plan_code", "currency", "effective_from", "in_use"]
    list_filter = ["plan_code", "currency", "in_use"]
    search_fields = ["tenant__slug", "plan_code"]
    readonly_fields = ["in_use", "created_at"]


class SettlementAdjustmentInline(admin.TabularInline):
    model = SettlementAdjustment
    extra = 0
    can_delete = False
    fields = ["kind", "refund", "refund_amount", "fee_delta", "created_at"]
    readonly_fields = ["kind", "refund", "refund_amount", "fee_delta", "created_at"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(SettlementRecord)
class SettlementRecordAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "tenant",
        "order",
        "gross_amount",
        "wasla_fee",
        "currency",
        "status",
        "fee_plan",
        "payment_paid_at",
    ]
    list_filter = ["status", "currency"]
    search_fields = ["order__reference"]
    inlines = [SettlementAdjustmentInline]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # settlements move only through the settlement and invoicing services

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
