"""State of the PayPal simulator: the REST API subset of an Orders v2 checkout.

Simulated: OAuth2 client credentials (`/v1/oauth2/token`), webhook registration, orders
(`/v2/checkout/orders`: create, approve on the hosted page, capture), captures and refunds
(`/v2/payments/...`), signed webhook events and their verification.

Invariants:
- A sandbox merchant account is defined by the first client_id/secret pair seen; the secret and
  every access token are stored only as SHA-256 digests, the webhook signing key only as Fernet
  ciphertext. A database dump holds none of them in plaintext.
- Everything belongs to one account and is invisible to every other account (404).
- A `PayPal-Request-Id` is used once per account and operation (a database constraint); a replay
  answers the stored original response and changes nothing.
- An order is approved at most once and captured at most once (one capture row per order), each
  under a row lock; refunds never exceed the captured amount (a check constraint).
- Webhook events are stored in the same transaction as the change they announce, and delivered
  only after that transaction committed (at once, later, or on a flush when the "hold" knob kept
  them back as `PaypalHeldEvent`s).
"""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.db.models import F, Q

from sandbox.faults import FaultKnobs

AMOUNT_DIGITS = 14
AMOUNT_PLACES = 3


def _amount_field(*, default: Decimal | None = None) -> models.DecimalField:
    if default is None:
        return models.DecimalField(max_digits=AMOUNT_DIGITS, decimal_places=AMOUNT_PLACES)
    return models.DecimalField(
        max_digits=AMOUNT_DIGITS, decimal_places=AMOUNT_PLACES, default=default
    )


class PaypalAccount(models.Model):
    """A sandbox REST app: the client_id and secret the merchant authenticates with."""

    client_id = models.CharField(max_length=255, unique=True)
    secret_digest = models.CharField(max_length=64)
    app_id = models.CharField(max_length=24)
    merchant_id = models.CharField(max_length=13)
    token_requests = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.client_id


class PaypalAccessToken(models.Model):
    """An issued bearer token, known only by its SHA-256 digest."""

    digest = models.CharField(primary_key=True, max_length=64)
    account = models.ForeignKey(PaypalAccount, on_delete=models.CASCADE, related_name="tokens")
    expires_at = models.DateTimeField(db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"token of {self.account_id} until {self.expires_at:%Y-%m-%dT%H:%M:%SZ}"


class PaypalWebhook(models.Model):
    """A webhook listener registered with `POST /v1/notifications/webhooks`."""

    id = models.CharField(primary_key=True, max_length=17)
    account = models.ForeignKey(PaypalAccount, on_delete=models.CASCADE, related_name="webhooks")
    url = models.CharField(max_length=2048)
    # Event type names; ["*"] subscribes to every event.
    event_types = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "url"], name="sandbox_paypal_webhook_url_per_account"
            )
        ]

    def __str__(self) -> str:
        return f"{self.id} {self.url}"

    def wants(self, event_type: str) -> bool:
        return "*" in self.event_types or event_type in self.event_types


class PaypalOrder(models.Model):
    class Status(models.TextChoices):
        CREATED = "CREATED"  # legacy application_context orders start here
        PAYER_ACTION_REQUIRED = "PAYER_ACTION_REQUIRED"  # experience_context orders start here
        APPROVED = "APPROVED"
        COMPLETED = "COMPLETED"

    AWAITING_PAYER = (Status.CREATED, Status.PAYER_ACTION_REQUIRED)

    id = models.CharField(primary_key=True, max_length=17)
    account = models.ForeignKey(PaypalAccount, on_delete=models.CASCADE, related_name="orders")
    status = models.CharField(max_length=24, choices=Status.choices)
    amount = _amount_field()
    currency = models.CharField(max_length=3)
    reference_id = models.CharField(max_length=256, default="default")
    custom_id = models.CharField(max_length=127, blank=True, default="")
    invoice_id = models.CharField(max_length=127, blank=True, default="")
    description = models.CharField(max_length=127, blank=True, default="")
    soft_descriptor = models.CharField(max_length=22, blank=True, default="")

    # True when the order came with `application_context` (link rel "approve") rather than
    # `payment_source.paypal.experience_context` (link rel "payer-action").
    legacy_context = models.BooleanField(default=False)
    return_url = models.TextField()
    cancel_url = models.TextField(blank=True, default="")
    brand_name = models.CharField(max_length=127, blank=True, default="")
    user_action = models.CharField(max_length=16, default="CONTINUE")
    shipping_preference = models.CharField(max_length=24, default="GET_FROM_FILE")

    # Scheme and host the order was created through; links made later without a request (a
    # dashboard refund) are built on it.
    origin = models.CharField(max_length=255, blank=True, default="")

    payer_id = models.CharField(max_length=13, blank=True, default="")
    # Set when the payer chose "decline" on the hosted page: the capture will be DECLINED.
    decline_capture = models.BooleanField(default=False)

    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0), name="sandbox_paypal_order_amount_gt_0"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.id} {self.amount} {self.currency} {self.status}"

    @property
    def awaits_payer(self) -> bool:
        return self.status in self.AWAITING_PAYER


class PaypalCapture(models.Model):
    class Status(models.TextChoices):
        COMPLETED = "COMPLETED"
        DECLINED = "DECLINED"
        PARTIALLY_REFUNDED = "PARTIALLY_REFUNDED"
        REFUNDED = "REFUNDED"

    id = models.CharField(primary_key=True, max_length=17)
    order = models.OneToOneField(PaypalOrder, on_delete=models.CASCADE, related_name="capture")
    status = models.CharField(max_length=24, choices=Status.choices)
    amount = _amount_field()
    currency = models.CharField(max_length=3)
    refunded_amount = _amount_field(default=Decimal(0))
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(refunded_amount__gte=0) & Q(refunded_amount__lte=F("amount")),
                name="sandbox_paypal_capture_refunds_within_amount",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.id} {self.amount} {self.currency} {self.status}"

    @property
    def remaining(self) -> Decimal:
        return self.amount - self.refunded_amount


class PaypalRefund(models.Model):
    class Status(models.TextChoices):
        COMPLETED = "COMPLETED"

    id = models.CharField(primary_key=True, max_length=17)
    capture = models.ForeignKey(PaypalCapture, on_delete=models.CASCADE, related_name="refunds")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.COMPLETED)
    amount = _amount_field()
    currency = models.CharField(max_length=3)
    # What the capture had refunded in all once this refund went through.
    total_refunded = _amount_field()
    note_to_payer = models.CharField(max_length=255, blank=True, default="")
    invoice_id = models.CharField(max_length=127, blank=True, default="")
    custom_id = models.CharField(max_length=127, blank=True, default="")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0), name="sandbox_paypal_refund_amount_gt_0"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.id} {self.amount} {self.currency}"


class PaypalIdempotentResponse(models.Model):
    """The response first given to a `PayPal-Request-Id`, replayed verbatim on a retry."""

    class Operation(models.TextChoices):
        ORDER_CREATE = "order_create"
        ORDER_CAPTURE = "order_capture"
        CAPTURE_REFUND = "capture_refund"

    account = models.ForeignKey(PaypalAccount, on_delete=models.CASCADE)
    operation = models.CharField(max_length=16, choices=Operation.choices)
    request_id = models.CharField(max_length=108)
    status_code = models.PositiveSmallIntegerField()
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account", "operation", "request_id"],
                name="sandbox_paypal_request_id_once",
            )
        ]

    def __str__(self) -> str:
        return f"{self.operation} {self.request_id}"


class PaypalWebhookEvent(models.Model):
    """A webhook event as sent: `body` is the exact canonical JSON every delivery carries."""

    id = models.CharField(primary_key=True, max_length=40)
    account = models.ForeignKey(PaypalAccount, on_delete=models.CASCADE, related_name="events")
    event_type = models.CharField(max_length=64)
    resource_type = models.CharField(max_length=32)
    resource_id = models.CharField(max_length=17)
    body = models.TextField()
    # Scheme and host of the simulator when the event happened: a delivery made later (delayed,
    # flushed) points PAYPAL-CERT-URL there too.
    origin = models.CharField(max_length=255, blank=True, default="")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"{self.id} {self.event_type}"


class PaypalHeldEvent(models.Model):
    """An event the "hold" knob kept back; a flush delivers it (signed then) and deletes the row.

    The auto id keeps the order the events happened in, for forward and reverse flushes.
    """

    event = models.ForeignKey(PaypalWebhookEvent, on_delete=models.CASCADE, related_name="+")
    # The webhooks a resend named; empty means every webhook subscribed to the event.
    webhook_ids = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"held {self.event_id}"


class PaypalWebhookDelivery(models.Model):
    """One POST of an event to one webhook, with what the receiver answered."""

    event = models.ForeignKey(
        PaypalWebhookEvent, on_delete=models.CASCADE, related_name="deliveries"
    )
    webhook = models.ForeignKey(PaypalWebhook, on_delete=models.SET_NULL, null=True, blank=True)
    webhook_ref = models.CharField(max_length=17)
    url = models.CharField(max_length=2048)
    transmission_id = models.CharField(max_length=36)
    mode = models.CharField(max_length=16)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.CharField(max_length=255, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name_plural = "paypal webhook deliveries"

    def __str__(self) -> str:
        return f"{self.event_id} -> {self.url}: {self.status_code or self.error}"


class PaypalSigningKey(models.Model):
    """The simulator's webhook signing key and certificate: one row, id 1, made on first use."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    cert_id = models.CharField(max_length=40, unique=True)
    private_key_encrypted = models.TextField()
    certificate_pem = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(id=1), name="sandbox_paypal_signingkey_singleton")
        ]

    def __str__(self) -> str:
        return self.cert_id


class PaypalSandboxKnobs(FaultKnobs):
    """Global fault knobs of the PayPal simulator: one row, id 1; no row means the defaults."""

    class Webhook(models.TextChoices):
        SEND = "send"
        DROP = "drop"  # store the event but deliver nothing
        DUPLICATE = "duplicate"  # deliver every event twice (same event id, new transmission)
        BAD_SIGNATURE = "bad_signature"  # sign a different message with the sandbox key
        FOREIGN_CERT = "foreign_cert"  # sign with another key, cert URL on a foreign host
        HOLD = "hold"  # store the event, deliver it only on a flush

    webhook = models.CharField(max_length=16, choices=Webhook.choices, default=Webhook.SEND)

    class Meta(FaultKnobs.Meta):
        verbose_name_plural = "paypal sandbox knobs"
