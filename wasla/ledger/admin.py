"""Staff views of the ledger: read-only, because ledger rows are never edited (the database
refuses it anyway, invariant 5); corrections are reversal transactions posted by the services.
Amounts are written to the account's currency exponent (`money_display`)."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from wasla.common.admin_display import ViewOnly, money_display

from .models import FinancialLedgerEntry, LedgerAccount, LedgerTransaction


class ReadOnlyAdmin(ViewOnly, admin.ModelAdmin):
    """Ledger rows: the database refuses any change (invariant 5)."""


@admin.register(LedgerAccount)
class LedgerAccountAdmin(ReadOnlyAdmin):
    list_display = ["code", "tenant", "currency", "type", "balance_text", "created_at"]
    list_filter = ["tenant", "type", "currency", "created_at"]
    list_select_related = ["tenant"]
    search_fields = ["code", "tenant__slug"]
    fields = ["tenant", "code", "type", "currency", "balance_text", "created_at"]
    readonly_fields = ["balance_text"]

    balance_text = money_display("balance", description=_("balance"))


ENTRY_FIELDS = ("account", "debit_text", "credit_text", "balance_after_text")


class EntryInline(ViewOnly, admin.TabularInline):
    model = FinancialLedgerEntry
    fields = readonly_fields = ENTRY_FIELDS
    extra = 0

    debit_text = money_display("debit", "account__currency", description=_("debit"))
    credit_text = money_display("credit", "account__currency", description=_("credit"))
    balance_after_text = money_display(
        "balance_after", "account__currency", description=_("balance after")
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[FinancialLedgerEntry]:
        return super().get_queryset(request).select_related("account")


@admin.register(LedgerTransaction)
class LedgerTransactionAdmin(ReadOnlyAdmin):
    list_display = ["sequence", "tenant", "entry_type", "reference_id", "created_at"]
    list_filter = ["tenant", "entry_type", "created_at"]
    list_select_related = ["tenant"]
    search_fields = ["reference_id", "idempotency_key"]
    date_hierarchy = "created_at"
    fields = [
        *("tenant", "sequence", "entry_type", "reference_id", "idempotency_key", "reverses"),
        *("created_at", "fingerprint", "previous_hash", "hash"),
    ]
    inlines = [EntryInline]


@admin.register(FinancialLedgerEntry)
class FinancialLedgerEntryAdmin(ReadOnlyAdmin):
    list_display = ["id", "tenant", "transaction", "account", *ENTRY_FIELDS[1:]]
    list_filter = ["tenant", "account__type", "account__currency", "transaction__created_at"]
    list_select_related = ["tenant", "transaction", "account"]
    search_fields = ["transaction__reference_id", "account__code"]
    fields = ["tenant", "transaction", *ENTRY_FIELDS]
    readonly_fields = ENTRY_FIELDS[1:]

    debit_text = EntryInline.debit_text
    credit_text = EntryInline.credit_text
    balance_after_text = EntryInline.balance_after_text
