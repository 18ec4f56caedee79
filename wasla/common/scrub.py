"""Remove secrets from provider payloads and headers before they are stored or logged."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

_SECRET_KEYS = re.compile(
    r"(secret|password|authorization|api[_-]?key|access[_-]?token|client[_-]?secret|"
    r"cvv|cvc|card[_-]?number|otp)",
    re.IGNORECASE,
)
_SECRET_VALUES = re.compile(r"^(sk_(test|live)_|whsec_|rk_(test|live)_|Bearer\s|Basic\s)")
REDACTED = "[redacted]"


def scrub(value: Any) -> Any:
    """A JSON-safe copy of `value` with secret-looking keys and values replaced by REDACTED
    (Decimals become fixed-point strings, so no amount ever passes through float)."""
    if isinstance(value, dict):
        return {k: REDACTED if _SECRET_KEYS.search(str(k)) else scrub(v) for k, v in value.items()}
    if isinstance(value, list):
        return [scrub(v) for v in value]
    if isinstance(value, str) and _SECRET_VALUES.match(value):
        return REDACTED
    if isinstance(value, Decimal):
        return f"{value:f}"
    return value
