"""Money: a Decimal amount with an ISO 4217 currency, rounded in exactly one place.

Every amount in the product is a `Decimal` paired with a currency. Rounding is ROUND_HALF_UP to
the currency's exponent and happens only in `round_money`. Provider minor units are converted
only at the provider edge, through `to_minor_units` / `from_minor_units`.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

# ISO 4217 minor-unit exponents of the currencies the providers we support can charge.
CURRENCY_EXPONENTS: dict[str, int] = {
    "SAR": 2,
    "AED": 2,
    "QAR": 2,
    "EGP": 2,
    "USD": 2,
    "EUR": 2,
    "GBP": 2,
    "KWD": 3,
    "BHD": 3,
    "OMR": 3,
    "JOD": 3,
}


class MoneyError(ValueError):
    """An amount or currency that cannot be money."""


def currency_exponent(currency: str) -> int:
    try:
        return CURRENCY_EXPONENTS[currency]
    except KeyError:
        raise MoneyError(f"unknown currency {currency!r}") from None


def _quantum(currency: str) -> Decimal:
    return Decimal(1).scaleb(-currency_exponent(currency))


def round_money(amount: Decimal, currency: str) -> Decimal:
    """The one rounding helper: ROUND_HALF_UP to the currency exponent."""
    if not isinstance(amount, Decimal):
        raise MoneyError(f"money must be Decimal, got {type(amount).__name__}")
    if not amount.is_finite():
        raise MoneyError("money must be a finite number")
    try:
        return amount.quantize(_quantum(currency), rounding=ROUND_HALF_UP)
    except InvalidOperation:  # more digits than the decimal context holds, e.g. 1e309
        raise MoneyError(f"{amount} is too large to be an amount of {currency}") from None


def is_exact(amount: Decimal, currency: str) -> bool:
    """True when `amount` needs no rounding in `currency` (no sub-halala precision)."""
    return round_money(amount, currency) == amount


def parse_amount(value: object, currency: str) -> Decimal:
    """A provider or user value (str/int/Decimal, never float) as an exact amount."""
    if isinstance(value, bool | float):
        raise MoneyError(f"money must not be {type(value).__name__}")
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise MoneyError(f"not an amount: {value!r}") from None
    if not amount.is_finite() or not is_exact(amount, currency):
        raise MoneyError(f"{value!r} is not an exact {currency} amount")
    return round_money(amount, currency)


def format_amount(amount: Decimal, currency: str) -> str:
    """Fixed-point string with exactly the currency's decimals, e.g. '1.00', '1.500'."""
    return f"{round_money(amount, currency):f}"


def to_minor_units(amount: Decimal, currency: str) -> int:
    return int(round_money(amount, currency).scaleb(currency_exponent(currency)))


def from_minor_units(units: int, currency: str) -> Decimal:
    return round_money(Decimal(units).scaleb(-currency_exponent(currency)), currency)


@dataclass(frozen=True, slots=True)
class Money:
    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "amount", round_money(self.amount, self.currency))

    def __add__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount - other.amount, self.currency)

    def _same_currency(self, other: Money) -> None:
        if other.currency != self.currency:
            raise MoneyError(f"cannot mix {self.currency} and {other.currency}")

    def __str__(self) -> str:
        return f"{format_amount(self.amount, self.currency)} {self.currency}"
