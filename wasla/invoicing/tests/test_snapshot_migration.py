"""Migration 0007 fills the parties of documents issued before it from the profiles as they
stand: a scratch database migrated to 0004 gets an issued invoice and credit note (as the code
of then wrote them, without parties), then `migrate` runs 0007 as the owner, as in production."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest
from django.conf import settings
from django.db import connection

from testsupport.database import database_owner
from testsupport.invoicing import TAX_PROFILE

ROOT = Path(__file__).resolve().parents[3]

# Run by `manage.py shell` in the scratch database at 0004: a tenant with a tax profile and,
# as the code of then issued them, an invoice and its credit note (drafts, then issued).
ISSUE_AT_0004 = """
from django.db import connection
from wasla.tenants.models import Tenant
tenant = Tenant.objects.create(name="Old", slug="old", **PROFILE)
with connection.cursor() as c:
    c.execute(
        "INSERT INTO invoicing_invoice (tenant_id, currency, year, month, total_operations,"
        " subtotal, vat_total, total, amount_paid, amount_credited, amount_due, status,"
        " created_at) VALUES (%s, 'SAR', 2026, 1, 1, 1, 0.15, 1.15, 0, 0, 1.15, 'draft', now())"
        " RETURNING id", [tenant.pk])
    invoice = c.fetchone()[0]
    c.execute("UPDATE invoicing_invoice SET status = 'issued', number = 1, issued_at = now(),"
              " due_date = current_date + 14 WHERE id = %s", [invoice])
    c.execute(
        "INSERT INTO invoicing_creditnote (tenant_id, invoice_id, currency, reason, subtotal,"
        " vat_total, total, status, created_at) VALUES (%s, %s, 'SAR', 'refund', 0, 0, 0,"
        " 'draft', now()) RETURNING id", [tenant.pk, invoice])
    note = c.fetchone()[0]
    c.execute("UPDATE invoicing_creditnote SET status = 'issued', number = 1, issued_at = now()"
              " WHERE id = %s", [note])
"""

READ_AFTER_0007 = """
import json
from django.db import connection
with connection.cursor() as c:
    c.execute("SELECT buyer_snapshot::text, seller_snapshot::text FROM invoicing_invoice")
    invoice = [json.loads(party) for party in c.fetchone()]
    c.execute("SELECT buyer_snapshot::text, seller_snapshot::text FROM invoicing_creditnote")
    note = [json.loads(party) for party in c.fetchone()]
    c.execute("SELECT relforcerowsecurity FROM pg_class WHERE relname = 'invoicing_creditnote'")
    forced = c.fetchone()[0]
    c.execute("SELECT tgenabled FROM pg_trigger WHERE tgname = 'credit_note_final_once_issued'")
    trigger = c.fetchone()[0]
print(json.dumps({"invoice": invoice, "note": note, "forced": forced, "trigger": trigger}))
"""


@pytest.fixture
def scratch_url() -> Iterator[str]:
    own = connection.settings_dict
    name = f"wasla_scratch_{secrets.token_hex(4)}"
    server = {"host": own["HOST"], "port": own["PORT"], "user": database_owner()}
    with psycopg.connect(**server, dbname="postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        url = urlsplit(os.environ["DATABASE_URL"])
        yield (
            url._replace(netloc=f"{database_owner()}@{url.hostname}:{url.port or 5432}")
            ._replace(path=f"/{name}")
            .geturl()
        )
    finally:
        with psycopg.connect(**server, dbname="postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _manage(url: str, *args: str) -> str:
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "config.settings.test"}
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_migration_0006_fills_the_parties_of_documents_issued_before_it(scratch_url):
    _manage(scratch_url, "migrate", "--noinput", "invoicing", "0004_payments_and_credits_final")
    profile = f"PROFILE = {TAX_PROFILE!r}\n"
    _manage(scratch_url, "shell", "-c", profile + ISSUE_AT_0004)

    _manage(scratch_url, "migrate", "--noinput", "invoicing")

    found = json.loads(
        _manage(scratch_url, "shell", "-c", READ_AFTER_0007).strip().splitlines()[-1]
    )
    seller = {**settings.WASLA_SELLER}
    for document in ("invoice", "note"):
        buyer_snapshot, seller_snapshot = found[document]
        assert buyer_snapshot == TAX_PROFILE
        assert seller_snapshot["iban"] == seller["iban"]
        assert seller_snapshot["legal_name_en"] == seller["legal_name_en"]
    # What the fill lifted for itself is back: FORCE ROW LEVEL SECURITY, the freeze trigger.
    assert (found["forced"], found["trigger"]) == (True, "O")
