"""Passwords are hashed with Argon2 in production (the tests use MD5 only for speed)."""

from __future__ import annotations

import importlib

import pytest
from django.contrib.auth.hashers import check_password, make_password


def test_production_hashes_with_argon2_first():
    production = importlib.import_module("config.settings.production")
    assert production.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"


@pytest.mark.django_db
def test_argon2_hashes_verify_and_older_hashes_still_do(settings):
    production = importlib.import_module("config.settings.production")
    settings.PASSWORD_HASHERS = production.PASSWORD_HASHERS
    hashed = make_password("a long passphrase 2026")
    assert hashed.startswith("argon2$argon2id$")
    assert check_password("a long passphrase 2026", hashed)
    older = make_password("a long passphrase 2026", hasher="pbkdf2_sha256")
    assert check_password("a long passphrase 2026", older)
