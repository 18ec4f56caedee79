"""Staff views of store orders: read-only, because an order's status follows its payment
attempts through the order services (`order_mark_paid`, `order_mark_refunded`), never a form."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from wasla.common.admin_display import ViewOnly, money_display

from .models import Order


@admin.register(Order)
class OrderAdmin(ViewOnly, admin.ModelAdmin):
    """The status follows the payment attempts (order services); attempts and settlements
    point at the order (PROTECT)."""

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
