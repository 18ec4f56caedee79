"""JSON with exact decimals, as the Tap and PayPal simulators write and read it.

The standard encoder cannot emit a Decimal as a raw number without going through float, which
would lose exactness, so this module carries a tiny encoder of its own; floats are refused
outright. Parsing keeps every fractional number as a Decimal for the same reason, and refuses
NaN and Infinity. Each simulator says how its decimals look (`decimal`) and whether non-ASCII
text is escaped (`ensure_ascii`); the output is compact and keeps the keys in the order given.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any


def plain_decimal(value: Decimal) -> str:
    """A decimal in plain notation with the digits it has: "1.50" stays "1.50", 1E+2 is "100"."""
    if not value.is_finite():
        raise ValueError(f"{value} has no JSON representation")
    return format(value, "f")


def dumps(
    value: Any,
    *,
    decimal: Callable[[Decimal], str] = plain_decimal,
    ensure_ascii: bool = True,
) -> str:
    """Compact JSON text for dicts, lists, strings, ints, bools, None and Decimals (no floats)."""

    def text(string: str) -> str:
        return json.dumps(string, ensure_ascii=ensure_ascii)

    def encode(item: Any) -> str:
        if item is None:
            return "null"
        if isinstance(item, bool):
            return "true" if item else "false"
        if isinstance(item, int):
            return str(item)
        if isinstance(item, Decimal):
            return decimal(item)
        if isinstance(item, str):
            return text(item)
        if isinstance(item, dict):
            return "{" + ",".join(f"{text(str(k))}:{encode(v)}" for k, v in item.items()) + "}"
        if isinstance(item, list | tuple):
            return "[" + ",".join(encode(element) for element in item) + "]"
        raise TypeError(f"{type(item).__name__} is not serialisable here (floats are refused)")

    return encode(value)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def loads(text: str | bytes) -> Any:
    """Parse JSON keeping fractions as Decimal; NaN and Infinity are refused, not made floats."""
    return json.loads(text, parse_float=Decimal, parse_constant=_refuse_constant)


class DecimalJSONDecoder(json.JSONDecoder):
    """Reads JSONField values back with fractions as Decimal."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("parse_float", Decimal)
        kwargs.setdefault("parse_constant", _refuse_constant)
        super().__init__(**kwargs)
