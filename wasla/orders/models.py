"""Minimal store orders: what a payment is for.

An order is paid at most once (the payment layer's partial unique indexes guarantee it); its
status only follows its payment attempts, through the transitions in `services.py`
(`order_mark_paid`, `order_mark_refunded`), which the payment services call.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from wasla.common.money import format_amount
from wasla.tenants.models import TenantOwned


class Order(TenantOwned):
    class Status(models.TextChoices):
        PENDING = "pending"
        PAID = "paid"
        PARTIALLY_REFUNDED = "partially_refunded"
        REFUNDED = "refunded"
        CANCELLED = "cancelled"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    reference = models.CharField(max_length=64)
    amount = models.DecimalField(max_digits=14, decimal_places=3)
    currency = models.CharField(max_length=3, default="SAR")
    customer_email = models.EmailField(blank=True)
    customer_phone = models.CharField(max_length=20, blank=True)
    # Where cash on delivery goes, and to whom: the storefront asks for both before a COD
    # order exists; API orders may leave them blank (the merchant ships from its own system).
    customer_name = models.CharField(max_length=200, blank=True)
    delivery_address = models.TextField(blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(auto_now_add=True)
    paid_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "reference"], name="order_reference_per_tenant"
            ),
            models.CheckConstraint(
                condition=Q(amount__gt=Decimal(0)), name="order_amount_positive"
            ),
        ]
        # A tenant's orders newest first (API, portal): see bench/dashboard.py.
        indexes = [models.Index(fields=["tenant", "created_at", "id"], name="order_tenant_created")]

    def __str__(self) -> str:
        return f"{self.reference} ({format_amount(self.amount, self.currency)} {self.currency})"
