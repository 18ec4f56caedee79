"""Tap's webhook signature: the `hashstring` header.

hashstring = lowercase hex HMAC-SHA256(key = merchant secret key,
    msg = "x_id"+id + "x_amount"+AMT + "x_currency"+currency
        + "x_gateway_reference"+reference.gateway + "x_payment_reference"+reference.payment
        + "x_status"+status + "x_created"+transaction.created)
where AMT carries exactly the currency's decimals ("1.00" for SAR, "1.500" for KWD), whatever the
JSON body says (`1.0`). Missing references count as "". A refund object (`"object": "refund"`)
is signed the same way with its own references and its top-level `created` in place of
`transaction.created`. Pure Python, no Django: product tests import it to sign webhook bodies of
their own.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from sandbox.tap_sim.currencies import amount_format


def _as_decimal(amount: Any) -> Decimal:
    if isinstance(amount, bool) or amount is None:
        raise ValueError(f"charge amount {amount!r} is not a number")
    # str() first: a float parsed from JSON (1.0) becomes its shortest repr, not its binary value.
    return amount if isinstance(amount, Decimal) else Decimal(str(amount))


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _created(tap_object: Mapping[str, Any]) -> Any:
    if tap_object.get("object") == "refund":
        return tap_object.get("created")
    return (tap_object.get("transaction") or {}).get("created")


def tap_hashstring_message(charge: Mapping[str, Any]) -> str:
    """The exact string Tap signs for a charge, authorize or refund object."""
    currency = _text(charge.get("currency"))
    reference = charge.get("reference") or {}
    return (
        f"x_id{_text(charge.get('id'))}"
        f"x_amount{amount_format(_as_decimal(charge.get('amount')), currency)}"
        f"x_currency{currency}"
        f"x_gateway_reference{_text(reference.get('gateway'))}"
        f"x_payment_reference{_text(reference.get('payment'))}"
        f"x_status{_text(charge.get('status'))}"
        f"x_created{_text(_created(charge))}"
    )


def tap_hashstring(charge: Mapping[str, Any], secret_key: str) -> str:
    """The `hashstring` header Tap sends with a webhook carrying `charge` (or a refund)."""
    message = tap_hashstring_message(charge).encode()
    return hmac.new(secret_key.encode(), message, hashlib.sha256).hexdigest()
