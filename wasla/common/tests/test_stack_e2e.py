"""The production stack end to end (scripts/stack.py): nginx with TLS, gunicorn on
config.settings.production, pgbouncer in transaction mode, PostgreSQL with row-level security,
a real Celery worker and beat on a private Redis, the simulators in their own process.

A payment, a refund and the invoices of the demo's invoice run go through
https://127.0.0.1:<port>/ only, as a merchant's server and a shopper's browser would; every
answer carries HSTS and every cookie is Secure. Nothing is eager: webhooks are queued to Redis
and processed by the worker. About a minute (plus `collectstatic` the first time).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import psycopg
import pytest

from scripts.restore_drill import DrillFailed, restore_drill, zatca_chains_check
from scripts.stack import ROOT, Stack, free_port

from .stack_support import (
    drop_database,
    pay_on_hosted_page,
    private_redis,
    scratch_name,
    superuser_url,
)

pytestmark = pytest.mark.stack

HSTS = "max-age=31536000; includeSubDomains; preload"


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    database = scratch_name("stack_e2e")
    drop_database(database)
    work_dir = ROOT / "var" / "stack" / "test-e2e"
    try:
        with (
            private_redis() as redis_url,
            Stack(
                database_url=superuser_url(database),
                redis_url=redis_url,
                work_dir=work_dir,
                https_port=free_port(),
                workers=2,
            ) as running,
        ):
            yield running
    finally:
        drop_database(database)


@pytest.fixture(scope="module")
def demo(stack: Stack) -> dict:
    return stack.seed_demo()


@pytest.fixture
def merchant(stack: Stack, demo: dict) -> Iterator[httpx.Client]:
    token = next(t for t in demo["tenants"] if t["slug"] == "nakheel")["api_token"]
    with httpx.Client(
        base_url=stack.base_url,
        verify=stack.ssl_context(),
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    ) as client:
        yield client


def _post(client: httpx.Client, path: str, body: dict) -> httpx.Response:
    response = client.post(path, json=body, headers={"Idempotency-Key": uuid.uuid4().hex})
    assert response.headers["Strict-Transport-Security"] == HSTS
    return response


def _until(read, expected: str, seconds: float = 60) -> str:  # type: ignore[no-untyped-def]
    """Poll until the worker has processed what the webhook queued."""
    deadline = time.monotonic() + seconds
    value = read()
    while value != expected and time.monotonic() < deadline:
        time.sleep(0.5)
        value = read()
    return str(value)


def test_payment_refund_and_invoices_through_https(stack: Stack, merchant: httpx.Client):
    order = _post(
        merchant,
        "/api/v1/orders/",
        {
            "reference": f"E2E-{uuid.uuid4().hex[:8]}",
            "amount": "100.00",
            "customer_phone": "+966557877988",
        },
    )
    assert order.status_code == 201, order.text
    payment = _post(
        merchant,
        "/api/v1/payments/",
        {
            "order": order.json()["id"],
            "provider": "tap",
            "method": "mada",
            "return_url": "https://shop.example/thanks",
        },
    )
    assert payment.status_code == 201, payment.text
    payment_id = payment.json()["id"]

    back = pay_on_hosted_page(payment.json()["redirect_url"], stack.ssl_context())
    assert str(back.url).startswith(f"{stack.base_url}/payments/return/{payment_id}/")
    assert back.headers["Strict-Transport-Security"] == HSTS

    def status() -> str:
        return merchant.get(f"/api/v1/payments/{payment_id}/").json()["status"]

    assert _until(status, "paid") == "paid"
    settlements = merchant.get("/api/v1/settlements/").json()["results"]
    mine = [s for s in settlements if s["payment_attempt"] == payment_id]
    assert [(s["gross_amount"], s["wasla_fee"]) for s in mine] == [("100.00", "1.00")]

    refund = _post(merchant, f"/api/v1/payments/{payment_id}/refunds/", {"amount": "30.00"})
    assert refund.status_code in (201, 202), refund.text

    def refund_status() -> str:
        refunds = merchant.get(f"/api/v1/payments/{payment_id}/refunds/").json()
        rows = refunds["results"] if isinstance(refunds, dict) else refunds
        return rows[0]["status"]

    assert _until(refund_status, "succeeded") == "succeeded"

    # The demo's invoice run (seed_demo, through pgbouncer as the app role) issued the last
    # two months; a second run of the command changes nothing; the PDFs come over HTTPS.
    invoices = merchant.get("/api/v1/invoices/").json()["results"]
    assert len(invoices) == 2
    assert all(i["status"] in ("issued", "paid") and i["number"] for i in invoices)
    pdf = merchant.get(f"/api/v1/invoices/{invoices[0]['id']}/pdf/")
    assert pdf.status_code == 200
    assert pdf.content.startswith(b"%PDF")
    year, month = invoices[0]["year"], invoices[0]["month"]
    rerun = json.loads(
        stack.manage("generate_invoices", "--year", str(year), "--month", str(month), "--json")
    )
    assert "nakheel" in json.dumps(rerun)
    assert len(merchant.get("/api/v1/invoices/").json()["results"]) == 2

    # The books hold through the whole stack: balances, balance chains, hash chains (the
    # command exits 1 on the first broken row, which `manage` raises).
    stack.manage("verify_ledger")


def test_pages_answer_with_hsts_and_secure_cookies(stack: Stack, demo: dict):
    login = next(m for m in demo["merchant_users"] if m["tenant"] == "nakheel")
    with httpx.Client(base_url=stack.base_url, verify=stack.ssl_context(), timeout=30) as web:
        page = web.get("/merchant/login/")
        assert page.status_code == 200
        assert page.headers["Strict-Transport-Security"] == HSTS
        token = page.text.split('name="csrfmiddlewaretoken" value="', 1)[1].split('"', 1)[0]
        signed_in = web.post(
            "/merchant/login/",
            data={
                "username": login["username"],
                "password": login["password"],
                "csrfmiddlewaretoken": token,
            },
            headers={"Referer": f"{stack.base_url}/merchant/login/"},
        )
        assert signed_in.status_code == 302, signed_in.text[:500]
        switched = web.post(
            "/i18n/setlang/",
            # Signing in rotated the CSRF token.
            data={
                "language": "en",
                "next": "/merchant/",
                "csrfmiddlewaretoken": web.cookies["csrftoken"],
            },
            headers={"Referer": f"{stack.base_url}/merchant/"},
        )
        assert switched.status_code == 302
        cookies = [
            *page.headers.get_list("set-cookie"),
            *signed_in.headers.get_list("set-cookie"),
            *switched.headers.get_list("set-cookie"),
        ]
        names = {cookie.split("=", 1)[0] for cookie in cookies}
        assert {"csrftoken", "sessionid", "wasla_language"} <= names
        for cookie in cookies:
            assert "; Secure" in cookie, cookie
        assert "HttpOnly" in next(c for c in cookies if c.startswith("sessionid="))


def test_plain_http_is_redirected_and_static_files_come_hashed(stack: Stack):
    with httpx.Client(verify=stack.ssl_context(), timeout=30) as client:
        plain = client.get(f"http://127.0.0.1:{stack.http_port}/store/nakheel/")
        assert plain.status_code == 301
        assert plain.headers["location"] == f"{stack.base_url}/store/nakheel/"
        page = client.get(f"{stack.base_url}/api/docs/")
        assert page.status_code == 200
        hashed = page.text.split(
            "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.", 1
        )
        assert len(hashed) == 2
        asset = client.get(
            f"{stack.base_url}/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle."
            + hashed[1].split('"', 1)[0],
            headers={"Accept-Encoding": "br, gzip"},
        )
        assert asset.status_code == 200
        assert "immutable" in asset.headers["Cache-Control"]
        assert asset.headers.get("Content-Encoding") in ("br", "gzip")


def test_every_process_runs_and_the_body_limit_answers_like_django(stack: Stack):
    assert set(stack.processes) == {"pgbouncer", "sandbox", "web", "worker", "beat", "nginx"}
    assert len(stack.pids("web")) == 1 + 2  # the master and its two workers
    with httpx.Client(verify=stack.ssl_context(), timeout=30) as client:
        big = client.post(
            f"{stack.base_url}/api/v1/orders/",
            content=b"x" * (256 * 1024 + 1),
            headers={"Content-Type": "application/json"},
        )
    assert big.status_code == 413
    assert big.headers["Content-Type"].startswith("application/problem+json")
    assert big.json()["type"] == "https://docs.wasla.sa/problems/body-too-large"


def test_restore_drill_copy_is_whole_and_a_broken_chain_is_caught(stack: Stack, demo: dict):
    """docs/operations.md's drill on the stack's database: dumped as the owner, restored into a
    fresh database, the same rows, verify_ledger and the ZATCA chains pass on the copy."""
    report = restore_drill(
        owner_url=stack.owner_url, superuser_url=stack.superuser_url, env=stack.env, keep=True
    )
    copy_url = urlsplit(stack.superuser_url)._replace(path=f"/{report['copy']}").geturl()
    try:
        assert report["verify_ledger"] == ["ledger ok"]
        assert report["zatca_documents"] >= 4  # the demo's invoices, stamped and cleared
        assert report["tables"] > 50
        assert report["rows"] > 0
        # The chain check is no formality: one PIH changed in the copy breaks it.
        with psycopg.connect(copy_url, autocommit=True) as conn:
            conn.execute("SET session_replication_role = replica")  # past the freeze triggers
            conn.execute("UPDATE zatca_zatcadocument SET pih = 'tampered' WHERE icv = 2")
        with pytest.raises(DrillFailed, match="PIH tampered"):
            zatca_chains_check(copy_url)
    finally:
        drop_database(report["copy"])
