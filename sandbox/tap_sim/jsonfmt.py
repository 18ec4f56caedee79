"""JSON the way Tap writes it: decimals are bare numbers ("amount": 10.5), never strings or floats.

The standard encoder cannot emit a Decimal as a raw number without going through float, which
would lose exactness, so this module carries a tiny encoder of its own. Parsing keeps every
fractional number as a Decimal for the same reason.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any


def decimal_literal(value: Decimal) -> str:
    """Short JSON form of a decimal: 10.50 -> "10.5", 1 -> "1.0", 12.250 -> "12.25".

    `format(value, "f")` is exact for any finite Decimal (unlike normalize(), which rounds to the
    context precision), and the ".0" keeps whole amounts looking like Tap's `1.0`.
    """
    if not value.is_finite():
        raise ValueError(f"{value} has no JSON representation")
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0")
        return text + "0" if text.endswith(".") else text
    return text + ".0"


def dumps(value: Any) -> str:
    """Compact JSON text for dicts, lists, strings, ints, bools, None and Decimals (no floats)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal):
        return decimal_literal(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, dict):
        items = (f"{json.dumps(str(key))}:{dumps(item)}" for key, item in value.items())
        return "{" + ",".join(items) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(dumps(item) for item in value) + "]"
    raise TypeError(f"{type(value).__name__} is not serialisable here (floats are refused)")


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def loads(text: str | bytes) -> Any:
    """Parse JSON keeping fractions as Decimal; NaN and Infinity are refused, not made floats."""
    return json.loads(text, parse_float=Decimal, parse_constant=_refuse_constant)


class DecimalJSONEncoder(json.JSONEncoder):
    """Lets a model JSONField store Decimals as exact JSON numbers."""

    def encode(self, o: Any) -> str:
        return dumps(o)


class DecimalJSONDecoder(json.JSONDecoder):
    """Reads JSONField values back with fractions as Decimal."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("parse_float", Decimal)
        kwargs.setdefault("parse_constant", _refuse_constant)
        super().__init__(**kwargs)
