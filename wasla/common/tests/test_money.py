from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wasla.common.money import (
    Money,
    MoneyError,
    format_amount,
    from_minor_units,
    is_exact,
    parse_amount,
    round_money,
    to_minor_units,
)


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        ("1.005", "SAR", "1.01"),  # half up, not banker's rounding
        ("1.004", "SAR", "1.00"),
        ("2.675", "SAR", "2.68"),
        ("-1.005", "SAR", "-1.01"),
        ("1.0005", "KWD", "1.001"),
        ("1.5", "KWD", "1.500"),
        ("10", "BHD", "10.000"),
        ("0.125", "OMR", "0.125"),
    ],
)
def test_round_money_is_half_up_to_the_currency_exponent(amount, currency, expected):
    assert str(round_money(Decimal(amount), currency)) == expected


def test_round_money_refuses_float_and_unknown_currency():
    with pytest.raises(MoneyError):
        round_money(1.5, "SAR")  # type: ignore[arg-type]
    with pytest.raises(MoneyError):
        round_money(Decimal("1"), "XXX")
    with pytest.raises(MoneyError):
        round_money(Decimal("NaN"), "SAR")


def test_parse_amount_accepts_exact_values_only():
    assert parse_amount("10.50", "SAR") == Decimal("10.50")
    assert parse_amount(Decimal("1.0"), "SAR") == Decimal("1.00")
    assert parse_amount(7, "KWD") == Decimal("7.000")
    for bad in ("10.505", 1.5, True, "abc", "Infinity"):
        with pytest.raises(MoneyError):
            parse_amount(bad, "SAR")


def test_minor_units_round_trip_at_the_edge():
    assert to_minor_units(Decimal("10.00"), "SAR") == 1000
    assert to_minor_units(Decimal("1.5"), "KWD") == 1500
    assert from_minor_units(1999, "SAR") == Decimal("19.99")
    assert format_amount(Decimal("1.0"), "SAR") == "1.00"
    assert format_amount(Decimal("1.5"), "KWD") == "1.500"


def test_money_refuses_mixed_currencies():
    assert Money(Decimal("1.005"), "SAR").amount == Decimal("1.01")
    assert str(Money(Decimal("1"), "SAR") + Money(Decimal("2.5"), "SAR")) == "3.50 SAR"
    with pytest.raises(MoneyError):
        Money(Decimal("1"), "SAR") + Money(Decimal("1"), "KWD")


@given(st.integers(min_value=-(10**12), max_value=10**12), st.sampled_from(["SAR", "KWD", "BHD"]))
def test_minor_units_are_a_bijection(units, currency):
    assert to_minor_units(from_minor_units(units, currency), currency) == units


@given(
    st.decimals(
        min_value=-(10**9), max_value=10**9, allow_nan=False, allow_infinity=False, places=6
    )
)
def test_rounding_moves_at_most_half_a_halala(value):
    rounded = round_money(value, "SAR")
    assert abs(rounded - value) <= Decimal("0.005")
    assert rounded == round_money(rounded, "SAR")


def test_an_amount_too_large_to_round_is_a_money_error_not_a_crash():
    with pytest.raises(MoneyError, match="too large"):
        round_money(Decimal("1e309"), "SAR")
    with pytest.raises(MoneyError, match="too large"):
        is_exact(Decimal(10) ** 30, "KWD")
