"""Currencies the simulated PayPal account accepts, and how many decimals each one carries."""

from __future__ import annotations

from decimal import Decimal
from typing import Final

CURRENCY_EXPONENTS: Final[dict[str, int]] = {
    "SAR": 2,
    "AED": 2,
    "USD": 2,
    "EUR": 2,
    "GBP": 2,
    "KWD": 3,
    "BHD": 3,
    "OMR": 3,
    "JPY": 0,
}


def currency_supported(currency: str) -> bool:
    return currency in CURRENCY_EXPONENTS


def amount_quantum(currency: str) -> Decimal:
    """The smallest unit of `currency`, e.g. Decimal("0.01") for SAR, Decimal("1") for JPY."""
    return Decimal(1).scaleb(-CURRENCY_EXPONENTS[currency])


def amount_is_exact(amount: Decimal, currency: str) -> bool:
    """True when `amount` has no more decimals than `currency` carries ("10.5" is fine for SAR)."""
    return amount % amount_quantum(currency) == 0


def amount_format(amount: Decimal, currency: str) -> str:
    """PayPal's `value` string with exactly the currency's decimals: "10.50", "1.500", "1000"."""
    return format(amount.quantize(amount_quantum(currency)), "f")
