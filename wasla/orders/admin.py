"""Staff views of store orders: read-only, because an order's status follows its payment
attempts through the order services (`order_mark_paid`, `order_mark_refunded`), never a form."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from wasla.common.admin_display import money_display

from .models import Order


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ["reference", "tenant", "amount_text", "status", "created_at", "paid_at"]
    list_filter = ["tenant", "status", "currency", "created_at", "paid_at"]
    list_select_related = ["tenant"]
    search_fields = ["reference", "id", "customer_email", "customer_phone"]
    date_hierarchy = "created_at"
    fields = [
        *("id", "tenant", "reference", "amount_text", "currency", "status"),
        *("customer_email", "customer_phone", "created_at", "paid_at"),
    ]
    readonly_fields = ["amount_text"]

    amount_text = money_display("amount", description=_("amount"))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # the status follows the payment attempts, through the order services

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # payment attempts and settlements point at it (PROTECT)
