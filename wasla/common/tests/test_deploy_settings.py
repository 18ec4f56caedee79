"""`manage.py check --deploy` with the production settings and the environment the stack gives
them (scripts/stack.py) reports nothing, and the deploy/ templates render completely."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from scripts.stack import DEPLOY, PASSED_THROUGH, ROOT, SELLER, StackError, render


def production_env(**overrides: str) -> dict[str, str]:
    env = {k: os.environ[k] for k in PASSED_THROUGH if k in os.environ}
    env.update(SELLER)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings.production",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DATABASE_URL": "postgres://wasla_app:pw@127.0.0.1:6432/wasla",
            "CACHE_URL": "rediscache://127.0.0.1:6379/1",
            "WASLA_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
            "WASLA_PUBLIC_BASE_URL": "https://127.0.0.1:8443",
        }
    )
    env.update(overrides)
    return env


def check_deploy(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def test_check_deploy_reports_nothing_with_production_settings():
    result = check_deploy(production_env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout, result.stdout + result.stderr


def test_check_deploy_catches_a_weak_secret_key():
    """The check above can fail: the same command flags a short, guessable key."""
    result = check_deploy(production_env(DJANGO_SECRET_KEY="short"))
    assert result.returncode != 0
    assert "security.W009" in result.stdout + result.stderr


@pytest.mark.parametrize("template", ["nginx-site.conf", "pgbouncer.ini"])
def test_a_deploy_template_refuses_a_missing_value(template: str):
    with pytest.raises(StackError, match="unrendered"):
        render(DEPLOY / template, {})


def test_pgbouncer_runs_in_transaction_mode_and_nginx_limits_the_body_as_django_does():
    ini = (DEPLOY / "pgbouncer.ini").read_text()
    assert "\npool_mode = transaction\n" in ini
    site = render(
        DEPLOY / "nginx-site.conf",
        {
            "SERVER_NAME": "pay.wasla.sa",
            "HTTPS_PORT": "443",
            "HTTP_PORT": "80",
            "CERTIFICATE": "/etc/ssl/wasla.pem",
            "CERTIFICATE_KEY": "/etc/ssl/wasla.key",
            "UPSTREAM": "127.0.0.1:8000",
            "MAX_BODY": "262144",
            "SANDBOX_LOCATION": "",
        },
    )
    assert "client_max_body_size 262144;" in site
    assert "proxy_set_header X-Forwarded-Proto $scheme;" in site
    assert Path(DEPLOY / "gunicorn.conf.py").exists()
