"""Secrets at rest: API keys only as a SHA-256 digest, anything reusable as a Fernet token.

The simulator never needs an API key back, so it keeps a digest (look-up, account id). It must
sign webhooks with each endpoint's `whsec_…` secret and replay idempotent responses (one of which
carries that secret), so those are encrypted. A database dump never shows `sk_test_` or `whsec_`.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Final

from cryptography.fernet import Fernet
from django.conf import settings

SECRET_KEY_PREFIX: Final = "sk_test_"
ACCOUNT_PREFIX: Final = "acct_"
MAX_KEY_LENGTH: Final = 255


def key_is_acceptable(api_key: str) -> bool:
    """Any test-mode secret key is accepted; live, restricted and publishable keys never are."""
    return (
        api_key.startswith(SECRET_KEY_PREFIX)
        and len(SECRET_KEY_PREFIX) < len(api_key) <= MAX_KEY_LENGTH
        and api_key.isascii()
        and api_key.isprintable()
        and " " not in api_key
    )


def key_digest(api_key: str) -> str:
    return hashlib.sha256(api_key.encode()).hexdigest()


def account_id_for_digest(digest: str) -> str:
    """The simulated account a key belongs to: one account per key."""
    return ACCOUNT_PREFIX + digest[:16]


def _fernet() -> Fernet:
    # Derived on each call so a test that overrides SECRET_KEY is honoured; SHA-256 gives the
    # 32 bytes Fernet wants.
    raw = hashlib.sha256(settings.SECRET_KEY.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(raw))


def secret_encrypt(plaintext: str) -> str:
    return _fernet().encrypt(plaintext.encode()).decode()


def secret_decrypt(token: str) -> str:
    return _fernet().decrypt(token.encode()).decode()
