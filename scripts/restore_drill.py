"""Restore drill: dump the database as its owner, restore it into a fresh database, and prove
the copy is whole: the same rows in every table, `manage.py verify_ledger` passes (balances,
balance chains, per-tenant hash chains) and every ZATCA unit's chain holds (ICVs 1..n, each PIH
the previous document's hash, each stored hash the hash of the signed XML, each stamp and QR
verified by fatoora).

    python scripts/restore_drill.py --owner-url postgres://wasla_owner:...@db:5432/wasla \\
        --superuser-url postgres://postgres@db:5432/postgres [--keep]

Run it monthly against last night's backup host (docs/operations.md, "Backups and restore");
the suite runs it against the local stack (wasla/common/tests/test_stack_e2e.py).

Why the owner: the app role sees no rows without a tenant (row-level security), so its dump
would be empty; the owner has BYPASSRLS and pg_dump turns row security off for it. Restoring
hands the SECURITY DEFINER lookups back to the platform role, which PostgreSQL allows only to a
role with CREATE on the schema: granted for the restore, revoked after (as `migrate` has it,
scripts/stack.py).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
PLATFORM_ROLE = os.environ.get("WASLA_DB_PLATFORM_ROLE", "wasla_platform")


class DrillFailed(RuntimeError):
    """The restored copy differs from its source or fails a check."""


def _with_database(url: str, name: str) -> str:
    return urlsplit(url)._replace(path=f"/{name}").geturl()


def _table_counts(conn: Any) -> dict[str, int]:
    """Rows of each table of the public schema, on `conn` (a psycopg connection)."""
    from psycopg import sql

    tables = [
        row[0]
        for row in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
        )
    ]
    counts = {}
    for table in tables:
        row = conn.execute(
            sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))
        ).fetchone()
        counts[table] = int(row[0]) if row else 0
    return counts


def zatca_chains_check(url: str) -> int:
    """Every EGS unit's documents chain (see the module doc); the number of documents."""
    import psycopg

    from fatoora.hashing import FIRST_PIH, NS, invoice_hash, invoice_parse
    from fatoora.verifying import stamp_verify

    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT egs_id, icv, pih, invoice_hash, signed_xml FROM zatca_zatcadocument"
            " WHERE icv IS NOT NULL ORDER BY egs_id, icv"
        ).fetchall()
    previous: dict[int, tuple[int, str]] = {}
    for egs_id, icv, pih, stored_hash, signed_xml in rows:
        where = f"EGS unit {egs_id}, ICV {icv}"
        last_icv, last_hash = previous.get(egs_id, (0, FIRST_PIH))
        if icv != last_icv + 1:
            raise DrillFailed(f"{where}: follows ICV {last_icv}")
        if pih != last_hash:
            raise DrillFailed(f"{where}: PIH {pih} is not the previous hash {last_hash}")
        invoice = invoice_parse(xml=bytes(signed_xml))
        if invoice_hash(invoice=invoice) != stored_hash:
            raise DrillFailed(f"{where}: the signed XML does not hash to {stored_hash}")
        xml_pih = invoice.xpath(
            "cac:AdditionalDocumentReference[cbc:ID='PIH']/cac:Attachment"
            "/cbc:EmbeddedDocumentBinaryObject/text()",
            namespaces=NS,
        )
        if xml_pih != [pih]:
            raise DrillFailed(f"{where}: the XML's PIH {xml_pih} is not {pih}")
        problems = stamp_verify(invoice=invoice)
        if problems:
            raise DrillFailed(f"{where}: {problems[0].check}: {problems[0].message}")
        previous[egs_id] = (icv, stored_hash)
    return len(rows)


def restore_drill(
    *, owner_url: str, superuser_url: str, env: dict[str, str] | None = None, keep: bool = False
) -> dict[str, Any]:
    """The drill; a report (the copy's name, sizes, counts, timings). Raises DrillFailed."""
    import psycopg
    from psycopg import sql

    pg_dump, pg_restore = shutil.which("pg_dump"), shutil.which("pg_restore")
    if pg_dump is None or pg_restore is None:
        raise DrillFailed("pg_dump/pg_restore not found: apt-get install postgresql-client")
    source = urlsplit(owner_url)
    owner = source.username or ""
    copy = f"{source.path.strip('/')}_drill_{secrets.token_hex(3)}"
    copy_url = _with_database(owner_url, copy)
    report: dict[str, Any] = {"source": source.path.strip("/"), "copy": copy}
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        dump = Path(tmp) / "wasla.dump"
        # The rows are counted in the very snapshot pg_dump dumps (the source keeps changing).
        with psycopg.connect(owner_url) as snapshot:
            snapshot.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            row = snapshot.execute("SELECT pg_export_snapshot()").fetchone()
            assert row is not None
            source_counts = _table_counts(snapshot)
            subprocess.run(
                [
                    pg_dump,
                    "--format=custom",
                    f"--snapshot={row[0]}",
                    f"--file={dump}",
                    f"--dbname={owner_url}",
                ],
                check=True,
                capture_output=True,
            )
        report["dump_bytes"] = dump.stat().st_size
        report["dump_seconds"] = round(time.monotonic() - started, 2)
        admin = _with_database(superuser_url, "postgres")
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(
                sql.SQL("CREATE DATABASE {} OWNER {}").format(
                    sql.Identifier(copy), sql.Identifier(owner)
                )
            )
        try:
            restore_started = time.monotonic()
            with psycopg.connect(_with_database(superuser_url, copy), autocommit=True) as conn:
                grant = sql.SQL("GRANT CREATE ON SCHEMA public TO {}")
                conn.execute(grant.format(sql.Identifier(PLATFORM_ROLE)))
                try:
                    result = subprocess.run(
                        [pg_restore, "--exit-on-error", f"--dbname={copy_url}", str(dump)],
                        capture_output=True,
                        text=True,
                        check=False,
                    )
                finally:
                    revoke = sql.SQL("REVOKE CREATE ON SCHEMA public FROM {}")
                    conn.execute(revoke.format(sql.Identifier(PLATFORM_ROLE)))
            if result.returncode != 0:
                raise DrillFailed(f"pg_restore failed: {result.stderr.strip()}")
            report["restore_seconds"] = round(time.monotonic() - restore_started, 2)
            with psycopg.connect(copy_url) as conn:
                copy_counts = _table_counts(conn)
            if source_counts != copy_counts:
                differ = {
                    t: (source_counts.get(t), copy_counts.get(t))
                    for t in set(source_counts) | set(copy_counts)
                    if source_counts.get(t) != copy_counts.get(t)
                }
                raise DrillFailed(f"rows differ (source, copy): {differ}")
            report["tables"] = len(copy_counts)
            report["rows"] = sum(copy_counts.values())
            verify = subprocess.run(
                [sys.executable, "manage.py", "verify_ledger"],
                cwd=ROOT,
                env={**(env or os.environ), "DATABASE_URL": copy_url},
                capture_output=True,
                text=True,
                check=False,
            )
            if verify.returncode != 0:
                raise DrillFailed(f"verify_ledger: {verify.stdout}{verify.stderr}".strip())
            report["verify_ledger"] = verify.stdout.strip().splitlines()[-1:]
            report["zatca_documents"] = zatca_chains_check(copy_url)
        finally:
            if not keep:
                with psycopg.connect(admin, autocommit=True) as conn:
                    conn.execute(
                        sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                            sql.Identifier(copy)
                        )
                    )
    report["seconds"] = round(time.monotonic() - started, 2)
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--owner-url", required=True, help="the table owner, on the database")
    parser.add_argument("--superuser-url", required=True, help="creates and drops the copy")
    parser.add_argument("--keep", action="store_true", help="keep the restored copy")
    args = parser.parse_args()
    try:
        report = restore_drill(
            owner_url=args.owner_url, superuser_url=args.superuser_url, keep=args.keep
        )
    except (DrillFailed, subprocess.CalledProcessError) as error:
        print(f"restore drill FAILED: {error}", file=sys.stderr)
        return 1
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
