"""Secrets stay secret (docs/invariants.md, invariant 7): provider secrets are encrypted at
rest with a rotatable key that is not SECRET_KEY, and never leave through a dump, the API, the
admin or raw_response."""

from __future__ import annotations

import subprocess

import pytest
from cryptography.fernet import Fernet
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from django.test import Client

from testsupport.database import database_owner
from testsupport.factories import make_tap_config, make_tenant
from testsupport.staff import staff_login
from wasla.common import crypto
from wasla.payments.models import PaymentGatewayConfig


def _stored(config: PaymentGatewayConfig) -> tuple[str, str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT secret_key, webhook_secret FROM payments_paymentgatewayconfig WHERE id = %s",
            [config.pk],
        )
        return cursor.fetchone()


@pytest.mark.django_db
def test_secrets_are_ciphertext_in_the_database_and_plaintext_in_python():
    config = make_tap_config(make_tenant(), webhook_secret="whsec_plain_value_123")
    secret_column, webhook_column = _stored(config)
    assert secret_column.startswith("fernet:")
    assert webhook_column.startswith("fernet:")
    assert config.secret_key not in secret_column
    fresh = PaymentGatewayConfig.objects.get(pk=config.pk)
    assert fresh.secret_key == config.secret_key
    assert fresh.webhook_secret == "whsec_plain_value_123"


def test_encryption_key_is_not_the_secret_key():
    assert settings.SECRET_KEY not in settings.WASLA_ENCRYPTION_KEYS


@pytest.mark.django_db(transaction=True)
def test_a_database_dump_holds_no_plaintext_secret():
    config = make_tap_config(make_tenant(), webhook_secret="whsec_dump_probe_987")
    db = connection.settings_dict
    dump = subprocess.run(
        [
            "pg_dump",
            "-h",
            db["HOST"] or "127.0.0.1",
            "-p",
            str(db["PORT"] or 5432),
            "-U",
            # A backup is the owner's job: the app role sees (and dumps) no tenant's rows.
            database_owner(),
            "--data-only",
            db["NAME"],
        ],
        capture_output=True,
        check=True,
        text=True,
    ).stdout
    assert "payments_paymentgatewayconfig" in dump
    assert config.public_key in dump  # the dump really has the row
    assert config.secret_key not in dump
    assert "whsec_dump_probe_987" not in dump
    assert "sk_test_" not in dump


@pytest.mark.django_db
def test_rotation_reencrypts_with_the_new_key_first(settings):
    config = make_tap_config(make_tenant(), webhook_secret="whsec_rotate_me")
    old_key = settings.WASLA_ENCRYPTION_KEYS[0]
    new_key = Fernet.generate_key().decode()
    settings.WASLA_ENCRYPTION_KEYS = [new_key, old_key]
    before = _stored(config)

    call_command("rotate_encryption_keys")

    after = _stored(config)
    assert after != before
    new_only = Fernet(new_key.encode())
    assert new_only.decrypt(after[0].removeprefix("fernet:").encode()).decode() == config.secret_key
    assert new_only.decrypt(after[1].removeprefix("fernet:").encode()).decode() == "whsec_rotate_me"
    settings.WASLA_ENCRYPTION_KEYS = [new_key]  # the old key can now be dropped
    assert PaymentGatewayConfig.objects.get(pk=config.pk).secret_key == config.secret_key


@pytest.mark.django_db
def test_a_value_no_key_decrypts_is_a_clear_error(settings):
    config = make_tap_config(make_tenant())
    settings.WASLA_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(Exception, match="no key in WASLA_ENCRYPTION_KEYS"):
        PaymentGatewayConfig.objects.get(pk=config.pk)
    assert crypto.encrypt("x").startswith("fernet:")


@pytest.mark.django_db
def test_admin_never_shows_a_secret():
    config = make_tap_config(make_tenant(), webhook_secret="whsec_admin_probe")
    staff = get_user_model().objects.create_superuser("root", "root@example.com", "pw-123456789")
    client = Client()
    staff_login(client, staff)
    for url in (
        "/admin/payments/paymentgatewayconfig/",
        f"/admin/payments/paymentgatewayconfig/{config.pk}/change/",
    ):
        page = client.get(url)
        assert page.status_code == 200, url
        assert config.secret_key.encode() not in page.content
        assert b"whsec_admin_probe" not in page.content
