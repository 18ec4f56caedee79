"""Staff views of invoices and credit notes: read-only. Invoices are made and issued by the
monthly run, and an issued document is final (the database refuses changes anyway); a
correction is a credit note."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from .models import CreditNote, CreditNoteLine, Invoice, InvoiceLine, InvoiceSettlement


class ReadOnly:
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


LINE_FIELDS = (
    "position",
    "description_ar",
    "description_en",
    "quantity",
    "unit_price",
    "net_amount",
    "vat_rate",
    "vat_amount",
)


class InvoiceLineInline(ReadOnly, admin.TabularInline):
    model = InvoiceLine
    fields = LINE_FIELDS
    readonly_fields = LINE_FIELDS
    extra = 0


class InvoiceSettlementInline(ReadOnly, admin.TabularInline):
    model = InvoiceSettlement
    fields = ["settlement", "fee"]
    readonly_fields = ["settlement", "fee"]
    extra = 0


@admin.register(Invoice)
class InvoiceAdmin(ReadOnly, admin.ModelAdmin):
    list_display = [
        "display_number",
        "tenant",
        "year",
        "month",
        "currency",
        "total",
        "amount_due",
        "status",
        "issued_at",
    ]
    list_filter = ["tenant", "year", "month", "status", "currency"]
    list_select_related = ["tenant"]
    search_fields = ["number", "tenant__slug"]
    inlines = [InvoiceLineInline, InvoiceSettlementInline]


class CreditNoteLineInline(ReadOnly, admin.TabularInline):
    model = CreditNoteLine
    fields = LINE_FIELDS
    readonly_fields = LINE_FIELDS
    extra = 0


@admin.register(CreditNote)
class CreditNoteAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ["display_number", "tenant", "invoice", "currency", "total", "status"]
    list_filter = ["tenant", "status", "currency"]
    list_select_related = ["tenant", "invoice"]
    inlines = [CreditNoteLineInline]
