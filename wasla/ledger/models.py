"""Ledger layer: Wasla's immutable, balanced, per-tenant double-entry books.

Invariants (invariant 5 of `docs/invariants.md`, enforced by PostgreSQL, not only here):
- Ledger rows are append-only: triggers reject UPDATE and DELETE on transactions and entries.
  Corrections are new transactions; a reversal points at the one it undoes (`reverses`, unique,
  so nothing is reversed twice).
- Every transaction balances (Σdebit = Σcredit per currency) and has at least two entries: a
  deferred constraint trigger checks it at commit, so a half-written posting never commits.
- Each entry has exactly one positive side (CHECK), and carries the tenant of its transaction
  and account (so row-level security covers entries too).
- `balance_after` is the account's running balance after the entry (debit-normal for assets and
  expenses, credit-normal otherwise), written while the account row is locked; the account's
  `balance` is the last `balance_after`.
- Each tenant's transactions form a hash chain (`sequence` 1, 2, …; `previous_hash` is the hash of
  the one before). Accounts, balances and the chain head are per tenant: no platform-wide row is
  locked on every payment.
- `idempotency_key` is unique per tenant; `fingerprint` is the hash of the content, so replaying a
  key with the same content returns the first posting and with other content is an error.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from wasla.common.money import format_amount
from wasla.tenants.models import TenantOwned


class LedgerAccount(TenantOwned):
    class Type(models.TextChoices):
        ASSET = "asset"
        LIABILITY = "liability"
        INCOME = "income"
        EXPENSE = "expense"

    code = models.CharField(max_length=200)  # a Beancount account name, see accounts.py
    type = models.CharField(max_length=10, choices=Type.choices)
    currency = models.CharField(max_length=3)
    # Normal-side running balance; only the posting engine changes it, under a row lock.
    balance = models.DecimalField(max_digits=18, decimal_places=3, default=Decimal(0))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("ledger account")
        verbose_name_plural = _("ledger accounts")
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "code", "currency"], name="ledger_account_unique_code"
            ),
        ]

    @property
    def is_debit_normal(self) -> bool:
        return self.type in (self.Type.ASSET, self.Type.EXPENSE)

    def __str__(self) -> str:
        return f"{self.code} {self.currency}"


class LedgerTransaction(TenantOwned):
    class EntryType(models.TextChoices):
        FEE = "fee"
        ADJUSTMENT = "adjustment"
        REFUND = "refund"
        INVOICE = "invoice"
        CREDIT_NOTE = "credit_note"
        PAYMENT = "payment"
        REVERSAL = "reversal"

    entry_type = models.CharField(max_length=12, choices=EntryType.choices)
    reference_id = models.CharField(max_length=100)
    idempotency_key = models.CharField(max_length=200)
    fingerprint = models.CharField(max_length=64)
    reverses = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversed_by"
    )
    sequence = models.PositiveBigIntegerField()
    previous_hash = models.CharField(max_length=64, blank=True)
    hash = models.CharField(max_length=64)
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = _("ledger transaction")
        verbose_name_plural = _("ledger transactions")
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "idempotency_key"], name="ledger_transaction_unique_key"
            ),
            models.UniqueConstraint(
                fields=["tenant", "sequence"], name="ledger_transaction_unique_sequence"
            ),
            models.CheckConstraint(
                condition=Q(sequence__gte=1), name="ledger_transaction_sequence_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.sequence} {self.entry_type} {self.reference_id}"


class FinancialLedgerEntry(TenantOwned):
    transaction = models.ForeignKey(
        LedgerTransaction, on_delete=models.PROTECT, related_name="entries"
    )
    account = models.ForeignKey(LedgerAccount, on_delete=models.PROTECT, related_name="entries")
    debit = models.DecimalField(max_digits=18, decimal_places=3, default=Decimal(0))
    credit = models.DecimalField(max_digits=18, decimal_places=3, default=Decimal(0))
    balance_after = models.DecimalField(max_digits=18, decimal_places=3)

    class Meta:
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger entries")
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(debit__gt=Decimal(0), credit=Decimal(0))
                    | Q(credit__gt=Decimal(0), debit=Decimal(0))
                ),
                name="ledger_entry_one_side_positive",
            ),
        ]
        indexes = [models.Index(fields=["account", "id"], name="ledger_entry_account_chain")]

    @property
    def currency(self) -> str:
        return self.account.currency

    def __str__(self) -> str:
        currency = self.account.currency  # the admin lists entries with their account
        side = "Dr" if self.debit else "Cr"
        amount = format_amount(self.debit or self.credit, currency)
        return f"{side} {amount} {currency} {self.account_id} (tx {self.transaction_id})"
