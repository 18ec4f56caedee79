"""Currencies the simulated Tap account accepts, and how many decimals each one carries."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Final

CURRENCY_EXPONENTS: Final[dict[str, int]] = {
    "SAR": 2,
    "AED": 2,
    "USD": 2,
    "EUR": 2,
    "QAR": 2,
    "EGP": 2,
    "GBP": 2,
    "KWD": 3,
    "BHD": 3,
    "OMR": 3,
    "JOD": 3,
}

# Tap's own plugin falls back to two decimals for any currency it does not list.
DEFAULT_EXPONENT: Final = 2


def currency_exponent(currency: str) -> int:
    return CURRENCY_EXPONENTS.get(currency.upper(), DEFAULT_EXPONENT)


def amount_quantum(currency: str) -> Decimal:
    """The smallest unit of `currency`, e.g. Decimal("0.01") for SAR."""
    return Decimal(1).scaleb(-currency_exponent(currency))


def amount_format(amount: Decimal, currency: str) -> str:
    """`amount` with exactly the currency's decimals: "1.00" for SAR, "1.500" for KWD."""
    return format(amount.quantize(amount_quantum(currency), rounding=ROUND_HALF_UP), "f")
