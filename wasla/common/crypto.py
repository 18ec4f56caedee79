"""Encryption at rest for provider secrets: MultiFernet over WASLA_ENCRYPTION_KEYS.

The first key encrypts; every key decrypts, so keys rotate by prepending a new one, running
`rotate_encryption_keys`, then dropping the old key. The key is never SECRET_KEY.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models

ENCRYPTED_PREFIX = "fernet:"


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise ImproperlyConfigured("WASLA_ENCRYPTION_KEYS is empty")
    try:
        return MultiFernet([Fernet(key) for key in keys])
    except ValueError as exc:
        raise ImproperlyConfigured(f"WASLA_ENCRYPTION_KEYS holds an invalid key: {exc}") from None


def fernet() -> MultiFernet:
    return _fernet(tuple(settings.WASLA_ENCRYPTION_KEYS))


def encrypt(plaintext: str) -> str:
    return ENCRYPTED_PREFIX + fernet().encrypt(plaintext.encode()).decode()


def decrypt(stored: str) -> str:
    if not stored.startswith(ENCRYPTED_PREFIX):
        raise ValueError("value is not encrypted")
    try:
        return fernet().decrypt(stored.removeprefix(ENCRYPTED_PREFIX).encode()).decode()
    except InvalidToken:
        raise ImproperlyConfigured("no key in WASLA_ENCRYPTION_KEYS decrypts this value") from None


def rotate(stored: str) -> str:
    """Re-encrypt with the first (newest) key."""
    token = stored.removeprefix(ENCRYPTED_PREFIX).encode()
    return ENCRYPTED_PREFIX + fernet().rotate(token).decode()


class EncryptedTextField(models.TextField):
    """A text column holding only Fernet ciphertext; Python sees the plaintext."""

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str | None:
        if value is None or value == "":
            return value
        return decrypt(value)

    def get_prep_value(self, value: Any) -> str | None:
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt(value)
