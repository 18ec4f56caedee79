"""Merchant secret keys at rest: a SHA-256 digest to look charges up, a Fernet token to sign with.

The sandbox must sign webhooks with the merchant's own key, so it keeps the key recoverable, but a
database dump must never show a plaintext `sk_…`.
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet
from django.conf import settings

SECRET_KEY_PREFIX = "sk_test_"


def key_is_acceptable(secret_key: str) -> bool:
    """Any test-mode secret key is accepted; live keys and publishable keys never are."""
    return (
        secret_key.startswith(SECRET_KEY_PREFIX)
        and len(secret_key) > len(SECRET_KEY_PREFIX)
        and secret_key.isascii()
        and secret_key.isprintable()
        and " " not in secret_key
    )


def key_digest(secret_key: str) -> str:
    return hashlib.sha256(secret_key.encode()).hexdigest()


def _fernet() -> Fernet:
    # Derived on each call so a test that overrides SECRET_KEY is honoured; SHA-256 gives the
    # 32 bytes Fernet wants.
    raw = hashlib.sha256(settings.SECRET_KEY.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(raw))


def key_encrypt(secret_key: str) -> str:
    return _fernet().encrypt(secret_key.encode()).decode()


def key_decrypt(token: str) -> str:
    return _fernet().decrypt(token.encode()).decode()
