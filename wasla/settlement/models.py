"""Settlement layer: Wasla's fee on each paid payment.

One settlement per order and per payment attempt (unique constraints); `net_amount` is always
`gross_amount - wasla_fee` (CHECK). The fee breakdown is a snapshot taken when the payment was
confirmed, so later fee changes never touch past settlements. Refunds never edit a settlement's
amounts: each one adds a `SettlementAdjustment` row (a new fact); a full refund before invoicing
also marks the settlement `reversed`.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.db.models import F, Q

from wasla.orders.models import Order
from wasla.payments.models import PaymentAttempt, RefundRecord
from wasla.tenants.models import TenantOwned


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
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
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
        return f"settlement {self.order_id}: fee {self.wasla_fee} {self.currency}"


class SettlementAdjustment(TenantOwned):
    """How one refund changed Wasla's fee on a settlement (fee_delta ≤ 0)."""

    class Kind(models.TextChoices):
        REVERSAL = "reversal"  # full refund before invoicing: the whole fee goes
        FEE_REDUCTION = "fee_reduction"  # partial refund before invoicing: percentage part
        CREDIT_NOTE_DUE = "credit_note_due"  # refund after invoicing: next invoice credits it

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
        constraints = [
            models.CheckConstraint(
                condition=Q(fee_delta__lte=Decimal(0), refund_amount__gt=Decimal(0)),
                name="adjustment_reduces_fee",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.fee_delta} on settlement {self.settlement_id}"
