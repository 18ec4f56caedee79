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
`json.dumps` cannot do, hence `sandbox.jsonfmt`. Parse with `sandbox.jsonfmt.loads`.
"""

from __future__ import annotations

from typing import Any

from sandbox import jsonfmt


def dumps(value: Any) -> str:
    """Canonical compact JSON for dicts, lists, strings, ints, bools, None and Decimals."""
    return jsonfmt.dumps(value, ensure_ascii=False)


def dumps_bytes(value: Any) -> bytes:
    """The canonical form as the UTF-8 bytes that go on the wire (and into the CRC32)."""
    return dumps(value).encode("utf-8")
