"""State of the Tap simulator: the Tap Payments v2 charges and refunds API.

`TapCharge` simulates a charge at Tap (`POST/GET/PUT /v2/charges`), paid through the sandbox's
hosted page or, for STC Pay, an OTP update. `TapRefund` simulates a refund of a captured charge
(`POST/GET /v2/refunds`, or one made in Tap's dashboard). `TapSandboxKnobs` holds the fault knobs
that make webhook delivery and the API misbehave on purpose; `TapHeldWebhook` is a webhook the
"hold" knob kept back until a flush.

Invariants:
- A charge belongs to the secret key that created it and is invisible to every other key. The key
  is stored only as a SHA-256 digest (look-up) and a Fernet token (to sign webhooks); never plain.
- `reference.idempotent` is unique per key (a database constraint), so a replay returns the
  original charge instead of creating a second one.
- Status leaves INITIATED exactly once, under a row lock, and a final state never changes again;
  the webhook goes out only after that change is committed.
- Refunds never exceed what the charge captured: `amount_refunded` moves under the charge's row
  lock and a check constraint holds it within `amount`. `reference.merchant` is unique per key,
  so a replayed refund request returns the original refund.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.db.models import F, Q

from sandbox.faults import FaultKnobs
from sandbox.jsonfmt import DecimalJSONDecoder
from sandbox.tap_sim.jsonfmt import DecimalJSONEncoder


def _json_field(*, null: bool = False) -> models.JSONField:
    # Echoed request objects may hold fractional numbers; keep them exact Decimals, not floats.
    if null:
        return models.JSONField(
            encoder=DecimalJSONEncoder, decoder=DecimalJSONDecoder, null=True, blank=True
        )
    return models.JSONField(
        encoder=DecimalJSONEncoder, decoder=DecimalJSONDecoder, default=dict, blank=True
    )


class TapCharge(models.Model):
    class Status(models.TextChoices):
        INITIATED = "INITIATED"
        CAPTURED = "CAPTURED"
        DECLINED = "DECLINED"
        CANCELLED = "CANCELLED"

    class Source(models.TextChoices):
        ALL = "src_all", "All methods"
        CARD = "src_card", "Card"
        MADA = "src_sa.mada", "mada"
        STC_PAY = "src_sa.stcpay", "STC Pay"

    id = models.CharField(primary_key=True, max_length=40)
    key_digest = models.CharField(max_length=64, db_index=True)
    key_encrypted = models.TextField()

    status = models.CharField(max_length=16, choices=Status.choices, default=Status.INITIATED)
    amount = models.DecimalField(max_digits=13, decimal_places=3)
    amount_refunded = models.DecimalField(max_digits=13, decimal_places=3, default=Decimal(0))
    currency = models.CharField(max_length=3)
    source_id = models.CharField(max_length=32, choices=Source.choices)
    # Filled once known: at creation for mada and STC Pay, when a card is entered for cards.
    payment_method = models.CharField(max_length=32, blank=True, default="")
    card_entered = models.BooleanField(default=False)

    three_d_secure = models.BooleanField(default=True)
    customer_initiated = models.BooleanField(default=True)
    save_card = models.BooleanField(default=False)
    description = models.TextField(blank=True, default="")
    metadata = _json_field()
    customer = _json_field()
    receipt = _json_field()
    merchant = _json_field()
    source_phone = _json_field(null=True)

    ref_transaction = models.CharField(max_length=255, blank=True, default="")
    ref_order = models.CharField(max_length=255, blank=True, default="")
    ref_idempotent = models.CharField(max_length=255, blank=True, default="")
    ref_track = models.CharField(max_length=64)
    ref_payment = models.CharField(max_length=64, blank=True, default="")
    ref_gateway = models.CharField(max_length=64, blank=True, default="")

    response_code = models.CharField(max_length=8, default="100")
    response_message = models.CharField(max_length=64, default="Initiated")

    transaction_url = models.TextField()
    created_ms = models.BigIntegerField()
    expiry_period = models.PositiveSmallIntegerField(default=30)

    redirect_url = models.TextField()
    redirect_status = models.CharField(max_length=16, default="PENDING")
    post_url = models.TextField(blank=True, default="")
    post_status = models.CharField(max_length=16, default="PENDING")
    post_attempt = models.PositiveIntegerField(default=0)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["key_digest", "ref_idempotent"],
                condition=~Q(ref_idempotent=""),
                name="sandbox_tap_charge_idempotent_per_key",
            ),
            models.CheckConstraint(
                condition=Q(amount__gt=0), name="sandbox_tap_charge_amount_gt_0"
            ),
            models.CheckConstraint(
                condition=Q(amount_refunded__gte=0) & Q(amount_refunded__lte=F("amount")),
                name="sandbox_tap_charge_refunds_within_amount",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.id} {self.amount} {self.currency} {self.status}"

    @property
    def is_final(self) -> bool:
        return self.status != self.Status.INITIATED

    @property
    def is_card(self) -> bool:
        return self.source_id in (self.Source.ALL, self.Source.CARD)

    @property
    def amount_refundable(self) -> Decimal:
        return self.amount - self.amount_refunded


class TapRefund(models.Model):
    class Status(models.TextChoices):
        REFUNDED = "REFUNDED"

    class Reason(models.TextChoices):
        DUPLICATE = "duplicate"
        FRAUDULENT = "fraudulent"
        REQUESTED_BY_CUSTOMER = "requested_by_customer"

    id = models.CharField(primary_key=True, max_length=40)
    charge = models.ForeignKey(TapCharge, on_delete=models.CASCADE, related_name="refunds")
    # The charge's key digest again: the idempotency constraint cannot reach across the relation.
    key_digest = models.CharField(max_length=64, db_index=True)

    status = models.CharField(max_length=16, choices=Status.choices, default=Status.REFUNDED)
    amount = models.DecimalField(max_digits=13, decimal_places=3)
    currency = models.CharField(max_length=3)
    reason = models.CharField(max_length=32, choices=Reason.choices)
    description = models.TextField(blank=True, default="")
    metadata = _json_field()

    ref_merchant = models.CharField(max_length=255, blank=True, default="")
    ref_gateway = models.CharField(max_length=64)
    ref_payment = models.CharField(max_length=64)

    response_code = models.CharField(max_length=8, default="000")
    response_message = models.CharField(max_length=64, default="Refunded")
    created_ms = models.BigIntegerField()

    # Where the webhook goes: the refund's own post.url, else the charge's.
    post_url = models.TextField(blank=True, default="")
    post_status = models.CharField(max_length=16, default="PENDING")
    post_attempt = models.PositiveIntegerField(default=0)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["key_digest", "ref_merchant"],
                condition=~Q(ref_merchant=""),
                name="sandbox_tap_refund_merchant_reference_per_key",
            ),
            models.CheckConstraint(
                condition=Q(amount__gt=0), name="sandbox_tap_refund_amount_gt_0"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.id} {self.amount} {self.currency} {self.status}"


class TapHeldWebhook(models.Model):
    """A webhook the "hold" knob kept back: the exact body and signature, sent on a flush.

    Held in creation order (the auto id), so a flush can replay them in order or reversed.
    """

    class Kind(models.TextChoices):
        CHARGE = "charge"
        REFUND = "refund"

    kind = models.CharField(max_length=8, choices=Kind.choices)
    object_id = models.CharField(max_length=40)
    url = models.TextField()
    body = models.TextField()
    hashstring = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.object_id} -> {self.url}"


class TapSandboxKnobs(FaultKnobs):
    """Global fault knobs of the Tap simulator: one row, id 1; no row means the defaults."""

    class Webhook(models.TextChoices):
        SEND = "send"
        DROP = "drop"  # settle the charge but deliver nothing
        DUPLICATE = "duplicate"  # deliver the same body twice
        BAD_SIGNATURE = "bad_signature"  # sign with a key that is not the merchant's
        HOLD = "hold"  # keep every webhook back until a flush

    webhook = models.CharField(max_length=16, choices=Webhook.choices, default=Webhook.SEND)

    class Meta(FaultKnobs.Meta):
        verbose_name_plural = "tap sandbox knobs"
