"""Staff views of payments. Secrets are write-only: a blank field keeps the stored value."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from .models import PaymentAttempt, PaymentDispute, PaymentGatewayConfig, WebhookEvent


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
    list_display = [
        "id",
        "provider",
        "event_type",
        "status",
        "signature_valid",
        "attempts",
        "received_at",
    ]
    list_filter = ["status", "provider", "signature_valid"]
    search_fields = ["event_id"]


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
