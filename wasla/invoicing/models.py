"""Invoicing: Wasla's monthly tax invoices to each merchant, and the credit notes that correct them.

Invariants (docs/invariants.md, invariant 9), held by PostgreSQL and not only by Python
(migration 0002, proven by raw SQL):
- A document is born a `draft` (no number) and gets its lines while it is one. Issuing it assigns
  the next number of its series; from then on its tenant, currency, period, number, amounts,
  issue time and due date never change, it is never deleted, and its lines (and, for an invoice,
  the settlements it bills) can be neither added, changed nor removed. An invoice's status only
  moves forwards (`issued` → `paid`), its `amount_paid` and `amount_credited` only grow and
  `paid_at`, once set, stays. A credit note, once issued, is frozen whole, and so are the
  settlement adjustments it credits. Corrections are credit notes.
- Payments recorded on an invoice and merchant credits are facts: never changed nor deleted
  (migration 0004). The same transfer (invoice, method, reference) is recorded once (unique);
  a settlement adjustment is credited by at most one credit note (unique link).
- Numbers are gap-free and never reused: each series has one `DocumentCounter` row, locked by
  the issuing transaction (a rolled-back issue gives its number back) and only ever raised.
- One invoice per tenant, calendar month (Asia/Riyadh) and currency, void drafts aside (partial
  unique constraint); a settlement is billed by at most one invoice (unique link).
- `total = subtotal + vat_total` and `amount_due = total - amount_paid - amount_credited -
  amount_credit_applied ≥ 0` (CHECK constraints): what credit notes take off an unpaid invoice
  is `amount_credited`; the merchant's credit used at issue is `amount_credit_applied`.
- An issued document carries its buyer and seller as they stood at issue (snapshots, frozen
  with it); editing a tax profile later changes no issued document (migration 0007).
- A merchant credit is used by invoices (`MerchantCreditUse`, facts); its uses never add up to
  more than the credit (a trigger holding the credit's row, migration 0007).
- Collection by card: one billing card per tenant; one collection try per (invoice, try
  number), so two collect runs cannot both make try n, and each try's Stripe idempotency key
  (`wasla-invoice-<id>-try-<n>`) is charged at most once. A billing webhook event is recorded
  once (unique event id), so a replayed delivery has no second effect.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from wasla.common.money import format_amount
from wasla.settlement.models import SettlementAdjustment, SettlementRecord
from wasla.tenants.models import TenantOwned

ZERO = Decimal(0)


def _money(**kwargs: object) -> models.DecimalField:  # type: ignore[type-arg]
    return models.DecimalField(max_digits=14, decimal_places=3, **kwargs)  # type: ignore[arg-type]


class DocumentSeries(models.TextChoices):
    INVOICE = "invoice"
    CREDIT_NOTE = "credit_note"


SERIES_PREFIX = {DocumentSeries.INVOICE: "INV", DocumentSeries.CREDIT_NOTE: "CN"}


def document_number_display(series: str, number: int | None) -> str:
    """The number as people read it: `INV-000001`, `CN-000001` (empty while a draft)."""
    if number is None:
        return ""
    return f"{SERIES_PREFIX[DocumentSeries(series)]}-{number:06d}"


class DocumentCounter(models.Model):
    """The last number issued in one series, across all of Wasla (not tenant-owned)."""

    series = models.CharField(max_length=20, choices=DocumentSeries.choices, unique=True)
    last_number = models.PositiveBigIntegerField(default=0)

    class Meta:
        verbose_name = _("document counter")
        verbose_name_plural = _("document counters")

    def __str__(self) -> str:
        return f"{self.series}: {self.last_number}"


class Invoice(TenantOwned):
    class Status(models.TextChoices):
        DRAFT = "draft"
        ISSUED = "issued"
        PAID = "paid"
        VOID = "void"  # a draft abandoned; an issued invoice is corrected by credit notes

    currency = models.CharField(max_length=3, default="SAR")
    # The calendar month (Asia/Riyadh) the invoice bills; earlier stragglers ride along.
    year = models.PositiveSmallIntegerField()
    month = models.PositiveSmallIntegerField()
    number = models.PositiveBigIntegerField(null=True, blank=True, unique=True)
    total_operations = models.PositiveIntegerField(default=0)
    subtotal = _money(default=ZERO)
    vat_total = _money(default=ZERO)
    total = _money(default=ZERO)
    amount_paid = _money(default=ZERO)
    # What issued credit notes took off the amount due while some was still due.
    amount_credited = _money(default=ZERO)
    # The merchant's credit (from earlier credit notes) used at issue; frozen with the issue.
    amount_credit_applied = _money(default=ZERO, db_default=ZERO)
    amount_due = _money(default=ZERO)
    due_date = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    issued_at = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    # The parties as they stood at issue (buyer: the tenant's tax profile; seller: Wasla's, with
    # its IBAN); what the documents print, whatever the profiles say later.
    buyer_snapshot = models.JSONField(null=True, blank=True)
    seller_snapshot = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("invoice")
        verbose_name_plural = _("invoices")
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "year", "month", "currency"],
                condition=~Q(status="void"),
                name="invoice_one_per_period",
            ),
            models.CheckConstraint(
                condition=Q(month__gte=1, month__lte=12, year__gte=2000, year__lte=9999),
                name="invoice_period_sane",
            ),
            models.CheckConstraint(
                condition=Q(
                    subtotal__gte=ZERO,
                    vat_total__gte=ZERO,
                    amount_paid__gte=ZERO,
                    amount_credited__gte=ZERO,
                    amount_credit_applied__gte=ZERO,
                    amount_due__gte=ZERO,
                    total=F("subtotal") + F("vat_total"),
                    amount_due=F("total")
                    - F("amount_paid")
                    - F("amount_credited")
                    - F("amount_credit_applied"),
                ),
                name="invoice_amounts_add_up",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["draft", "void"])
                | Q(number__isnull=False, issued_at__isnull=False, due_date__isnull=False),
                name="invoice_issued_has_number",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["draft", "void"])
                | Q(buyer_snapshot__isnull=False, seller_snapshot__isnull=False),
                name="invoice_issued_has_parties",
            ),
            models.CheckConstraint(
                condition=~Q(status="paid") | Q(paid_at__isnull=False, amount_due=ZERO),
                name="invoice_paid_is_settled",
            ),
        ]
        indexes = [models.Index(fields=["tenant", "year", "month"])]

    @property
    def display_number(self) -> str:
        return document_number_display(DocumentSeries.INVOICE, self.number)

    def __str__(self) -> str:
        label = self.display_number or f"draft {self.pk}"
        return f"{label} {self.year}-{self.month:02d} {self.currency}"


class DocumentLine(models.Model):
    """What one line of an invoice or credit note says."""

    position = models.PositiveSmallIntegerField(default=1)
    description_ar = models.CharField(max_length=200)
    description_en = models.CharField(max_length=200)
    quantity = models.PositiveIntegerField()
    # The average per unit, for reading; `net_amount` (the exact sum) is what counts.
    unit_price = _money()
    net_amount = _money()
    vat_rate = models.DecimalField(max_digits=5, decimal_places=2, help_text="Percent.")
    vat_amount = _money()

    class Meta:
        abstract = True


class InvoiceLine(TenantOwned, DocumentLine):
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="lines")

    class Meta:
        verbose_name = _("invoice line")
        verbose_name_plural = _("invoice lines")
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(net_amount__gte=ZERO, vat_amount__gte=ZERO, unit_price__gte=ZERO),
                name="invoice_line_amounts_sane",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.description_en} x {self.quantity}"


class InvoiceSettlement(TenantOwned):
    """A settlement billed by an invoice, with the fee billed for it (net of reductions)."""

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="settlement_links")
    settlement = models.OneToOneField(
        SettlementRecord, on_delete=models.PROTECT, related_name="invoice_link"
    )
    fee = _money()

    class Meta:
        verbose_name = _("invoiced settlement")
        verbose_name_plural = _("invoiced settlements")

    def __str__(self) -> str:
        return f"settlement {self.settlement_id} on invoice {self.invoice_id}"


class CreditNote(TenantOwned):
    class Status(models.TextChoices):
        DRAFT = "draft"
        ISSUED = "issued"

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="credit_notes")
    currency = models.CharField(max_length=3, default="SAR")
    number = models.PositiveBigIntegerField(null=True, blank=True, unique=True)
    reason = models.TextField()
    subtotal = _money(default=ZERO)
    vat_total = _money(default=ZERO)
    total = _money(default=ZERO)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    issued_at = models.DateTimeField(null=True, blank=True)
    buyer_snapshot = models.JSONField(null=True, blank=True)  # as on Invoice
    seller_snapshot = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("credit note")
        verbose_name_plural = _("credit notes")
        constraints = [
            models.CheckConstraint(
                condition=Q(status="draft")
                | Q(buyer_snapshot__isnull=False, seller_snapshot__isnull=False),
                name="credit_note_issued_has_parties",
            ),
            models.CheckConstraint(
                condition=Q(
                    subtotal__gte=ZERO, vat_total__gte=ZERO, total=F("subtotal") + F("vat_total")
                ),
                name="credit_note_amounts_add_up",
            ),
            models.CheckConstraint(
                condition=Q(status="draft") | Q(number__isnull=False, issued_at__isnull=False),
                name="credit_note_issued_has_number",
            ),
        ]

    @property
    def display_number(self) -> str:
        return document_number_display(DocumentSeries.CREDIT_NOTE, self.number)

    def __str__(self) -> str:
        return self.display_number or f"credit note draft {self.pk}"


class CreditNoteLine(TenantOwned, DocumentLine):
    credit_note = models.ForeignKey(CreditNote, on_delete=models.PROTECT, related_name="lines")

    class Meta:
        verbose_name = _("credit note line")
        verbose_name_plural = _("credit note lines")
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(net_amount__gte=ZERO, vat_amount__gte=ZERO, unit_price__gte=ZERO),
                name="credit_note_line_amounts_sane",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.description_en} x {self.quantity}"


class InvoicePayment(TenantOwned):
    """Money received against an invoice: a bank transfer staff recorded, or a card charge."""

    class Method(models.TextChoices):
        BANK_TRANSFER = "bank_transfer"
        CARD = "card"

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="payments")
    amount = _money()
    paid_on = models.DateField()
    reference = models.CharField(max_length=100, help_text="The bank's or provider's reference.")
    method = models.CharField(max_length=20, choices=Method.choices)
    recorded_at = models.DateTimeField()
    recorded_by = models.CharField(max_length=150)

    class Meta:
        verbose_name = _("invoice payment")
        verbose_name_plural = _("invoice payments")
        ordering = ["recorded_at", "id"]
        constraints = [
            # Recording the same transfer twice finds the first record.
            models.UniqueConstraint(
                fields=["invoice", "method", "reference"], name="invoice_payment_once"
            ),
            models.CheckConstraint(
                condition=Q(amount__gt=ZERO) & ~Q(reference=""), name="invoice_payment_sane"
            ),
        ]

    def __str__(self) -> str:
        amount = format_amount(self.amount, self.invoice.currency)
        return f"{self.method} {self.reference}: {amount} on invoice {self.invoice_id}"


class CreditNoteAdjustment(TenantOwned):
    """A refund's fee change (a `credit_note_due` adjustment) credited by a credit note."""

    credit_note = models.ForeignKey(
        CreditNote, on_delete=models.PROTECT, related_name="adjustment_links"
    )
    adjustment = models.OneToOneField(
        SettlementAdjustment, on_delete=models.PROTECT, related_name="credit_note_link"
    )

    class Meta:
        verbose_name = _("credited adjustment")
        verbose_name_plural = _("credited adjustments")

    def __str__(self) -> str:
        return f"adjustment {self.adjustment_id} on credit note {self.credit_note_id}"


class MerchantCredit(TenantOwned):
    """What Wasla owes a merchant: the part of a credit note its invoice no longer owed (it was
    paid). In the books it is Receivable's credit balance; a later invoice may use it."""

    credit_note = models.OneToOneField(
        CreditNote, on_delete=models.PROTECT, related_name="merchant_credit"
    )
    currency = models.CharField(max_length=3, default="SAR")
    amount = _money()
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = _("merchant credit")
        verbose_name_plural = _("merchant credits")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=ZERO), name="merchant_credit_positive"),
        ]

    def __str__(self) -> str:
        amount = format_amount(self.amount, self.currency)
        return f"credit {amount} {self.currency} from credit note {self.credit_note_id}"


class BillingCard(TenantOwned):
    """The merchant's card on Wasla's own Stripe account, saved through setup-mode Checkout.

    The Stripe Customer is made first (card fields empty); `payment_method_id` is set once the
    card is saved, and replaced when the merchant saves another."""

    stripe_customer_id = models.CharField(max_length=100)
    payment_method_id = models.CharField(max_length=100, blank=True, default="")
    brand = models.CharField(max_length=20, blank=True, default="")
    last4 = models.CharField(max_length=4, blank=True, default="")
    exp_month = models.PositiveSmallIntegerField(null=True, blank=True)
    exp_year = models.PositiveSmallIntegerField(null=True, blank=True)
    saved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("billing card")
        verbose_name_plural = _("billing cards")
        constraints = [
            models.UniqueConstraint(fields=["tenant"], name="billing_card_one_per_tenant"),
        ]

    @property
    def is_saved(self) -> bool:
        return bool(self.payment_method_id)

    def __str__(self) -> str:
        return f"{self.brand} •••• {self.last4}" if self.is_saved else self.stripe_customer_id


class CollectionTry(TenantOwned):
    """One off-session charge of an invoice's amount due; try n is due n-th day of the schedule.

    The row is committed `pending` before Stripe is called; the answer (or the billing webhook,
    whichever comes first) settles it. A `succeeded` try is not yet a payment: the billing
    webhook records the payment on the invoice."""

    class Status(models.TextChoices):
        PENDING = "pending"
        SUCCEEDED = "succeeded"
        DECLINED = "declined"
        REQUIRES_AUTHENTICATION = "requires_authentication"
        FAILED = "failed"

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="collection_tries")
    number = models.PositiveSmallIntegerField()
    status = models.CharField(max_length=30, choices=Status.choices, default=Status.PENDING)
    payment_intent_id = models.CharField(max_length=100, blank=True, default="")
    # The on-session PaymentIntent the merchant started on the hosted page (3-D Secure).
    action_intent_id = models.CharField(max_length=100, blank=True, default="")
    decline_code = models.CharField(max_length=100, blank=True, default="")
    decline_message = models.CharField(max_length=500, blank=True, default="")
    attempted_at = models.DateTimeField()
    next_try_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("collection try")
        verbose_name_plural = _("collection tries")
        ordering = ["invoice_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["invoice", "number"], name="collection_try_once"),
            models.CheckConstraint(condition=Q(number__gte=1), name="collection_try_number_sane"),
        ]

    @property
    def idempotency_key(self) -> str:
        return f"wasla-invoice-{self.invoice_id}-try-{self.number}"

    def __str__(self) -> str:
        return f"try {self.number} of invoice {self.invoice_id}: {self.status}"


class BillingWebhookEvent(models.Model):
    """A verified event of Wasla's own Stripe account, recorded once (platform-level: the
    event may name no tenant)."""

    class Status(models.TextChoices):
        PROCESSED = "processed"
        IGNORED = "ignored"
        FAILED = "failed"

    event_id = models.CharField(max_length=255, unique=True)
    event_type = models.CharField(max_length=100)
    object_id = models.CharField(max_length=255, blank=True, default="")
    status = models.CharField(max_length=10, choices=Status.choices)
    detail = models.TextField(blank=True, default="")
    received_at = models.DateTimeField()

    class Meta:
        verbose_name = _("billing webhook event")
        verbose_name_plural = _("billing webhook events")

    def __str__(self) -> str:
        return f"{self.event_type} {self.event_id}: {self.status}"


class MerchantCreditUse(TenantOwned):
    """Part of a merchant credit used by an invoice at its issue (never changed nor deleted;
    the uses of one credit never add up to more than it: trigger, migration 0007)."""

    credit = models.ForeignKey(MerchantCredit, on_delete=models.PROTECT, related_name="uses")
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="credit_uses")
    amount = _money()
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = _("merchant credit use")
        verbose_name_plural = _("merchant credit uses")
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=ZERO), name="merchant_credit_use_positive"
            ),
            models.UniqueConstraint(fields=["credit", "invoice"], name="merchant_credit_use_once"),
        ]

    def __str__(self) -> str:
        return f"{self.amount} of credit {self.credit_id} on invoice {self.invoice_id}"


class BillingRefund(TenantOwned):
    """A card PaymentIntent of an invoice that the invoice could not take (paid meanwhile by
    another one, or less due than was charged), given back whole through Stripe's Refund API.

    One row per PaymentIntent (unique), committed before Stripe is asked, whose idempotency key
    derives from it (`wasla-refund-<pi>`): however often the PaymentIntent is reported, it is
    refunded once. Nothing is posted to the ledger: the payment was never recorded."""

    class Status(models.TextChoices):
        PENDING = "pending"  # not yet accepted by Stripe (the daily collection asks again)
        SUCCEEDED = "succeeded"  # accepted by Stripe
        FAILED = "failed"  # Stripe refused it: for staff

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="card_refunds")
    payment_intent_id = models.CharField(max_length=100, unique=True)
    amount = _money()
    currency = models.CharField(max_length=3)
    reason = models.CharField(max_length=500)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    stripe_refund_id = models.CharField(max_length=100, blank=True, default="")
    failure_message = models.CharField(max_length=500, blank=True, default="")
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("billing refund")
        verbose_name_plural = _("billing refunds")
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=ZERO), name="billing_refund_positive"),
        ]

    @property
    def idempotency_key(self) -> str:
        return f"wasla-refund-{self.payment_intent_id}"

    def __str__(self) -> str:
        return f"refund of {self.payment_intent_id} ({self.status}) on invoice {self.invoice_id}"
