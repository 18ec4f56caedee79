"""Staff views of payments. Secrets are write-only: a blank field keeps the stored value."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from .models import PaymentAttempt, PaymentDispute, PaymentGatewayConfig, WebhookEvent
from .webhooks.sweep import webhook_event_replay


class GatewayConfigForm(forms.ModelForm):
    secret_key = forms.CharField(
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="Write-only. Leave blank to keep the current key.",
    )
    webhook_secret = forms.CharField(
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="Write-only. For PayPal, the webhook id. Leave blank to keep the current value.",
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
    list_filter = ["provider", "mode", "is_active"]
    readonly_fields = ["webhook_token"]


@admin.register(PaymentAttempt)
class PaymentAttemptAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "tenant",
        "order",
        "provider",
        "method",
        "amount",
        "currency",
        "status",
        "created_at",
    ]
    list_filter = ["status", "provider", "method"]
    search_fields = ["id", "provider_reference", "order__reference"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # money state moves only through the payment services

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(WebhookEvent)
class WebhookEventAdmin(PaymentAttemptAdmin):
    """The webhook inbox. Read-only, like money state; the one thing staff do here is replay a
    verified event that ended `failed` or `ignored` (after a provider outage, a bug fix)."""

    list_display = [
        "id",
        "provider",
        "event_type",
        "status",
        "signature_valid",
        "attempts",
        "next_attempt_at",
        "short_error",
        "received_at",
    ]
    list_filter = ["status", "provider", "signature_valid"]
    search_fields = ["event_id"]
    actions = ["replay"]

    @admin.display(description="error")
    def short_error(self, obj: WebhookEvent) -> str:
        first = obj.error.strip().splitlines()[0] if obj.error.strip() else ""
        return first if len(first) <= 120 else first[:119] + "…"

    def has_replay_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.has_perm("payments.change_webhookevent"))

    @admin.action(description="Replay selected failed/ignored events", permissions=["replay"])
    def replay(self, request: HttpRequest, queryset: QuerySet[WebhookEvent]) -> None:
        actor = getattr(request.user, "username", "") or "staff"
        chosen = list(queryset.values_list("pk", flat=True))
        replayed = [pk for pk in chosen if webhook_event_replay(event_pk=pk, actor=actor)]
        if replayed:
            self.message_user(request, f"Replaying {len(replayed)} event(s).", messages.SUCCESS)
        if len(replayed) < len(chosen):
            self.message_user(
                request,
                f"{len(chosen) - len(replayed)} event(s) not replayed: only verified events "
                "that are failed or ignored can be; rejected deliveries never.",
                messages.WARNING,
            )


@admin.register(PaymentDispute)
class PaymentDisputeAdmin(PaymentAttemptAdmin):
    list_display = [
        "provider_reference",
        "tenant",
        "payment_attempt",
        "amount",
        "currency",
        "reason",
        "status",
        "created_at",
    ]
    list_filter = ["provider", "status"]
    search_fields = ["provider_reference", "payment_reference"]
