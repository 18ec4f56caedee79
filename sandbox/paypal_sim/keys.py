"""Secrets at rest: SHA-256 digests for what is only compared, Fernet for what must be read back.

Client secrets and access tokens are only ever compared, so only their digests are stored. The
webhook signing key must be usable again, so it is encrypted with a Fernet key derived from
SHA-256 of settings.SECRET_KEY. A database dump therefore shows neither in plaintext.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from cryptography.fernet import Fernet
from django.conf import settings


def digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def digest_matches(value: str, expected_digest: str) -> bool:
    return hmac.compare_digest(digest(value), expected_digest)


def _fernet() -> Fernet:
    # Derived on each call so a test that overrides SECRET_KEY is honoured; SHA-256 gives the
    # 32 bytes Fernet wants.
    raw = hashlib.sha256(settings.SECRET_KEY.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(raw))


def encrypt(plaintext: bytes) -> str:
    return _fernet().encrypt(plaintext).decode()


def decrypt(token: str) -> bytes:
    return _fernet().decrypt(token.encode())
