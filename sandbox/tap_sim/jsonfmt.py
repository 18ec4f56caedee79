"""JSON the way Tap writes it: decimals are bare numbers ("amount": 10.5), never strings or floats.

Built on `sandbox.jsonfmt` (exact decimals, no floats); what is Tap's own is how a decimal looks.
Parse with `sandbox.jsonfmt.loads`, which keeps every fraction a Decimal.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from sandbox import jsonfmt


def decimal_literal(value: Decimal) -> str:
    """Short JSON form of a decimal: 10.50 -> "10.5", 1 -> "1.0", 12.250 -> "12.25".

    `format(value, "f")` is exact for any finite Decimal (unlike normalize(), which rounds to the
    context precision), and the ".0" keeps whole amounts looking like Tap's `1.0`.
    """
    text = jsonfmt.plain_decimal(value)
    if "." in text:
        text = text.rstrip("0")
        return text + "0" if text.endswith(".") else text
    return text + ".0"


def dumps(value: Any) -> str:
    """Compact JSON text for dicts, lists, strings, ints, bools, None and Decimals (no floats)."""
    return jsonfmt.dumps(value, decimal=decimal_literal)


class DecimalJSONEncoder(json.JSONEncoder):
    """Lets a model JSONField store Decimals as exact JSON numbers."""

    def encode(self, o: Any) -> str:
        return dumps(o)
