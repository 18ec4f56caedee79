"""Staff views of payments: gateways, attempts, refunds, disputes and the webhook inbox.

Secrets are write-only: a blank field keeps the stored value, and no page ever shows one
(invariant 7). Money state (attempts, refunds, disputes, webhook events) is read-only here: it
moves only through the payment services, on verified news from the provider (invariant 3).
Amounts are written to their currency's exponent and JSON is pretty-printed, through
`wasla.common.admin_display`; bodies and provider answers are shown as stored (scrubbed).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from wasla.common.admin_display import ViewOnly, json_display, money_display

from .models import (
    PaymentAttempt,
    PaymentDispute,
    PaymentGatewayConfig,
    RefundRecord,
    WebhookEvent,
)
from .webhooks.sweep import webhook_event_replay


class GatewayConfigForm(forms.ModelForm):
    secret_key = forms.CharField(
        label=_("Secret key"),
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text=_("Write-only. Leave blank to keep the current key."),
    )
    webhook_secret = forms.CharField(
        label=_("Webhook secret"),
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text=_(
            "Write-only. For PayPal, the webhook id. Leave blank to keep the current value."
        ),
    )

    class Meta:
        model = PaymentGatewayConfig
        fields = [
            "tenant",
            "provider",
            "mode",
            "public_key",
            "secret_key",
            "webhook_secret",
            "is_active",
        ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.initial["secret_key"] = ""
        self.initial["webhook_secret"] = ""

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        for field in ("secret_key", "webhook_secret"):
            if not cleaned.get(field) and self.instance.pk:
                cleaned[field] = getattr(self.instance, field)
        return cleaned


@admin.register(PaymentGatewayConfig)
class PaymentGatewayConfigAdmin(admin.ModelAdmin):
    form = GatewayConfigForm
    list_display = ["tenant", "provider", "mode", "is_active", "created_at"]
    list_filter = ["tenant", "provider", "mode", "is_active", "created_at"]
    list_select_related = ["tenant"]
    search_fields = ["tenant__slug", "provider", "public_key"]
    readonly_fields = ["webhook_token"]


class ReadOnlyMoneyState(ViewOnly, admin.ModelAdmin):
    """Rows the payment services own: money state moves only through them."""


class RefundInline(ViewOnly, admin.TabularInline):
    model = RefundRecord
    extra = 0
    fields = readonly_fields = (
        "created_at",
        "amount_text",
        "status",
        "source",
        "reason",
        "provider_reference",
    )
    amount_text = money_display("amount", description=_("amount"))


@admin.register(PaymentAttempt)
class PaymentAttemptAdmin(ReadOnlyMoneyState):
    list_display = [
        "order",
        "tenant",
        "amount_text",
        "status",
        "provider",
        "method",
        "created_at",
    ]
    list_filter = ["tenant", "status", "provider", "method", "currency", "created_at"]
    list_select_related = ["tenant", "order"]
    search_fields = ["id", "provider_reference", "provider_payment_reference", "order__reference"]
    date_hierarchy = "created_at"
    fieldsets = [
        (None, {"fields": ["id", "tenant", "order", "gateway_config", "status"]}),
        (
            _("Amounts"),
            {"fields": ["amount_text", "refunded_text", "currency"]},
        ),
        (
            _("Provider"),
            {
                "fields": [
                    "provider",
                    "method",
                    "provider_reference",
                    "provider_payment_reference",
                    "idempotency_key",
                    "failure_code",
                    "failure_message",
                    "raw_response_pretty",
                ]
            },
        ),
        (_("Times"), {"fields": ["created_at", "updated_at", "paid_at"]}),
    ]
    readonly_fields = ["amount_text", "refunded_text", "raw_response_pretty"]
    inlines = [RefundInline]

    amount_text = money_display("amount", description=_("amount"))
    refunded_text = money_display("refunded_amount", description=_("refunded"))
    raw_response_pretty = json_display(
        "raw_response", description=_("provider's answer (scrubbed)")
    )


@admin.register(RefundRecord)
class RefundRecordAdmin(ReadOnlyMoneyState):
    list_display = [
        "created_at",
        "tenant",
        "amount_text",
        "status",
        "payment_attempt",
        "provider",
        "source",
    ]
    list_filter = ["tenant", "status", "source", "provider", "currency", "created_at"]
    list_select_related = ["tenant", "payment_attempt"]
    search_fields = [
        "id",
        "provider_reference",
        "idempotency_key",
        "payment_attempt__provider_reference",
        "payment_attempt__order__reference",
    ]
    date_hierarchy = "created_at"
    fields = [
        *("id", "tenant", "payment_attempt", "provider", "amount_text", "currency", "status"),
        *("source", "reason", "provider_reference", "idempotency_key", "failure_message"),
        *("raw_response_pretty", "created_at", "updated_at"),
    ]
    readonly_fields = ["amount_text", "raw_response_pretty"]

    amount_text = money_display("amount", description=_("amount"))
    raw_response_pretty = json_display(
        "raw_response", description=_("provider's answer (scrubbed)")
    )


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyMoneyState):
    """The webhook inbox. Read-only, like money state; the one thing staff do here is replay a
    verified event that ended `failed` or `ignored` (after a provider outage, a bug fix)."""

    list_display = [
        "id",
        "tenant",
        "provider",
        "event_type",
        "status",
        "signature_valid",
        "attempts",
        "next_attempt_at",
        "short_error",
        "received_at",
    ]
    list_filter = ["tenant", "status", "provider", "signature_valid", "received_at"]
    list_select_related = ["tenant"]
    search_fields = ["event_id", "event_type"]
    date_hierarchy = "received_at"
    fields = [
        *("id", "tenant", "gateway_config", "provider", "event_id", "event_type"),
        *("status", "signature_valid", "attempts", "attempts_at_replay", "next_attempt_at"),
        *("error", "error_history_pretty", "headers_pretty", "body_pretty"),
        *("received_at", "processed_at"),
    ]
    readonly_fields = ["error_history_pretty", "headers_pretty", "body_pretty"]
    actions = ["replay"]

    headers_pretty = json_display("headers", description=_("headers"))
    body_pretty = json_display("body", description=_("body (scrubbed)"))
    error_history_pretty = json_display("error_history", description=_("error history"))

    @admin.display(description=_("error"))
    def short_error(self, obj: WebhookEvent) -> str:
        first = obj.error.strip().splitlines()[0] if obj.error.strip() else ""
        return first if len(first) <= 120 else first[:119] + "…"

    def has_replay_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.has_perm("payments.change_webhookevent"))

    @admin.action(description=_("Replay selected failed/ignored events"), permissions=["replay"])
    def replay(self, request: HttpRequest, queryset: QuerySet[WebhookEvent]) -> None:
        actor = getattr(request.user, "username", "") or "staff"
        chosen = list(queryset.values_list("pk", flat=True))
        replayed = [pk for pk in chosen if webhook_event_replay(event_pk=pk, actor=actor)]
        if replayed:
            message = ngettext(
                "Replaying %(count)d event.", "Replaying %(count)d events.", len(replayed)
            ) % {"count": len(replayed)}
            self.message_user(request, message, messages.SUCCESS)
        skipped = len(chosen) - len(replayed)
        if skipped:
            message = ngettext(
                "%(count)d event not replayed: only verified events that are failed or "
                "ignored can be; rejected deliveries never.",
                "%(count)d events not replayed: only verified events that are failed or "
                "ignored can be; rejected deliveries never.",
                skipped,
            ) % {"count": skipped}
            self.message_user(request, message, messages.WARNING)


@admin.register(PaymentDispute)
class PaymentDisputeAdmin(ReadOnlyMoneyState):
    list_display = [
        "provider_reference",
        "tenant",
        "payment_attempt",
        "amount_text",
        "reason",
        "status",
        "created_at",
    ]
    list_filter = ["tenant", "provider", "status", "created_at"]
    list_select_related = ["tenant", "payment_attempt"]
    search_fields = ["provider_reference", "payment_reference"]
    fields = [
        *("tenant", "provider", "provider_reference", "payment_attempt", "payment_reference"),
        *("amount_text", "currency", "reason", "status", "raw_pretty"),
        *("created_at", "updated_at"),
    ]
    readonly_fields = ["amount_text", "raw_pretty"]

    amount_text = money_display("amount", description=_("amount"))
    raw_pretty = json_display("raw", description=_("provider's event (scrubbed)"))
