"""Settlement layer: fee plans and Wasla's fee on each paid payment.

Invariants, held by PostgreSQL and not only by Python (migration 0005, tested by raw SQL):
- A `FeePlan` row is one version of a plan; a change is a new version row (unique `(code,
  version)`). Once any settlement used a version, the row is `in_use` and can never be updated
  or deleted (trigger); the settlement's insert marks it so. The same holds for a tenant's
  `FeePlanAssignment`.
- One settlement per order and per payment attempt (unique); `net_amount = gross_amount -
  wasla_fee` (CHECK). The fee breakdown is a snapshot taken when the payment was confirmed
  (plan version, overrides, refund policy), so later plan changes never touch past settlements
  nor how their refunds are treated.
- An `invoiced` or `paid` settlement cannot change its amounts, currency, order, attempt, plan,
  payment time or snapshot, and cannot be deleted (trigger); its status may still move.
- Refunds never edit a settlement's amounts: each one adds a `SettlementAdjustment` row (a new
  fact); a full refund before invoicing also marks the settlement `reversed` when the policy
  gives the fee back.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Now
from django.utils.translation import gettext_lazy as _

from wasla.common.money import format_amount
from wasla.orders.models import Order
from wasla.payments.models import PaymentAttempt, RefundRecord
from wasla.tenants.models import TenantOwned

from .fees import RefundPolicy

DEFAULT_PLAN_CODE = "standard"


class FeePlan(models.Model):
    """One version of a platform-wide fee plan, in one currency (its amounts are in it)."""

    # What a version says; the next version starts as a copy of these.
    TERMS = (
        "name",
        "currency",
        "fixed_fee",
        "percentage",
        "vat_rate",
        "minimum_fee",
        "maximum_fee",
        "refund_policy",
    )

    code = models.SlugField(max_length=40)
    name = models.CharField(max_length=100)
    version = models.PositiveIntegerField()
    currency = models.CharField(max_length=3, default="SAR")
    fixed_fee = models.DecimalField(max_digits=14, decimal_places=3, default=Decimal(0))
    percentage = models.DecimalField(
        max_digits=7, decimal_places=4, default=Decimal(0), help_text="2.5 means 2.5 %."
    )
    vat_rate = models.DecimalField(
        max_digits=5, decimal_places=2, default=Decimal("15.00"), help_text="Percent."
    )
    minimum_fee = models.DecimalField(max_digits=14, decimal_places=3, null=True, blank=True)
    maximum_fee = models.DecimalField(max_digits=14, decimal_places=3, null=True, blank=True)
    refund_policy = models.CharField(
        max_length=20, choices=RefundPolicy.choices, default=RefundPolicy.PERCENTAGE_BACK
    )
    effective_from = models.DateTimeField()
    # Set by the database when a settlement first uses this version; from then on the row is
    # frozen (trigger). Not editable by anyone, staff included.
    in_use = models.BooleanField(default=False, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("fee plan version")
        verbose_name_plural = _("fee plan versions")
        constraints = [
            models.UniqueConstraint(fields=["code", "version"], name="fee_plan_version_unique"),
            models.CheckConstraint(
                condition=Q(
                    version__gte=1,
                    fixed_fee__gte=Decimal(0),
                    percentage__gte=Decimal(0),
                    percentage__lte=Decimal(100),
                    vat_rate__gte=Decimal(0),
                    vat_rate__lte=Decimal(100),
                )
                & (Q(minimum_fee__isnull=True) | Q(minimum_fee__gte=Decimal(0)))
                & (Q(maximum_fee__isnull=True) | Q(maximum_fee__gte=Decimal(0)))
                & (
                    Q(minimum_fee__isnull=True)
                    | Q(maximum_fee__isnull=True)
                    | Q(maximum_fee__gte=F("minimum_fee"))
                ),
                name="fee_plan_terms_sane",
            ),
        ]
        indexes = [models.Index(fields=["code", "currency", "effective_from"])]

    def __str__(self) -> str:
        return f"{self.code} v{self.version} ({self.currency})"


class FeePlanAssignment(TenantOwned):
    """From `effective_from` on, the tenant's payments in `currency` use plan `plan_code` (the
    version in force at each payment), with these terms overridden where set."""

    plan_code = models.SlugField(max_length=40)
    currency = models.CharField(max_length=3, default="SAR")
    effective_from = models.DateTimeField()
    fixed_fee_override = models.DecimalField(max_digits=14, decimal_places=3, null=True, blank=True)
    percentage_override = models.DecimalField(max_digits=7, decimal_places=4, null=True, blank=True)
    minimum_fee_override = models.DecimalField(
        max_digits=14, decimal_places=3, null=True, blank=True
    )
    maximum_fee_override = models.DecimalField(
        max_digits=14, decimal_places=3, null=True, blank=True
    )
    in_use = models.BooleanField(default=False, editable=False)  # as FeePlan.in_use
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("fee plan assignment")
        verbose_name_plural = _("fee plan assignments")
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "currency", "effective_from"],
                name="fee_plan_assignment_unique_start",
            ),
            models.CheckConstraint(
                condition=(Q(fixed_fee_override__isnull=True) | Q(fixed_fee_override__gte=0))
                & (
                    Q(percentage_override__isnull=True)
                    | Q(percentage_override__gte=0, percentage_override__lte=100)
                )
                & (Q(minimum_fee_override__isnull=True) | Q(minimum_fee_override__gte=0))
                & (Q(maximum_fee_override__isnull=True) | Q(maximum_fee_override__gte=0)),
                name="fee_plan_assignment_overrides_sane",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.tenant_id}: {self.plan_code} ({self.currency}) from {self.effective_from}"


class SettlementRecord(TenantOwned):
    class Status(models.TextChoices):
        PENDING = "pending"
        INVOICED = "invoiced"
        PAID = "paid"
        REVERSED = "reversed"

    order = models.OneToOneField(Order, on_delete=models.PROTECT, related_name="settlement")
    payment_attempt = models.OneToOneField(
        PaymentAttempt, on_delete=models.PROTECT, related_name="settlement"
    )
    currency = models.CharField(max_length=3, default="SAR")
    gross_amount = models.DecimalField(max_digits=14, decimal_places=3)
    wasla_fee = models.DecimalField(max_digits=14, decimal_places=3)
    net_amount = models.DecimalField(max_digits=14, decimal_places=3)
    fee_breakdown = models.JSONField(default=dict)
    # The plan version and assignment the fee came from (null only for settlements made before
    # the fee engine); PROTECT, and the rows themselves are frozen once used.
    fee_plan = models.ForeignKey(
        FeePlan, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    fee_plan_assignment = models.ForeignKey(
        FeePlanAssignment, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # When the payment was confirmed: the time that picks the plan and the report/invoice month.
    payment_paid_at = models.DateTimeField(db_default=Now())
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("settlement")
        verbose_name_plural = _("settlements")
        indexes = [
            models.Index(fields=["tenant", "payment_paid_at"]),
            # A tenant's settlements newest first (API, portal): see bench/dashboard.py.
            models.Index(fields=["tenant", "created_at", "id"], name="settlement_tenant_created"),
            # The staff dashboard's fee-plan simulator replays a period's settlements of one
            # currency across every tenant: an index-only scan of these columns instead of the
            # whole table (323 -> 110-140 ms for 90 days at a million settlements).
            models.Index(
                fields=["currency", "payment_paid_at"],
                include=["tenant", "status", "gross_amount", "wasla_fee"],
                name="settlement_currency_paid_cover",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(net_amount=F("gross_amount") - F("wasla_fee")),
                name="settlement_net_is_gross_minus_fee",
            ),
            models.CheckConstraint(
                condition=Q(wasla_fee__gte=Decimal(0), gross_amount__gt=Decimal(0)),
                name="settlement_amounts_sane",
            ),
        ]

    def __str__(self) -> str:
        fee = format_amount(self.wasla_fee, self.currency)
        return f"settlement {self.order_id}: fee {fee} {self.currency}"


class SettlementAdjustment(TenantOwned):
    """How one refund changed Wasla's fee on a settlement (fee_delta ≤ 0)."""

    class Kind(models.TextChoices):
        REVERSAL = "reversal"  # full refund before invoicing: the whole fee goes
        FEE_REDUCTION = "fee_reduction"  # partial refund before invoicing: percentage part
        CREDIT_NOTE_DUE = "credit_note_due"  # refund after invoicing: next invoice credits it
        FEE_KEPT = "fee_kept"  # the settlement's refund policy keeps the fee (fee_delta = 0)

    settlement = models.ForeignKey(
        SettlementRecord, on_delete=models.PROTECT, related_name="adjustments"
    )
    refund = models.OneToOneField(
        RefundRecord, on_delete=models.PROTECT, related_name="settlement_adjustment"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    refund_amount = models.DecimalField(max_digits=14, decimal_places=3)
    fee_delta = models.DecimalField(max_digits=14, decimal_places=3)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("settlement adjustment")
        verbose_name_plural = _("settlement adjustments")
        constraints = [
            models.CheckConstraint(
                condition=Q(fee_delta__lte=Decimal(0), refund_amount__gt=Decimal(0)),
                name="adjustment_reduces_fee",
            ),
        ]

    def __str__(self) -> str:
        delta = format_amount(self.fee_delta, self.settlement.currency)
        return f"{self.kind} {delta} on settlement {self.settlement_id}"
