"""What the stack tests share: a private Redis, a scratch database name on the suite's server,
and a shopper's browser on the simulators' hosted pages that trusts the stack's certificate."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import ssl
import subprocess
import time
from collections.abc import Iterator
from urllib.parse import urljoin, urlsplit

import httpx
import psycopg

from scripts.stack import free_port
from wasla.payments.tests.hosted import parse_forms


def superuser_url(database: str) -> str:
    """The suite's PostgreSQL server (DATABASE_URL: a superuser), with another database."""
    url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/wasla")
    return urlsplit(url)._replace(path=f"/{database}").geturl()


def scratch_name(suffix: str) -> str:
    """A database name of this suite's own (derived from the test database's name)."""
    url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/wasla")
    return f"{urlsplit(url).path.strip('/') or 'wasla'}_{suffix}"


def drop_database(name: str) -> None:
    with psycopg.connect(superuser_url("postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def private_redis() -> Iterator[str]:
    """A redis-server of the test's own on a free port (stopped at the end): `redis://...`."""
    binary = shutil.which("redis-server")
    assert binary, "redis-server is missing: make stack-tools"
    port = free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.1)
        yield f"redis://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


def pay_on_hosted_page(
    redirect_url: str, verify: ssl.SSLContext, outcome: str = "succeed"
) -> httpx.Response:
    """Submit `outcome` on the simulator's hosted page(s) (plain HTTP on loopback) and follow
    the redirects back to the product's return page (HTTPS, the stack's certificate)."""
    with httpx.Client(verify=verify, timeout=30, follow_redirects=True) as browser:
        response = browser.get(redirect_url)
        for _ in range(4):
            forms = parse_forms(response.text)
            if len(forms) != 1 or outcome not in forms[0]["buttons"]:
                return response
            data = {**forms[0]["fields"], "outcome": outcome}
            if "otp" in data:
                data["otp"] = "123456"
            response = browser.post(urljoin(str(response.url), forms[0]["action"]), data=data)
    raise AssertionError("the hosted page never sent the shopper back")
