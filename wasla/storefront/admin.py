"""Staff view of the demo storefront's products (what the example checkout sells)."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from wasla.common.admin_display import money_display

from .models import Product


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["name", "tenant", "price_text", "is_active"]
    list_filter = ["tenant", "currency", "is_active"]
    list_select_related = ["tenant"]
    search_fields = ["name", "tenant__slug"]

    price_text = money_display("price", description=_("price"))
