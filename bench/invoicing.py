"""The monthly invoicing run at scale, next to a hand-written set-based SQL doing the same work.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/wasla .venv/bin/python bench/invoicing.py \
        [--tenants 1000] [--per-tenant 1000] [--verify]

What it does, in one run, with row-level security as in production (README "Row-level
security"):
1. creates a scratch database on the DATABASE_URL server, ensures the roles (`db_roles_setup`)
   and migrates it as the DATABASE_URL user, the owner of the tables (policies and grants);
2. seeds it set-based (bench/invoicing_seed.py): tenants x settlements of January 2026 with
   their orders, paid attempts, fee snapshots, refunds (fee reductions, reversals) and ledger
   postings; with --verify (the default up to 20,000 settlements) `verify_ledger` checks them;
3. clones it twice (CREATE DATABASE … TEMPLATE), so both sides start from the same data;
4. side A: `invoices_generate_all(year=2026, month=1, now=…)` as the beat task runs it, logged in
   as the app role (no superuser, no BYPASSRLS), every tenant in its own scope; its SQL
   statements are counted at the driver (the row-level security `set_config` included);
5. side B: bench/invoicing_setbased.py, one SQL transaction doing the same work set-based,
   logged in as the same app role in the platform role;
6. compares the two databases invoice by invoice (number, amounts, lines, billed settlements,
   ledger entries and balances) and fails loudly on any difference, then prints seed time, both
   times, their ratio, the statements per tenant and whether the targets are met
   (A < 60 s, A/B ≤ 3). All scratch databases are dropped at the end.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import secrets
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/wasla"
YEAR, MONTH = 2026, 1
NOW = datetime(2026, 2, 1, 3, 0, tzinfo=ZoneInfo("Asia/Riyadh"))  # the beat task's moment
TARGET_SECONDS, TARGET_RATIO = 60.0, 3.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--tenants", type=int, default=1000)
    parser.add_argument("--per-tenant", type=int, default=1000, help="settlements per tenant")
    parser.add_argument(
        "--verify",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="run verify_ledger on the seed and both results (default: up to 20,000 settlements)",
    )
    args = parser.parse_args()
    if args.tenants < 1 or args.per_tenant < 1:
        parser.error("--tenants and --per-tenant must be at least 1")
    verify = args.verify if args.verify is not None else args.tenants * args.per_tenant <= 20_000

    import environ
    import psycopg
    from psycopg.conninfo import make_conninfo

    server_url = os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL)
    db = environ.Env.db_url_config(server_url)
    server = {k.lower(): str(db[k]) for k in ("HOST", "PORT", "USER", "PASSWORD") if db.get(k)}
    prefix = f"wasla_bench_{secrets.token_hex(4)}"
    names = {side: f"{prefix}_{side}" for side in ("seed", "a", "b")}
    admin = make_conninfo(dbname="postgres", **server)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{names["seed"]}"')
    os.environ["DATABASE_URL"] = urlsplit(server_url)._replace(path=f"/{names['seed']}").geturl()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    sys.path.insert(0, str(ROOT))
    try:
        return _run(
            tenants=args.tenants,
            per_tenant=args.per_tenant,
            verify=verify,
            names=names,
            server=server,
            admin=admin,
        )
    finally:
        from django.db import connections

        connections.close_all()
        with psycopg.connect(admin, autocommit=True) as conn:
            for name in names.values():
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _run(
    *,
    tenants: int,
    per_tenant: int,
    verify: bool,
    names: dict[str, str],
    server: dict[str, str],
    admin: str,
) -> int:
    import django
    import psycopg
    from psycopg.conninfo import make_conninfo

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from invoicing_compare import compare, outcome_counts
    from invoicing_seed import seed
    from invoicing_setbased import CHAIN_LOCK_CLASS, invoices_generate_set_based

    from wasla.invoicing.parties import seller_snapshot
    from wasla.invoicing.run import invoices_generate_all
    from wasla.invoicing.services import FEE_LINE_AR, FEE_LINE_EN

    call_command("db_roles_setup", stdout=io.StringIO())
    call_command("migrate", verbosity=0)
    connection.close()
    owner = {name: make_conninfo(dbname=names[name], **server) for name in names}
    app_role = settings.WASLA_DB_APP_ROLE
    app_password = os.environ.get("WASLA_DB_APP_PASSWORD", "")
    app_server = {k: v for k, v in server.items() if k != "password"} | {"user": app_role}
    if app_password:
        app_server["password"] = app_password

    started = time.perf_counter()
    with psycopg.connect(owner["seed"], autocommit=True) as conn:
        counts = seed(conn, tenants=tenants, per_tenant=per_tenant)
    seed_seconds = time.perf_counter() - started
    if verify:
        _verify_ledger(connection, names["seed"], user=server.get("user", "postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        for side in ("a", "b"):
            conn.execute(
                f'CREATE DATABASE "{names[side]}" TEMPLATE "{names["seed"]}" STRATEGY FILE_COPY'
            )

    # Side A: the real run, as the beat task runs it, logged in as the app role.
    connection.settings_dict.update(NAME=names["a"], USER=app_role, PASSWORD=app_password)
    _check_filtered(connection, app_role=app_role)
    counter = _count_statements(connection)
    started = time.perf_counter()
    results = invoices_generate_all(year=YEAR, month=MONTH, now=NOW)
    a_seconds = time.perf_counter() - started
    statements = counter()
    connection.close()
    outcomes = outcome_counts([r.outcome for r in results])
    if outcomes.get("issued") != tenants:
        raise SystemExit(f"side A: expected {tenants} tenants issued, got {outcomes}")

    # Side B: the same work as one set-based SQL transaction, logged in as the app role.
    params = {
        "platform_role": settings.WASLA_DB_PLATFORM_ROLE,
        "year": YEAR,
        "month": MONTH,
        "currency": "SAR",
        "exponent": 2,
        "end": datetime(YEAR, MONTH + 1, 1, tzinfo=ZoneInfo("Asia/Riyadh")),
        "now": NOW,
        "due_date": (NOW + timedelta(days=settings.WASLA_INVOICE_DUE_DAYS))
        .astimezone(ZoneInfo("Asia/Riyadh"))
        .date(),
        "lock_class": CHAIN_LOCK_CLASS,
        "line_ar": FEE_LINE_AR,
        "line_en": FEE_LINE_EN,
        "seller": json.dumps(seller_snapshot()),
    }
    with psycopg.connect(make_conninfo(dbname=names["b"], **app_server)) as conn:
        started = time.perf_counter()
        invoices_generate_set_based(conn, params)
        b_seconds = time.perf_counter() - started

    with psycopg.connect(owner["a"]) as a, psycopg.connect(owner["b"]) as b:
        invoices = compare(a, b)
    if invoices != tenants:
        raise SystemExit(f"expected {tenants} invoices on each side, compared {invoices}")
    if verify:
        for side in ("a", "b"):
            _verify_ledger(connection, names[side], user=server.get("user", "postgres"))

    ratio = a_seconds / b_seconds
    per_tenant_statements = statements / tenants
    rows = [
        ("settlements seeded (tenants x per tenant)", f"{tenants:,} x {per_tenant:,}"),
        (
            "ledger transactions / entries seeded",
            f"{counts['ledger_ledgertransaction']:,} / {counts['ledger_financialledgerentry']:,}",
        ),
        (
            "adjustments seeded (reductions and reversals)",
            f"{counts['settlement_settlementadjustment']:,}",
        ),
        ("seed time (SQL, checks, VACUUM ANALYZE)", f"{seed_seconds:8.1f} s"),
        ("A: invoices_generate_all (Python, app role, RLS)", f"{a_seconds:8.1f} s"),
        ("B: set-based SQL, one transaction", f"{b_seconds:8.1f} s"),
        ("ratio A / B", f"{ratio:8.2f}x"),
        ("A: SQL statements per tenant (set_config incl.)", f"{per_tenant_statements:8.1f}"),
        (f"target A < {TARGET_SECONDS:.0f} s", "met" if a_seconds < TARGET_SECONDS else "MISSED"),
        (f"target A / B <= {TARGET_RATIO:.0f}", "met" if ratio <= TARGET_RATIO else "MISSED"),
    ]
    print(f"Monthly invoicing {YEAR}-{MONTH:02d}, databases {', '.join(names.values())} (dropped)")
    print(f"{invoices:,} invoices identical on both sides (amounts, lines, settlements, ledger)")
    if verify:
        print("verify_ledger: seed, A and B sound (balances, running balances, hash chains)")
    for label, value in rows:
        print(f"{label:<52} {value}")
    return 0


def _verify_ledger(connection: Any, name: str, *, user: str) -> None:
    from django.core.management import CommandError, call_command

    connection.close()
    connection.settings_dict.update(NAME=name, USER=user, PASSWORD="")
    try:
        call_command("verify_ledger", stdout=io.StringIO())
    except CommandError as error:
        raise SystemExit(f"verify_ledger failed on {name}: {error}") from error
    finally:
        connection.close()


def _check_filtered(connection: Any, *, app_role: str) -> None:
    """The measured connection is the app role, really filtered by row-level security."""
    from wasla.settlement.models import SettlementRecord

    connection.close()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_user, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user"
        )
        user, superuser, bypass = cursor.fetchone()
    if user != app_role or superuser or bypass:
        raise SystemExit(f"connected as {user} (superuser={superuser}, bypassrls={bypass})")
    if SettlementRecord.objects.exists():
        raise SystemExit(f"{app_role} sees settlements without a tenant scope")


def _count_statements(connection: Any) -> Any:
    """Count every statement the connection sends from now on (ours and the backend's own
    `set_config`), at the psycopg cursor, without Django's query logging."""
    connection.ensure_connection()
    raw = connection.connection
    base = raw.cursor_factory
    count = [0]

    class Counting(base):  # type: ignore[misc, valid-type]
        def execute(self, *args: Any, **kwargs: Any) -> Any:
            count[0] += 1
            return super().execute(*args, **kwargs)

        def executemany(self, *args: Any, **kwargs: Any) -> Any:
            count[0] += 1
            return super().executemany(*args, **kwargs)

    raw.cursor_factory = Counting
    return lambda: count[0]


if __name__ == "__main__":
    sys.exit(main())
