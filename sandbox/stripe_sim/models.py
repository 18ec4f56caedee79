"""State of the Stripe simulator: the v1 API subset behind Stripe Checkout (hosted page).

It simulates, per test-mode secret key (one key = one account):
- `StripeCheckoutSession` (`/v1/checkout/sessions`), paid on the sandbox's hosted page, or in
  `setup` mode a card saved there through its `StripeSetupIntent`;
- `StripeCustomer`s and the `StripePaymentMethod`s (Stripe's test cards) attached to them;
- the `StripePaymentIntent` and `StripeCharge` that paying creates (through Checkout, or by the
  API off-session with a saved card), and `StripeRefund`s on them;
- `StripeWebhookEndpoint`s and the `StripeEvent`s signed and delivered to them;
- `StripeIdempotencyKey`, the stored responses that make `Idempotency-Key` replays exact;
- `StripeSandboxKnobs`, the global fault knobs that make webhook delivery and the API misbehave on
  purpose, and `StripeHeldEvent`, an event the "hold" knob kept back until a flush.

Invariants:
- Every object belongs to the account of the key that created it and is invisible (404) to any
  other key. A key is stored only as a SHA-256 digest; webhook secrets and replayable responses
  only as Fernet tokens: a database dump never shows `sk_test_` or `whsec_`.
- A session leaves `open` once, under a row lock, to `complete` or `expired`, and never changes
  again; its events are written in the same transaction and delivered only after the commit.
- A payment-mode session leaves `open` as paid; a setup-mode one as `no_payment_required`.
- A PaymentMethod detached from its Customer is never attached again (`detached` stays true).
- A PaymentIntent leaves `succeeded` and `canceled` never: both are final.
- A charge's refunds never exceed what it captured (checked under the charge's row lock and by a
  database constraint).
- An idempotency key is unique per account (a database constraint).
"""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q

from sandbox.faults import FaultKnobs


class StripeAccount(models.Model):
    """The account a test secret key stands for; created on the key's first request."""

    id = models.CharField(primary_key=True, max_length=32)
    key_digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.id


class StripeWebhookEndpoint(models.Model):
    class Status(models.TextChoices):
        ENABLED = "enabled"
        DISABLED = "disabled"

    id = models.CharField(primary_key=True, max_length=40)
    account = models.ForeignKey(StripeAccount, on_delete=models.CASCADE, related_name="endpoints")
    url = models.TextField()
    enabled_events = models.JSONField(default=list)
    description = models.TextField(blank=True, default="")
    metadata = models.JSONField(default=dict, blank=True)
    api_version = models.CharField(max_length=40, blank=True, default="")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.ENABLED)
    secret_encrypted = models.TextField()
    created = models.BigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.id} {self.url}"

    def listens_to(self, event_type: str) -> bool:
        return "*" in self.enabled_events or event_type in self.enabled_events


class StripeCustomer(models.Model):
    id = models.CharField(primary_key=True, max_length=40)
    account = models.ForeignKey(StripeAccount, on_delete=models.CASCADE, related_name="customers")
    email = models.TextField(blank=True, default="")
    name = models.TextField(blank=True, default="")
    description = models.TextField(blank=True, default="")
    phone = models.TextField(blank=True, default="")
    metadata = models.JSONField(default=dict, blank=True)
    invoice_prefix = models.CharField(max_length=12)
    default_payment_method = models.ForeignKey(
        "StripePaymentMethod", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.BigIntegerField()

    def __str__(self) -> str:
        return f"{self.id} {self.email}"


class StripePaymentMethod(models.Model):
    """A card PaymentMethod; `test_card` names the Stripe test card it is (`testcards.py`)."""

    id = models.CharField(primary_key=True, max_length=40)
    account = models.ForeignKey(
        StripeAccount, on_delete=models.CASCADE, related_name="payment_methods"
    )
    customer = models.ForeignKey(
        StripeCustomer,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="payment_methods",
    )
    test_card = models.CharField(max_length=40)
    billing_email = models.TextField(blank=True, default="")
    billing_name = models.TextField(blank=True, default="")
    metadata = models.JSONField(default=dict, blank=True)
    # Stripe refuses to attach a PaymentMethod again once it was detached.
    detached = models.BooleanField(default=False)
    created = models.BigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(customer__isnull=True) | Q(detached=False),
                name="sandbox_stripe_pm_detached_has_no_customer",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.id} {self.test_card} {self.customer_id}"


class StripeSetupIntent(models.Model):
    class Status(models.TextChoices):
        REQUIRES_PAYMENT_METHOD = "requires_payment_method"
        REQUIRES_ACTION = "requires_action"
        SUCCEEDED = "succeeded"

    id = models.CharField(primary_key=True, max_length=40)
    account = models.ForeignKey(
        StripeAccount, on_delete=models.CASCADE, related_name="setup_intents"
    )
    customer = models.ForeignKey(
        StripeCustomer, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(
        max_length=32, choices=Status.choices, default=Status.REQUIRES_PAYMENT_METHOD
    )
    payment_method = models.ForeignKey(
        StripePaymentMethod, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    description = models.TextField(blank=True, default="")
    metadata = models.JSONField(default=dict, blank=True)
    last_setup_error = models.JSONField(null=True, blank=True)
    client_secret = models.CharField(max_length=100)
    created = models.BigIntegerField()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(status="requires_payment_method") | Q(payment_method__isnull=False),
                name="sandbox_stripe_setup_intent_has_method_past_rpm",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.id} {self.status}"


class StripePaymentIntent(models.Model):
    class Status(models.TextChoices):
        REQUIRES_PAYMENT_METHOD = "requires_payment_method"
        REQUIRES_CONFIRMATION = "requires_confirmation"
        REQUIRES_ACTION = "requires_action"
        SUCCEEDED = "succeeded"
        CANCELED = "canceled"

    class CancellationReason(models.TextChoices):
        """The reasons `POST /v1/payment_intents/{id}/cancel` accepts."""

        ABANDONED = "abandoned"
        DUPLICATE = "duplicate"
        FRAUDULENT = "fraudulent"
        REQUESTED_BY_CUSTOMER = "requested_by_customer"

    id = models.CharField(primary_key=True, max_length=40)
    account = models.ForeignKey(StripeAccount, on_delete=models.CASCADE, related_name="intents")
    # Set only on intents made through the API (`POST /v1/payment_intents`); Checkout's intents
    # name their card through their charge.
    customer = models.ForeignKey(
        StripeCustomer, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    payment_method = models.ForeignKey(
        StripePaymentMethod, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Where the 3-D Secure page sends the customer back (`return_url` of the confirmation), and
    # the `next_action` shown while the intent `requires_action` (it holds an absolute URL).
    return_url = models.TextField(blank=True, default="")
    next_action = models.JSONField(null=True, blank=True)
    amount = models.PositiveBigIntegerField()
    amount_received = models.PositiveBigIntegerField(default=0)
    currency = models.CharField(max_length=3)
    status = models.CharField(
        max_length=32, choices=Status.choices, default=Status.REQUIRES_PAYMENT_METHOD
    )
    description = models.TextField(blank=True, default="")
    receipt_email = models.TextField(blank=True, default="")
    metadata = models.JSONField(default=dict, blank=True)
    last_payment_error = models.JSONField(null=True, blank=True)
    latest_charge = models.ForeignKey(
        "StripeCharge", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    client_secret = models.CharField(max_length=80)
    created = models.BigIntegerField()
    # Set once, when the intent is canceled (`canceled` is final).
    canceled_at = models.BigIntegerField(null=True, blank=True)
    cancellation_reason = models.CharField(
        max_length=32, choices=CancellationReason.choices, blank=True, default=""
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0), name="sandbox_stripe_intent_amount_gt_0"
            ),
            models.CheckConstraint(
                condition=Q(amount_received__lte=F("amount")),
                name="sandbox_stripe_intent_received_lte_amount",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.id} {self.amount} {self.currency} {self.status}"


class StripeCheckoutSession(models.Model):
    class Status(models.TextChoices):
        OPEN = "open"
        COMPLETE = "complete"
        EXPIRED = "expired"

    class PaymentStatus(models.TextChoices):
        UNPAID = "unpaid"
        PAID = "paid"
        NO_PAYMENT_REQUIRED = "no_payment_required"

    class Mode(models.TextChoices):
        PAYMENT = "payment"
        SETUP = "setup"

    id = models.CharField(primary_key=True, max_length=80)
    account = models.ForeignKey(StripeAccount, on_delete=models.CASCADE, related_name="sessions")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    payment_status = models.CharField(
        max_length=20, choices=PaymentStatus.choices, default=PaymentStatus.UNPAID
    )
    mode = models.CharField(max_length=16, choices=Mode.choices, default=Mode.PAYMENT)
    # Blank in setup mode when only `payment_method_types` was given; amounts are 0 there (the
    # API shows null).
    currency = models.CharField(max_length=3)
    amount_subtotal = models.PositiveBigIntegerField()
    amount_total = models.PositiveBigIntegerField()
    # [{"id": "li_…", "price": "price_…", "product": "prod_…", "name", "description",
    #   "unit_amount", "quantity", "amount"}], in request order.
    line_items = models.JSONField(default=list)
    success_url = models.TextField()
    cancel_url = models.TextField(blank=True, default="")
    client_reference_id = models.CharField(max_length=200, blank=True, default="")
    customer_email = models.TextField(blank=True, default="")
    locale = models.CharField(max_length=16, blank=True, default="")
    metadata = models.JSONField(default=dict, blank=True)
    # `payment_intent_data[…]`, applied to the PaymentIntent once the customer tries to pay.
    intent_metadata = models.JSONField(default=dict, blank=True)
    intent_description = models.TextField(blank=True, default="")
    payment_intent = models.OneToOneField(
        StripePaymentIntent,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="checkout_session",
    )
    customer = models.ForeignKey(
        StripeCustomer, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    setup_intent = models.OneToOneField(
        StripeSetupIntent,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="checkout_session",
    )
    url = models.TextField()
    created = models.BigIntegerField()
    expires_at = models.BigIntegerField()

    class Meta:
        ordering = ["-created", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount_total__gt=0) | Q(mode="setup"),
                name="sandbox_stripe_session_total_gt_0",
            ),
            models.CheckConstraint(
                condition=~Q(status="complete")
                | Q(mode="payment", payment_status="paid")
                | Q(mode="setup", payment_status="no_payment_required"),
                name="sandbox_stripe_session_complete_is_paid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.id} {self.amount_total} {self.currency} {self.status}"

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN


class StripeCharge(models.Model):
    class Status(models.TextChoices):
        SUCCEEDED = "succeeded"
        FAILED = "failed"

    id = models.CharField(primary_key=True, max_length=40)
    account = models.ForeignKey(StripeAccount, on_delete=models.CASCADE, related_name="charges")
    payment_intent = models.ForeignKey(
        StripePaymentIntent, on_delete=models.CASCADE, related_name="charges"
    )
    amount = models.PositiveBigIntegerField()
    amount_captured = models.PositiveBigIntegerField(default=0)
    amount_refunded = models.PositiveBigIntegerField(default=0)
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=16, choices=Status.choices)
    failure_code = models.CharField(max_length=64, blank=True, default="")
    failure_message = models.TextField(blank=True, default="")
    decline_code = models.CharField(max_length=64, blank=True, default="")
    payment_method = models.CharField(max_length=40)
    customer = models.ForeignKey(
        StripeCustomer, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The card charged ({"brand", "last4", "fingerprint", "three_d_secure"}); empty on charges
    # made through Checkout's payment page, which always pay with 4242 (or decline with 0002)
    # after 3-D Secure.
    card = models.JSONField(default=dict, blank=True)
    balance_transaction = models.CharField(max_length=40, blank=True, default="")
    billing_email = models.TextField(blank=True, default="")
    description = models.TextField(blank=True, default="")
    metadata = models.JSONField(default=dict, blank=True)
    created = models.BigIntegerField()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(amount_refunded__lte=F("amount_captured")),
                name="sandbox_stripe_charge_refunded_lte_captured",
            ),
            models.CheckConstraint(
                condition=Q(amount_captured__lte=F("amount")),
                name="sandbox_stripe_charge_captured_lte_amount",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.id} {self.amount} {self.currency} {self.status}"

    @property
    def amount_refundable(self) -> int:
        return self.amount_captured - self.amount_refunded


class StripeRefund(models.Model):
    class Status(models.TextChoices):
        SUCCEEDED = "succeeded"

    class Reason(models.TextChoices):
        DUPLICATE = "duplicate"
        FRAUDULENT = "fraudulent"
        REQUESTED_BY_CUSTOMER = "requested_by_customer"

    id = models.CharField(primary_key=True, max_length=40)
    account = models.ForeignKey(StripeAccount, on_delete=models.CASCADE, related_name="refunds")
    charge = models.ForeignKey(StripeCharge, on_delete=models.CASCADE, related_name="refunds")
    amount = models.PositiveBigIntegerField()
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.SUCCEEDED)
    reason = models.CharField(max_length=32, choices=Reason.choices, blank=True, default="")
    metadata = models.JSONField(default=dict, blank=True)
    balance_transaction = models.CharField(max_length=40)
    created = models.BigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0), name="sandbox_stripe_refund_amount_gt_0"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.id} {self.amount} {self.currency}"


class StripeEvent(models.Model):
    """An event as Stripe keeps it: the object's snapshot at the moment it happened."""

    id = models.CharField(primary_key=True, max_length=40)
    account = models.ForeignKey(StripeAccount, on_delete=models.CASCADE, related_name="events")
    type = models.CharField(max_length=64)
    api_version = models.CharField(max_length=40)
    data_object = models.JSONField()
    request_id = models.CharField(max_length=40, blank=True, default="")
    request_idempotency_key = models.CharField(max_length=255, blank=True, default="")
    # Endpoints listening when the event happened; pending_webhooks counts those not yet answered
    # with a 2xx.
    endpoint_ids = models.JSONField(default=list)
    pending_webhooks = models.PositiveIntegerField(default=0)
    created = models.BigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.id} {self.type}"


class StripeIdempotencyKey(models.Model):
    """The first response to an `Idempotency-Key`, replayed for every retry with the same params.

    A row with no `status_code` is a request still running. Only the answers of requests that ran
    are kept (successes, and card declines, 402): like Stripe, a request that failed validation
    leaves nothing behind.
    """

    account = models.ForeignKey(
        StripeAccount, on_delete=models.CASCADE, related_name="idempotency_keys"
    )
    key = models.CharField(max_length=255)
    method = models.CharField(max_length=8)
    path = models.TextField()
    params_digest = models.CharField(max_length=64)
    request_id = models.CharField(max_length=40)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response_encrypted = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account", "key"], name="sandbox_stripe_idempotency_key_per_account"
            )
        ]

    def __str__(self) -> str:
        return f"{self.account_id} {self.method} {self.path}"


class StripeHeldEvent(models.Model):
    """An event the "hold" knob kept back; a flush delivers it (signed then) and deletes the row.

    The auto id keeps the order the events happened in, for forward and reverse flushes.
    """

    event = models.ForeignKey(StripeEvent, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"held {self.event_id}"


class StripeSandboxKnobs(FaultKnobs):
    """Global fault knobs of the Stripe simulator: one row, id 1; no row means the defaults."""

    class Webhook(models.TextChoices):
        SEND = "send"
        DROP = "drop"  # change the state, record the event, deliver nothing
        DUPLICATE = "duplicate"  # deliver every event twice
        BAD_SIGNATURE = "bad_signature"  # sign with a secret that is not the endpoint's
        STALE_TIMESTAMP = "stale_timestamp"  # sign correctly, but 10 minutes in the past
        HOLD = "hold"  # record events but deliver them only on a flush

    webhook = models.CharField(max_length=16, choices=Webhook.choices, default=Webhook.SEND)

    class Meta(FaultKnobs.Meta):
        verbose_name_plural = "stripe sandbox knobs"
