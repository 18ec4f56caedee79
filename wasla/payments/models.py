"""Payment layer: gateway configs, payment attempts and the webhook inbox.

Invariants held here, by the database and not only by Python:
- one order has at most one attempt in `created|pending` and at most one in
  `paid|partially_refunded|refunded` (partial unique indexes);
- `0 <= refunded_amount <= amount`, `amount > 0`; a provider reference belongs to one attempt;
- a verified webhook event is stored once per (provider, gateway config, event id);
- provider secrets exist in the database only as Fernet ciphertext.
Status changes go through the transitions below (django-fsm) and are compare-and-set in SQL
(ConcurrentTransitionMixin), always under the attempt's row lock.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import TypeAlias

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from wasla.common.crypto import EncryptedTextField
from wasla.common.money import format_amount
from wasla.orders.models import Order
from wasla.tenants.models import TenantOwned


class PaymentGatewayConfig(TenantOwned):
    class Mode(models.TextChoices):
        SANDBOX = "sandbox"
        LIVE = "live"

    provider = models.CharField(max_length=40)
    mode = models.CharField(max_length=10, choices=Mode.choices, default=Mode.SANDBOX)
    public_key = models.CharField(max_length=255, blank=True)
    secret_key = EncryptedTextField(blank=True)
    webhook_secret = EncryptedTextField(blank=True)
    webhook_token = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("payment gateway")
        verbose_name_plural = _("payment gateways")
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "provider", "mode"], name="gateway_config_per_provider_mode"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.tenant_id}:{self.provider}:{self.mode}"


class AttemptStatus(models.TextChoices):
    """`PaymentAttempt.Status`; at module level so the constraints below can name members."""

    CREATED = "created"
    PENDING = "pending"
    PAID = "paid"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"
    FAILED = "failed"
    CANCELLED = "cancelled"


OPEN_STATUSES = (AttemptStatus.CREATED, AttemptStatus.PENDING)
PAID_STATUSES = (AttemptStatus.PAID, AttemptStatus.PARTIALLY_REFUNDED, AttemptStatus.REFUNDED)


class PaymentAttempt(ConcurrentTransitionMixin, TenantOwned):
    Status: TypeAlias = AttemptStatus

    class Method(models.TextChoices):
        MADA = "mada"
        STCPAY = "stcpay"
        CARD = "card"
        APPLEPAY = "applepay"
        PAYPAL = "paypal"
        COD = "cod"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="attempts")
    gateway_config = models.ForeignKey(PaymentGatewayConfig, on_delete=models.PROTECT)
    provider = models.CharField(max_length=40)
    method = models.CharField(max_length=20, choices=Method.choices)
    amount = models.DecimalField(max_digits=14, decimal_places=3)
    currency = models.CharField(max_length=3, default="SAR")
    status = FSMField(default=Status.CREATED, choices=Status.choices, protected=True)
    provider_reference = models.CharField(max_length=255, null=True, blank=True)
    # What refunds are made against (Tap charge, Stripe PaymentIntent, PayPal capture).
    provider_payment_reference = models.CharField(
        max_length=255, blank=True, default="", db_default="", db_index=True
    )
    idempotency_key = models.CharField(max_length=300, unique=True)
    redirect_url = models.URLField(max_length=2000, blank=True)
    return_url = models.URLField(max_length=2000, blank=True)
    raw_response = models.JSONField(default=dict, blank=True)
    refunded_amount = models.DecimalField(max_digits=14, decimal_places=3, default=Decimal(0))
    failure_code = models.CharField(max_length=100, blank=True)
    failure_message = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    paid_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("payment attempt")
        verbose_name_plural = _("payment attempts")
        constraints = [
            models.UniqueConstraint(
                fields=["order"],
                condition=Q(status__in=OPEN_STATUSES),
                name="one_open_attempt_per_order",
            ),
            models.UniqueConstraint(
                fields=["order"],
                condition=Q(status__in=PAID_STATUSES),
                name="one_paid_attempt_per_order",
            ),
            models.UniqueConstraint(
                fields=["provider", "provider_reference"],
                condition=Q(provider_reference__isnull=False),
                name="provider_reference_unique",
            ),
            models.CheckConstraint(
                condition=Q(refunded_amount__gte=Decimal(0), refunded_amount__lte=F("amount")),
                name="refunded_within_amount",
            ),
            models.CheckConstraint(
                condition=Q(amount__gt=Decimal(0)), name="attempt_amount_positive"
            ),
            models.CheckConstraint(
                condition=Q(status__in=AttemptStatus.values),
                name="attempt_status_known",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "created_at"], name="attempt_status_age"),
            # A tenant's payments newest first (API, portal): read backwards, LIMIT rows only,
            # where the tenant index alone sorted all 50,000 of a large tenant's
            # (bench/dashboard.py).
            models.Index(fields=["tenant", "created_at", "id"], name="attempt_tenant_created"),
            # Every tenant's payments newest first (the staff dashboard's list, keyset pages).
            models.Index(fields=["created_at", "id"], name="attempt_created"),
        ]

    def __str__(self) -> str:
        return f"{self.id} {self.status}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    # Transitions. Callers hold the row lock; save() then compares-and-sets the old status.
    @transition(field=status, source=Status.CREATED, target=Status.PENDING)
    def mark_pending(self) -> None: ...

    @transition(field=status, source=[Status.CREATED, Status.PENDING], target=Status.PAID)
    def mark_paid(self) -> None: ...

    @transition(field=status, source=[Status.CREATED, Status.PENDING], target=Status.FAILED)
    def mark_failed(self) -> None: ...

    @transition(field=status, source=[Status.CREATED, Status.PENDING], target=Status.CANCELLED)
    def mark_cancelled(self) -> None: ...

    @transition(
        field=status,
        source=[Status.PAID, Status.PARTIALLY_REFUNDED],
        target=Status.PARTIALLY_REFUNDED,
    )
    def mark_partially_refunded(self) -> None: ...

    @transition(
        field=status, source=[Status.PAID, Status.PARTIALLY_REFUNDED], target=Status.REFUNDED
    )
    def mark_refunded(self) -> None: ...


class RefundRecord(TenantOwned):
    """One refund, requested through our API or made in the provider's dashboard.

    Created `pending` before the provider is called, so a pending refund already reserves its
    amount; the attempt's `refunded_amount` only counts succeeded ones (CHECK ≤ amount).
    """

    class Status(models.TextChoices):
        PENDING = "pending"
        SUCCEEDED = "succeeded"
        FAILED = "failed"

    class Source(models.TextChoices):
        API = "api"
        PROVIDER = "provider"  # made in the provider's dashboard; learnt from its webhook
        STAFF = "staff"  # cash on delivery, recorded by hand

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    payment_attempt = models.ForeignKey(
        PaymentAttempt, on_delete=models.PROTECT, related_name="refunds"
    )
    provider = models.CharField(max_length=40)
    amount = models.DecimalField(max_digits=14, decimal_places=3)
    currency = models.CharField(max_length=3)
    reason = models.CharField(max_length=255, blank=True)
    provider_reference = models.CharField(max_length=255, null=True, blank=True)
    idempotency_key = models.CharField(max_length=300, unique=True)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.API)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    failure_message = models.TextField(blank=True)
    raw_response = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("refund")
        verbose_name_plural = _("refunds")
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=Decimal(0)), name="refund_amount_positive"
            ),
            models.UniqueConstraint(
                fields=["provider", "provider_reference"],
                condition=Q(provider_reference__isnull=False),
                name="refund_provider_reference_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"refund {format_amount(self.amount, self.currency)} {self.currency} {self.status}"


class WebhookEventStatus(models.TextChoices):
    """`WebhookEvent.Status`; at module level so its index below can name a member."""

    RECEIVED = "received"
    PROCESSED = "processed"
    IGNORED = "ignored"
    REJECTED = "rejected"
    FAILED = "failed"


class WebhookEvent(TenantOwned):
    """The webhook inbox and audit log: every delivery, verified or not, is a row."""

    Status: TypeAlias = WebhookEventStatus

    gateway_config = models.ForeignKey(PaymentGatewayConfig, on_delete=models.PROTECT)
    provider = models.CharField(max_length=40)
    event_id = models.CharField(max_length=255)
    event_type = models.CharField(max_length=100, blank=True)
    headers = models.JSONField(default=dict)
    body = models.TextField()
    signature_valid = models.BooleanField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RECEIVED)
    error = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0)
    # Processing attempts made before the last staff replay: the retry budget counts from here,
    # while `attempts` keeps the whole story.
    attempts_at_replay = models.PositiveIntegerField(default=0)
    # When a `received` event is due again: set after a failed try (backoff) or when it is
    # parked because what it refers to is not there yet. Null: due as soon as it is stale.
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # Every failed try, replay and give-up, oldest first (bounded): `error` holds only the last.
    error_history = models.JSONField(default=list, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("webhook event")
        verbose_name_plural = _("webhook events")
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "gateway_config", "event_id"],
                condition=Q(signature_valid=True),
                name="verified_event_once",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "received_at"], name="webhook_status_age"),
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status=WebhookEventStatus.RECEIVED),
                name="webhook_received_due",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.provider}:{self.event_id} {self.status}"


class PaymentDispute(TenantOwned):
    """A chargeback opened at the provider (Stripe `charge.dispute.*`): recorded for staff.

    Disputes do not move the attempt's status; staff act on them in the provider's dashboard.
    """

    provider = models.CharField(max_length=40)
    provider_reference = models.CharField(max_length=255)
    payment_attempt = models.ForeignKey(
        PaymentAttempt, null=True, blank=True, on_delete=models.PROTECT, related_name="disputes"
    )
    payment_reference = models.CharField(max_length=255, blank=True)
    amount = models.DecimalField(max_digits=14, decimal_places=3, null=True)
    currency = models.CharField(max_length=3, blank=True)
    reason = models.CharField(max_length=100, blank=True)
    status = models.CharField(max_length=40, blank=True)
    raw = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("dispute")
        verbose_name_plural = _("disputes")
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "provider_reference"], name="dispute_once_per_reference"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.provider}:{self.provider_reference} {self.status}"
