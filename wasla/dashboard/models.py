"""Daily roll-ups the overview's charts read, so a page never aggregates a million payments.

Invariants:
- a roll-up row is derived data, never a source: `rollup_refresh` deletes the days it covers
  and inserts them again from payments and settlements in one transaction, so a day is either
  the old or the new figures, never half of each;
- one row per (tenant, day, the dimensions the filters use, currency); amounts per currency,
  never summed across currencies;
- tenant-owned like what they summarise: row-level security applies, staff read them through
  `platform_access`. The `…Total` tables hold the same figures summed over every tenant (no
  tenant's data, so not tenant-owned): the unfiltered overview reads a few dozen rows a day
  instead of one per tenant.
"""

from __future__ import annotations

from django.db import models

from wasla.tenants.models import TenantOwned


def _amount() -> models.DecimalField:  # type: ignore[type-arg]
    return models.DecimalField(max_digits=20, decimal_places=3)


class PaymentFigures(models.Model):
    """What a payment roll-up row holds: its day, its dimensions, its count and amount."""

    day = models.DateField()
    provider = models.CharField(max_length=40)
    method = models.CharField(max_length=20)
    status = models.CharField(max_length=20)
    currency = models.CharField(max_length=3)
    attempts = models.PositiveIntegerField()
    amount = _amount()

    class Meta:
        abstract = True


class RevenueFigures(models.Model):
    """What a revenue roll-up row holds: its day, its dimensions, its fees."""

    day = models.DateField()
    provider = models.CharField(max_length=40)
    method = models.CharField(max_length=20)
    attempt_status = models.CharField(max_length=20)
    settlement_status = models.CharField(max_length=10)
    currency = models.CharField(max_length=3)
    settlements = models.PositiveIntegerField()
    fee = _amount()
    fee_net = _amount()

    class Meta:
        abstract = True


class PaymentDay(TenantOwned, PaymentFigures):
    """Attempts created on one Riyadh day, by provider, method, status and currency."""

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["day", "tenant", "provider", "method", "status", "currency"],
                name="payment_day_unique",
            )
        ]
        indexes = [models.Index(fields=["tenant", "day"], name="payment_day_tenant")]

    def __str__(self) -> str:
        return f"{self.day} {self.tenant_id} {self.provider}/{self.method} {self.status}"


class RevenueDay(TenantOwned, RevenueFigures):
    """Settlements of payments confirmed on one Riyadh day, by the attempt's provider, method
    and status, the settlement's status and currency: Wasla's fee, and net of adjustments."""

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "day",
                    "tenant",
                    "provider",
                    "method",
                    "attempt_status",
                    "settlement_status",
                    "currency",
                ],
                name="revenue_day_unique",
            )
        ]
        indexes = [
            models.Index(fields=["tenant", "day"], name="revenue_day_tenant"),
            # The top tenants by revenue over a range of days: an index-only scan of the range
            # (200 -> 11 ms for 30 days at a million payments, bench/dashboard.py).
            models.Index(
                fields=["day"], include=["tenant", "currency", "fee_net"], name="revenue_day_top"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.tenant_id} {self.settlement_status} {self.currency}"


class PaymentDayTotal(PaymentFigures):
    """`PaymentDay` summed over every tenant."""

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["day", "provider", "method", "status", "currency"],
                name="payment_day_total_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.provider}/{self.method} {self.status} {self.currency}"


class RevenueDayTotal(RevenueFigures):
    """`RevenueDay` summed over every tenant."""

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "day",
                    "provider",
                    "method",
                    "attempt_status",
                    "settlement_status",
                    "currency",
                ],
                name="revenue_day_total_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.settlement_status} {self.currency}"


class RollupRun(models.Model):
    """When the roll-ups were last refreshed and from which day: what "as of" the page says."""

    finished_at = models.DateTimeField(db_index=True)
    since = models.DateField()
    seconds = models.DecimalField(max_digits=10, decimal_places=3)

    def __str__(self) -> str:
        return f"roll-ups from {self.since} at {self.finished_at:%Y-%m-%d %H:%M}"
