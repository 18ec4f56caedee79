"""Stripe's webhook signature: the `Stripe-Signature` header.

    Stripe-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(key=whsec_… secret, msg=f"{t}.{body}")>

`stripe.Webhook.construct_event(payload, header, secret)` verifies exactly this (and rejects a `t`
older than its 300 s tolerance). Pure Python, no Django: product tests import it to sign webhook
bodies of their own.
"""

from __future__ import annotations

import hashlib
import hmac
import time


def stripe_signature(payload: bytes, secret: str, timestamp: int) -> str:
    """The hex `v1` signature of `payload` sent at `timestamp`."""
    message = f"{timestamp}.".encode() + payload
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def stripe_signature_header(payload: bytes, secret: str, timestamp: int | None = None) -> str:
    """The `Stripe-Signature` header value for `payload`, signed now unless `timestamp` is given."""
    signed_at = int(time.time()) if timestamp is None else timestamp
    return f"t={signed_at},v1={stripe_signature(payload, secret, signed_at)}"
