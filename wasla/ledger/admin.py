"""Staff views of the ledger: read-only, because ledger rows are never edited (the database
refuses it anyway); corrections are reversal transactions posted by the services."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from .models import FinancialLedgerEntry, LedgerAccount, LedgerTransaction


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(LedgerAccount)
class LedgerAccountAdmin(ReadOnlyAdmin):
    list_display = ["code", "currency", "type", "balance", "tenant"]
    list_filter = ["type", "currency"]
    search_fields = ["code"]


class EntryInline(admin.TabularInline):
    model = FinancialLedgerEntry
    fields = ["account", "debit", "credit", "balance_after"]
    readonly_fields = ["account", "debit", "credit", "balance_after"]
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(LedgerTransaction)
class LedgerTransactionAdmin(ReadOnlyAdmin):
    list_display = ["sequence", "tenant", "entry_type", "reference_id", "created_at"]
    list_filter = ["entry_type"]
    search_fields = ["reference_id", "idempotency_key"]
    inlines = [EntryInline]


@admin.register(FinancialLedgerEntry)
class FinancialLedgerEntryAdmin(ReadOnlyAdmin):
    list_display = ["id", "transaction", "account", "debit", "credit", "balance_after"]
    list_select_related = ["transaction", "account"]
