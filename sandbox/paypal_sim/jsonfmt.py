"""The one JSON serializer of the PayPal simulator, used for responses, webhooks and verification.

Canonical form: `json.dumps(value, separators=(",", ":"), ensure_ascii=False)`, i.e. no
whitespace, non-ASCII characters written as themselves (UTF-8 on the wire), keys in the order
given. Webhook bodies are sent in exactly this form, and verify-webhook-signature re-serialises
the `webhook_event` it receives the same way before taking its CRC32, so an event that went
through any JSON parser that keeps key order verifies again.

Numbers: PayPal amounts are strings, so the simulator's own bodies hold integers at most, and
for them this is byte for byte `json.dumps(separators=(",", ":"), ensure_ascii=False)`. Fractions
in incoming JSON are parsed as Decimal (never float) and written back in plain notation with the
digits they were read with ("1.50" stays "1.50"; only "1e2" becomes "100"), which plain
`json.dumps` cannot do, hence the small encoder below.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any


def _decimal_literal(value: Decimal) -> str:
    if not value.is_finite():
        raise ValueError(f"{value} has no JSON representation")
    return format(value, "f")


def dumps(value: Any) -> str:
    """Canonical compact JSON for dicts, lists, strings, ints, bools, None and Decimals."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal):
        return _decimal_literal(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, dict):
        items = (f"{json.dumps(str(k), ensure_ascii=False)}:{dumps(v)}" for k, v in value.items())
        return "{" + ",".join(items) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(dumps(item) for item in value) + "]"
    raise TypeError(f"{type(value).__name__} is not serialisable here (floats are refused)")


def dumps_bytes(value: Any) -> bytes:
    """The canonical form as the UTF-8 bytes that go on the wire (and into the CRC32)."""
    return dumps(value).encode("utf-8")


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def loads(text: str | bytes) -> Any:
    """Parse JSON keeping fractions as Decimal; NaN and Infinity are refused, not made floats."""
    return json.loads(text, parse_float=Decimal, parse_constant=_refuse_constant)
