"""State of the provider simulators. Here: the Tap Payments v2 charges API.

`TapCharge` simulates a charge at Tap (`POST/GET/PUT /v2/charges`), paid through the sandbox's
hosted page or, for STC Pay, an OTP update. `TapSandboxKnobs` holds the fault knobs that make
webhook delivery misbehave on purpose.

Invariants:
- A charge belongs to the secret key that created it and is invisible to every other key. The key
  is stored only as a SHA-256 digest (look-up) and a Fernet token (to sign webhooks); never plain.
- `reference.idempotent` is unique per key (a database constraint), so a replay returns the
  original charge instead of creating a second one.
- Status leaves INITIATED exactly once, under a row lock, and a final state never changes again;
  the webhook goes out only after that change is committed.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from sandbox.tap.jsonfmt import DecimalJSONDecoder, DecimalJSONEncoder


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
                name="sandbox_tapcharge_idempotent_per_key",
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="sandbox_tapcharge_amount_gt_0"),
        ]

    def __str__(self) -> str:
        return f"{self.id} {self.amount} {self.currency} {self.status}"

    @property
    def is_final(self) -> bool:
        return self.status != self.Status.INITIATED

    @property
    def is_card(self) -> bool:
        return self.source_id in (self.Source.ALL, self.Source.CARD)


class TapSandboxKnobs(models.Model):
    """Global fault knobs of the Tap simulator: one row, id 1; no row means the defaults."""

    class Webhook(models.TextChoices):
        SEND = "send"
        DROP = "drop"  # settle the charge but deliver nothing
        DUPLICATE = "duplicate"  # deliver the same body twice
        BAD_SIGNATURE = "bad_signature"  # sign with a key that is not the merchant's

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    webhook = models.CharField(max_length=16, choices=Webhook.choices, default=Webhook.SEND)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "tap sandbox knobs"
        constraints = [models.CheckConstraint(condition=Q(id=1), name="sandbox_tapknobs_singleton")]

    def __str__(self) -> str:
        return f"webhook={self.webhook}"
