"""Staff views of fee plans and their assignment to tenants.

A plan version that a settlement used is frozen by the database; the admin shows it read-only
and offers "create the next version" instead, which is how a plan changes.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from wasla.common.admin_display import ViewOnly, key_value_table, money_display
from wasla.common.formatting import money_text
from wasla.common.money import MoneyError, is_exact

from .models import FeePlan, FeePlanAssignment, SettlementAdjustment, SettlementRecord
from .selectors import settlements_with_adjustments
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
                message = _("More decimals than %(currency)s has.") % {"currency": currency}
                self.add_error(name, message)
        return cleaned


class FrozenOnceUsedAdmin(admin.ModelAdmin):
    """Rows a settlement used (`in_use`) are frozen by the database: read-only here too, and
    their amounts shown to the currency's decimals (`frozen_money`: field -> its display)
    rather than as the 3-decimal inputs of a row that can still change."""

    frozen_money: dict[str, str] = {}

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return not (obj is not None and obj.in_use) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return not (obj is not None and obj.in_use) and super().has_delete_permission(request, obj)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is not None and obj.in_use:
            return [*self.readonly_fields, *self.frozen_money.values()]
        return self.readonly_fields

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields: list[Any] = list(super().get_fields(request, obj))
        if obj is not None and obj.in_use:
            fields = [self.frozen_money.get(name, name) for name in fields]
        return list(dict.fromkeys(fields))


@admin.register(FeePlan)
class FeePlanAdmin(FrozenOnceUsedAdmin):
    form = FeePlanForm
    list_display = [
        "code",
        "version",
        "currency",
        "fixed_fee_text",
        "percentage",
        "minimum_fee_text",
        "maximum_fee_text",
        "vat_rate",
        "refund_policy",
        "effective_from",
        "in_use",
    ]
    list_filter = ["code", "currency", "in_use", "effective_from"]
    search_fields = ["code", "name"]
    readonly_fields = ["in_use", "created_at"]
    actions = ["create_next_version"]

    frozen_money = {
        "fixed_fee": "fixed_fee_text",
        "minimum_fee": "minimum_fee_text",
        "maximum_fee": "maximum_fee_text",
    }
    fixed_fee_text = money_display("fixed_fee", description=_("fixed fee"))
    minimum_fee_text = money_display("minimum_fee", description=_("minimum fee"))
    maximum_fee_text = money_display("maximum_fee", description=_("maximum fee"))

    @admin.action(description=_("Create the next version (effective now) of the selected plans"))
    def create_next_version(self, request: HttpRequest, queryset: QuerySet[FeePlan]) -> None:
        now = timezone.now()
        with transaction.atomic():
            for plan in queryset:
                fee_plan_version_next(plan=plan, effective_from=now)
        message = _("New versions created: edit them before payments use them.")
        self.message_user(request, message, messages.INFO)


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
            message = _("No %(currency)s plan with code %(code)s.") % {
                "currency": currency,
                "code": code,
            }
            self.add_error("plan_code", message)
        return cleaned


@admin.register(FeePlanAssignment)
class FeePlanAssignmentAdmin(FrozenOnceUsedAdmin):
    form = FeePlanAssignmentForm
    list_display = ["tenant", "plan_code", "currency", "effective_from", "in_use"]
    list_filter = ["tenant", "plan_code", "currency", "in_use", "effective_from"]
    list_select_related = ["tenant"]
    search_fields = ["tenant__slug", "plan_code"]
    readonly_fields = ["in_use", "created_at"]
    frozen_money = {
        "fixed_fee_override": "fixed_fee_override_text",
        "minimum_fee_override": "minimum_fee_override_text",
        "maximum_fee_override": "maximum_fee_override_text",
    }
    fixed_fee_override_text = money_display("fixed_fee_override", description=_("fixed fee"))
    minimum_fee_override_text = money_display("minimum_fee_override", description=_("minimum fee"))
    maximum_fee_override_text = money_display("maximum_fee_override", description=_("maximum fee"))


class SettlementAdjustmentInline(ViewOnly, admin.TabularInline):
    model = SettlementAdjustment
    extra = 0
    fields = readonly_fields = (
        "kind",
        "refund",
        "refund_amount_text",
        "fee_delta_text",
        "created_at",
    )
    refund_amount_text = money_display(
        "refund_amount", "settlement__currency", description=_("refunded")
    )
    fee_delta_text = money_display("fee_delta", "settlement__currency", description=_("fee change"))

    def get_queryset(self, request: HttpRequest) -> QuerySet[SettlementAdjustment]:
        return super().get_queryset(request).select_related("settlement", "refund")


BREAKDOWN_AMOUNTS = {"gross", "fixed_part", "minimum_fee", "maximum_fee", "fee"}
BREAKDOWN_LABELS = {
    "plan": _("plan"),
    "plan_version": _("plan version"),
    "overrides": _("tenant's overrides"),
    "gross": _("payment"),
    "fixed_part": _("fixed part"),
    "percentage": _("percentage (%)"),
    "percentage_part": _("percentage part (exact)"),
    "minimum_fee": _("minimum fee"),
    "maximum_fee": _("maximum fee"),
    "minimum_applied": _("minimum applied"),
    "maximum_applied": _("maximum applied"),
    "capped_at_gross": _("capped at the payment"),
    "fee": _("fee (excl. VAT)"),
    "vat_rate": _("VAT rate (%)"),
    "refund_policy": _("refund policy"),
}
# Repeats or ids of what the other rows say; the rest of an older snapshot is shown as stored.
BREAKDOWN_HIDDEN = {"plan_id", "assignment_id", "override_used", "currency", "fixed"}


def fee_breakdown_rows(breakdown: dict[str, Any], currency: str) -> list[tuple[Any, Any]]:
    """The settlement's fee snapshot as (label, value) rows: amounts through `money_text`."""
    rows: list[tuple[Any, Any]] = []
    others = sorted(set(breakdown) - set(BREAKDOWN_LABELS) - BREAKDOWN_HIDDEN)
    for key in [*BREAKDOWN_LABELS, *others]:
        if key not in breakdown:
            continue
        value = breakdown[key]
        if key in BREAKDOWN_AMOUNTS and value is not None:
            value = money_text(Decimal(str(value)), currency)
        elif isinstance(value, list):
            value = ", ".join(str(item) for item in value) or "—"
        elif isinstance(value, bool):
            value = _("yes") if value else _("no")
        rows.append((BREAKDOWN_LABELS.get(key, key), value))
    return rows


@admin.register(SettlementRecord)
class SettlementRecordAdmin(ViewOnly, admin.ModelAdmin):
    """Settlements with what refunds made of them: a settlement's own amounts never change
    after a refund (each adds an adjustment), so the effective fee and net shown here come
    from `settlements_with_adjustments`, and the originals are labelled as such. View only:
    settlements move only through the settlement and invoicing services."""

    list_display = [
        "order",
        "tenant",
        "gross_text",
        "effective_fee_text",
        "effective_net_text",
        "status",
        "payment_paid_at",
    ]
    list_filter = ["tenant", "status", "currency", "payment_paid_at"]
    list_select_related = ["tenant", "order"]
    search_fields = ["order__reference", "payment_attempt__provider_reference"]
    date_hierarchy = "payment_paid_at"
    fieldsets = [
        (None, {"fields": ["tenant", "order", "payment_attempt", "status", "payment_paid_at"]}),
        (
            _("Amounts after refunds"),
            {
                "fields": [
                    "gross_text",
                    "refunded_text",
                    "effective_fee_text",
                    "effective_net_text",
                ]
            },
        ),
        (
            _("At confirmation (before any refund)"),
            {"fields": ["wasla_fee_text", "net_text", "fee_plan", "fee_breakdown_table"]},
        ),
        (_("Times"), {"fields": ["created_at", "updated_at"]}),
    ]
    readonly_fields = [
        "gross_text",
        "refunded_text",
        "effective_fee_text",
        "effective_net_text",
        "wasla_fee_text",
        "net_text",
        "fee_breakdown_table",
    ]
    inlines = [SettlementAdjustmentInline]

    gross_text = money_display("gross_amount", description=_("payment"))
    refunded_text = money_display("refunded", description=_("refunded"))
    effective_fee_text = money_display("effective_fee", description=_("Wasla fee"))
    effective_net_text = money_display("effective_net", description=_("net to merchant"))
    wasla_fee_text = money_display("wasla_fee", description=_("original Wasla fee"))
    net_text = money_display("net_amount", description=_("original net"))

    def get_queryset(self, request: HttpRequest) -> QuerySet[SettlementRecord]:
        return settlements_with_adjustments(super().get_queryset(request))

    @admin.display(description=_("fee breakdown"))
    def fee_breakdown_table(self, settlement: SettlementRecord) -> str:
        rows = fee_breakdown_rows(settlement.fee_breakdown or {}, settlement.currency)
        return key_value_table(rows) if rows else "—"
