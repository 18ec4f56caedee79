"""The export stream at scale: memory stays flat however many rows, and a client that goes away
mid-download leaves no transaction open on the database."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.db import connection
from django.test import Client

from testsupport.factories import make_attempt, make_tap_config, make_tenant
from wasla.payments.models import PaymentAttempt
from wasla.tenants.models import Tenant, TenantMember

pytestmark = [
    pytest.mark.django_db(transaction=True),
]

ROOT = Path(__file__).resolve().parents[3]


def _add_failed_attempts(template: PaymentAttempt, count: int) -> None:
    """`count` more failed attempts like `template` (same order: failed attempts take no
    constraint slot), in one INSERT … SELECT."""
    table = PaymentAttempt._meta.db_table
    columns, values = [], []
    for model_field in PaymentAttempt._meta.concrete_fields:
        column = model_field.column
        columns.append(f'"{column}"')
        if column == "id":
            values.append("gen_random_uuid()")
        elif column == "idempotency_key":
            values.append("'bulk-' || g || '-' || gen_random_uuid()")
        elif column == "status":
            values.append("'failed'")
        elif column == "failure_message":
            values.append("'رُفضت البطاقة ' || g")
        elif column == "provider_reference":
            values.append("NULL" if model_field.null else "''")
        else:
            values.append(f'"{column}"')
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({', '.join(columns)}) "
            f"SELECT {', '.join(values)} FROM {table}, generate_series(1, %s) AS g WHERE id = %s",
            [count, template.pk],
        )


def _bulk_tenant(rows: int) -> Tenant:
    tenant = make_tenant()
    template = make_attempt(make_tap_config(tenant), status="failed")
    _add_failed_attempts(template, rows - 1)
    return tenant


CHILD = textwrap.dedent(
    """
    import sys
    import django
    django.setup()
    from wasla.common.listing import ListFilters
    from wasla.reporting.exports import DATASETS, dataset_chunks
    from wasla.tenants.context import tenant_context
    from wasla.tenants.models import Tenant

    tenant_id = int(sys.argv[1])
    size = rows = 0
    for chunk in dataset_chunks(
        dataset=DATASETS["payments"],
        tenant=Tenant(pk=tenant_id),
        filters=ListFilters(),
        scope=lambda: tenant_context(tenant_id),
    ):
        size += len(chunk)
        rows += chunk.count(b"\\n")
    # VmHWM: this program's own peak; ru_maxrss would carry the parent's across fork and exec.
    with open("/proc/self/status") as status:
        peak = next(line.split()[1] for line in status if line.startswith("VmHWM:"))
    print(rows, size, peak)
    """
)


def _export_in_child(tenant: Tenant) -> tuple[int, int]:
    """(rows written, peak RSS in KiB) of a fresh process exporting the tenant's payments."""
    db = connection.settings_dict
    url = f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": settings.SETTINGS_MODULE,
        "PYTHONPATH": str(ROOT),
    }
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(tenant.pk)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    rows, _size, peak = (int(x) for x in done.stdout.split())
    return rows, peak


def test_memory_stays_flat_from_20k_to_200k_rows():
    small, large = _bulk_tenant(20_000), _bulk_tenant(200_000)
    rows_small, peak_small = _export_in_child(small)
    rows_large, peak_large = _export_in_child(large)
    assert rows_small == 20_000 + 1  # and the header
    assert rows_large == 200_000 + 1
    # Ten times the rows, (nearly) the same peak: the rows never sit in memory together
    # (200k model instances would take hundreds of MB).
    assert peak_large - peak_small < 16 * 1024, (peak_small, peak_large)
    assert peak_large < 150 * 1024, peak_large  # the bound for the 1M-row export


def _streaming_transactions(dbname: str) -> int:
    """Backends of `dbname` inside a transaction whose last statement read the stream's cursor
    (idle in it while the server waits on the socket, or active while it fetches)."""
    db = connection.settings_dict
    admin = f"host={db['HOST']} port={db['PORT']} user=postgres dbname=postgres"
    with psycopg.connect(admin, autocommit=True) as watcher:
        row = watcher.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s"
            " AND xact_start IS NOT NULL AND query LIKE 'FETCH FORWARD%%'",
            [dbname],
        ).fetchone()
    return int(row[0]) if row else 0


def test_client_gone_mid_stream_leaves_no_transaction_open(live_server):
    tenant = _bulk_tenant(40_000)  # ~10 MB of CSV: far more than the socket buffers hold
    user = TenantMember._meta.get_field("user").related_model.objects.create_user(
        "streamer", password="x" * 12
    )
    TenantMember.objects.create(tenant=tenant, user=user, role=TenantMember.Role.VIEWER)
    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    dbname = connection.settings_dict["NAME"]
    host, port = live_server.url.removeprefix("http://").split(":")

    sock = socket.create_connection((host, int(port)), timeout=30)
    # Closed with a reset however the test ends: a server left writing to a live socket would
    # keep its transaction (and its locks) open and hang the next test's flush.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        request = (
            "GET /merchant/export/payments.csv HTTP/1.1\r\n"
            f"Host: {host}:{port}\r\n"
            f"Cookie: {settings.SESSION_COOKIE_NAME}={cookie}\r\n"
            "Connection: close\r\n\r\n"
        )
        sock.sendall(request.encode())
        received = b""
        while len(received) < 64 * 1024:
            received += sock.recv(16 * 1024)
        assert b"200 OK" in received.split(b"\r\n", 1)[0]
        assert "\ufeffid,tenant".encode() in received
        # The server now waits on the socket, inside the stream's transaction.
        deadline = time.monotonic() + 30
        while _streaming_transactions(dbname) == 0 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _streaming_transactions(dbname) >= 1
    finally:
        sock.close()  # reset: the server's next write fails, it closes the response
    deadline = time.monotonic() + 30
    while _streaming_transactions(dbname) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _streaming_transactions(dbname) == 0
