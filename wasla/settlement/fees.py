"""The fee engine: pure functions, no database.

`fee_compute` turns a resolved plan (a plan version with the tenant's overrides applied) and a
payment's gross amount into a `FeeBreakdown`; `refund_fee_delta` says how much of a settlement's
fee a refund gives back under the refund policy snapshotted when the payment was confirmed.

Fee = fixed + percentage * gross / 100, raised to the minimum, lowered to the maximum, never more
than the gross amount, and rounded once with `round_money` (ROUND_HALF_UP to the currency
exponent). VAT is not part of the fee: it is charged on the invoice; its rate is snapshotted here
so the invoice of a past month uses the rate of the plan that earned the fee.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import models

from wasla.common.money import MoneyError, format_amount, is_exact, round_money

HUNDRED = Decimal(100)
ZERO = Decimal(0)


class RefundPolicy(models.TextChoices):
    # Full refund before invoicing reverses the whole fee; a partial refund keeps the fixed part
    # and gives back the percentage part on the refunded amount.
    PERCENTAGE_BACK = "percentage_back", "Full refund reverses the fee; partial returns the % part"
    # The fee pays for processing the payment, which happened: no refund gives any of it back.
    KEEP_FEE = "keep_fee", "Keep the whole fee on any refund"
    # The fee follows the money: a refund of x % of the payment gives back x % of the fee.
    PROPORTIONAL = "proportional", "Give back the fee in proportion to the refunded amount"


@dataclass(frozen=True, slots=True)
class ResolvedFeePlan:
    """A plan version with the tenant's overrides applied: everything `fee_compute` needs."""

    plan_id: int | None
    code: str
    version: int
    currency: str
    fixed_fee: Decimal
    percentage: Decimal
    minimum_fee: Decimal | None
    maximum_fee: Decimal | None
    vat_rate: Decimal
    refund_policy: str
    assignment_id: int | None = None
    overrides: tuple[str, ...] = ()  # names of the terms the tenant's assignment overrode

    def __post_init__(self) -> None:
        amounts = {"fixed_fee": self.fixed_fee, "minimum_fee": self.minimum_fee}
        amounts["maximum_fee"] = self.maximum_fee
        for name, amount in amounts.items():
            if amount is None:
                continue
            if amount < ZERO or not is_exact(amount, self.currency):
                raise MoneyError(f"{name} {amount} is not a non-negative {self.currency} amount")
        if not ZERO <= self.percentage <= HUNDRED:
            raise MoneyError(f"percentage {self.percentage} is not between 0 and 100")
        if not ZERO <= self.vat_rate <= HUNDRED:
            raise MoneyError(f"VAT rate {self.vat_rate} is not between 0 and 100")
        if (
            self.minimum_fee is not None
            and self.maximum_fee is not None
            and self.minimum_fee > self.maximum_fee
        ):
            raise MoneyError(f"minimum {self.minimum_fee} is above maximum {self.maximum_fee}")
        if self.refund_policy not in RefundPolicy.values:
            raise MoneyError(f"unknown refund policy {self.refund_policy!r}")


@dataclass(frozen=True, slots=True)
class FeeBreakdown:
    """How one payment's fee was computed; stored on the settlement as its snapshot."""

    currency: str
    gross: Decimal
    fixed_part: Decimal
    percentage: Decimal
    percentage_part: Decimal  # exact (not rounded): the fee is rounded once, at the end
    minimum_fee: Decimal | None
    maximum_fee: Decimal | None
    minimum_applied: bool
    maximum_applied: bool
    capped_at_gross: bool
    fee: Decimal
    vat_rate: Decimal
    refund_policy: str
    plan_id: int | None
    plan_code: str
    plan_version: int
    assignment_id: int | None
    overrides: tuple[str, ...]

    @property
    def override_used(self) -> bool:
        return bool(self.overrides)

    def as_snapshot(self) -> dict[str, Any]:
        """JSON for `SettlementRecord.fee_breakdown`: amounts as strings, never floats."""

        def amount(value: Decimal | None) -> str | None:
            return None if value is None else format_amount(value, self.currency)

        return {
            "plan": self.plan_code,  # the keys of the pre-engine snapshot keep their meaning
            "plan_id": self.plan_id,
            "plan_version": self.plan_version,
            "assignment_id": self.assignment_id,
            "override_used": self.override_used,
            "overrides": list(self.overrides),
            "currency": self.currency,
            "gross": amount(self.gross),
            "fixed": amount(self.fixed_part),
            "fixed_part": amount(self.fixed_part),
            "percentage": _plain(self.percentage),
            "percentage_part": _plain(self.percentage_part),
            "minimum_fee": amount(self.minimum_fee),
            "maximum_fee": amount(self.maximum_fee),
            "minimum_applied": self.minimum_applied,
            "maximum_applied": self.maximum_applied,
            "capped_at_gross": self.capped_at_gross,
            "fee": amount(self.fee),
            "vat_rate": str(self.vat_rate),
            "refund_policy": self.refund_policy,
        }


def _plain(value: Decimal) -> str:
    """An exact decimal without exponent or trailing zeros: "2.5", "0.1125", "0"."""
    return f"{value.normalize():f}"


def fee_compute(*, plan: ResolvedFeePlan, gross: Decimal, currency: str) -> FeeBreakdown:
    """Wasla's fee on a payment of `gross` `currency` under `plan` (excl. VAT)."""
    if currency != plan.currency:
        raise MoneyError(f"plan {plan.code} v{plan.version} is in {plan.currency}, not {currency}")
    if gross <= ZERO or not is_exact(gross, currency):
        raise MoneyError(f"gross {gross} is not a positive {currency} amount")
    percentage_part = plan.percentage * gross / HUNDRED
    raw = plan.fixed_fee + percentage_part
    minimum_applied = plan.minimum_fee is not None and raw < plan.minimum_fee
    if minimum_applied:
        raw = plan.minimum_fee  # type: ignore[assignment]
    maximum_applied = plan.maximum_fee is not None and raw > plan.maximum_fee
    if maximum_applied:
        raw = plan.maximum_fee  # type: ignore[assignment]
    capped_at_gross = raw > gross
    if capped_at_gross:
        raw = gross  # never take more than the payment itself
    return FeeBreakdown(
        currency=currency,
        gross=gross,
        fixed_part=plan.fixed_fee,
        percentage=plan.percentage,
        percentage_part=percentage_part,
        minimum_fee=plan.minimum_fee,
        maximum_fee=plan.maximum_fee,
        minimum_applied=minimum_applied,
        maximum_applied=maximum_applied,
        capped_at_gross=capped_at_gross,
        fee=round_money(raw, currency),
        vat_rate=plan.vat_rate,
        refund_policy=plan.refund_policy,
        plan_id=plan.plan_id,
        plan_code=plan.code,
        plan_version=plan.version,
        assignment_id=plan.assignment_id,
        overrides=plan.overrides,
    )


def refund_fee_delta(
    *,
    snapshot: dict[str, Any],
    fee: Decimal,
    gross: Decimal,
    remaining_fee: Decimal,
    refund_amount: Decimal,
    full: bool,
    currency: str,
) -> Decimal:
    """How much fee (≤ 0) a succeeded refund gives back, by the settlement's snapshotted policy.

    `full` means the payment is now refunded in full; `remaining_fee` is the fee left after the
    earlier refunds. A refund never gives back more than what remains, and never turns the fee
    negative. Settlements from before the fee engine carry no policy: they had the default one.
    """
    policy = snapshot.get("refund_policy") or RefundPolicy.PERCENTAGE_BACK
    if policy == RefundPolicy.KEEP_FEE or remaining_fee <= ZERO:
        return round_money(ZERO, currency)
    if full:
        return -remaining_fee
    if policy == RefundPolicy.PROPORTIONAL:
        back = round_money(fee * refund_amount / gross, currency)
        return -min(back, remaining_fee)
    if policy == RefundPolicy.PERCENTAGE_BACK:
        percentage = Decimal(snapshot.get("percentage") or "0")
        # The fixed part is kept: a partial refund never takes the fee below it.
        kept = min(Decimal(snapshot.get("fixed_part") or snapshot.get("fixed") or "0"), fee)
        back = round_money(refund_amount * percentage / HUNDRED, currency)
        return -min(back, max(remaining_fee - kept, ZERO))
    raise MoneyError(f"unknown refund policy {policy!r}")
