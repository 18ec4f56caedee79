"""`make demo` with DATABASE_URL on PostgreSQL (scripts/demo.py): the row-level security roles
are created when the URL is a superuser's; otherwise it stops, changing nothing, with the exact
command to run. Role names of the test's own (WASLA_DB_*_ROLE), so the cluster's real roles
are never touched."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from collections.abc import Iterator

import psycopg
import pytest
from psycopg import sql

from scripts.stack import ROOT

from .stack_support import superuser_url


@pytest.fixture
def role_names() -> Iterator[dict[str, str]]:
    suffix = secrets.token_hex(4)
    names = {
        "app": f"wasla_app_demo_{suffix}",
        "platform": f"wasla_platform_demo_{suffix}",
        "user": f"wasla_demo_user_{suffix}",
    }
    with psycopg.connect(superuser_url("postgres"), autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(names["user"])))
    yield names
    with psycopg.connect(superuser_url("postgres"), autocommit=True) as conn:
        for name in names.values():
            conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(name)))


def _roles(names: dict[str, str]) -> dict[str, tuple[bool, bool]]:
    """name -> (can log in, bypasses RLS) of the test's roles that exist."""
    with psycopg.connect(superuser_url("postgres")) as conn:
        rows = conn.execute(
            "SELECT rolname, rolcanlogin, rolbypassrls FROM pg_roles WHERE rolname = ANY(%s)",
            [[names["app"], names["platform"]]],
        ).fetchall()
    return {name: (login, bypass) for name, login, bypass in rows}


def _demo_roles(database_url: str, names: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": "config.settings.demo",
        "WASLA_DB_APP_ROLE": names["app"],
        "WASLA_DB_PLATFORM_ROLE": names["platform"],
    }
    return subprocess.run(
        [sys.executable, "scripts/demo.py", "--roles-only"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def test_a_superuser_url_creates_the_missing_roles(role_names):
    result = _demo_roles(superuser_url("postgres"), role_names)

    assert result.returncode == 0, result.stdout + result.stderr
    assert _roles(role_names) == {
        role_names["app"]: (True, False),
        role_names["platform"]: (False, True),
    }


def test_another_user_stops_with_the_command_to_run(role_names):
    url = superuser_url("postgres").replace("postgres@", f"{role_names['user']}@", 1)

    result = _demo_roles(url, role_names)

    assert result.returncode == 1
    assert "make db-roles" in result.stderr
    assert f"CREATE ROLE {role_names['platform']} NOLOGIN BYPASSRLS;" in result.stderr
    assert f"GRANT {role_names['platform']} TO {role_names['app']};" in result.stderr
    assert _roles(role_names) == {}
