"""The merchant portal and the staff dashboard at a million payments: page times next to their
SQL, and the CSV export's speed and memory.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/wasla .venv/bin/python bench/dashboard.py \
        [--scale 1.0] [--pages all|api,admin,portal,dashboard,csv] [--repeat 20] [--top 1] \
        [--database wasla_bench_dashboard] [--drop]

`--scale 0.01` (10,000 payments) is a quick run. The scratch database is kept between runs
(its seed reused at the same scale, made again at another), so the pages can be re-measured
after a change in seconds. A fast test (bench/test_dashboard_bench.py) runs it at
`--scale 0.001 --pages api`.

What it does, in one run, with row-level security as in production:
1. creates the scratch database `wasla_bench_dashboard` (`--database`) on the DATABASE_URL
   server unless it is there, ensures the roles and migrates it as the DATABASE_URL user (the
   owner of the tables), so an index migration merged since is applied on the next run;
2. seeds it set-based (bench/dashboard_seed.py), unless it already holds this scale's seed (the
   seed is one transaction: all or nothing, so a run that stopped is simply run again), and
   rebuilds the staff dashboard's daily roll-ups over every day it shows (`dashboard_refresh`,
   what beat does nightly; timed):
   1,000,000 x scale payments across 1,000 tenants (fewer below scale 0.01), skewed (the
   largest have 50,000 payments each at full scale), over 13 months, four providers, two
   currencies, refunds, failed attempts and webhook events; then VACUUM ANALYZE;
3. signs in, through Django's test `Client` in this process, as the owner of the largest tenant
   (portal pages), as a staff superuser (dashboard and admin pages) and with an API token of
   the largest tenant (API lists); the application's connection logs in as the app role (no
   superuser, no BYPASSRLS), so every page is filtered by PostgreSQL as in production;
4. for each page (bench/dashboard_pages.py; one not built yet is "skipped (not built)"):
   3 warm-ups, then `--repeat` requests, p50 and p95; the page's statements captured once,
   the slowest SELECT re-run alone with the same parameters as many times, in the same role
   and scope (the tenant GUC for member and API pages, the platform role for staff pages),
   p50 and p95; the ratio page p95 / SQL p95 and the statements per page (`--top N` lists
   the N slowest statements of each page too);
5. streams the CSV export of every payment (staff: all tenants; member: the largest tenant)
   in a child process (bench/dashboard_csv.py) to /dev/null: rows per second and the child's
   peak RSS, and the same for the newest tenth of the payments, to show memory is flat;
6. prints PASS/FAIL against the targets: each page p95 <= 300 ms and <= 2x its SQL's p95;
   the export's peak RSS <= 150 MB. With --drop the scratch database is dropped at the end.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/wasla"
DEFAULT_DATABASE = "wasla_bench_dashboard"
ROLLUP_TABLES = (
    "dashboard_paymentday",
    "dashboard_paymentdaytotal",
    "dashboard_revenueday",
    "dashboard_revenuedaytotal",
)
FULL_PAYMENTS, FULL_TENANTS = 1_000_000, 1_000
TARGET_PAGE_P95, TARGET_RATIO, TARGET_RSS_MB = 0.300, 2.0, 150.0
GROUPS = ("api", "admin", "portal", "dashboard", "csv")
RIYADH = ZoneInfo("Asia/Riyadh")
STAFF, MEMBER = "bench-staff", "bench-owner"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--scale", type=float, default=1.0, help="1.0 = 1,000,000 payments")
    parser.add_argument(
        "--pages", default="all", help=f"all, or a comma list of {', '.join(GROUPS)}"
    )
    parser.add_argument("--repeat", type=int, default=20, help="timed requests per page")
    parser.add_argument("--database", default=DEFAULT_DATABASE, help="scratch database name")
    parser.add_argument("--drop", action="store_true", help="drop the scratch database at the end")
    parser.add_argument(
        "--top", type=int, default=1, help="statements shown per page, slowest first"
    )
    args = parser.parse_args()
    groups = {g.strip() for g in args.pages.split(",") if g.strip()}
    if not groups or not groups <= {"all", *GROUPS}:
        parser.error(f"--pages takes all or {', '.join(GROUPS)}")
    if not 0 < args.scale <= 10 or args.repeat < 1:
        parser.error("--scale must be in (0, 10] and --repeat at least 1")
    if not args.database.replace("_", "").isalnum():
        parser.error("--database: letters, digits and underscores only")

    import environ
    import psycopg
    from psycopg.conninfo import make_conninfo

    server_url = os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL)
    db = environ.Env.db_url_config(server_url)
    server = {k.lower(): str(db[k]) for k in ("HOST", "PORT", "USER", "PASSWORD") if db.get(k)}
    admin = make_conninfo(dbname="postgres", **server)
    owner = make_conninfo(dbname=args.database, **server)
    payments, tenants = _sizes(args.scale)
    with psycopg.connect(admin, autocommit=True) as conn:
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [args.database])
        exists = found.fetchone() is not None
        if exists and _seeded(owner) not in ((0, 0), (payments, tenants)):
            # Another scale's seed: the scratch database is ours, so it is made again.
            conn.execute(f'DROP DATABASE "{args.database}" WITH (FORCE)')
            exists = False
        if not exists:
            conn.execute(f'CREATE DATABASE "{args.database}"')
    scratch_url = urlsplit(server_url)._replace(path=f"/{args.database}").geturl()
    os.environ["DATABASE_URL"] = scratch_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    sys.path.insert(0, str(ROOT))
    try:
        return _run(
            scale=args.scale,
            groups=groups,
            repeat=args.repeat,
            top=args.top,
            database=args.database,
            owner=owner,
            scratch_url=scratch_url,
        )
    finally:
        if args.drop:
            from django.db import connections

            connections.close_all()
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')


def _run(
    *,
    scale: float,
    groups: set[str],
    repeat: int,
    top: int,
    database: str,
    owner: str,
    scratch_url: str,
) -> int:
    import django

    django.setup()
    import psycopg
    from dashboard_pages import PAGES, page_measure, selected
    from dashboard_seed import seed
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from invoicing import _check_filtered

    payments, tenants = _sizes(scale)
    call_command("db_roles_setup", stdout=io.StringIO())
    call_command("migrate", verbosity=0)
    seed_seconds = None
    if _seeded(owner) != (payments, tenants):  # empty: main() dropped any other seed
        with psycopg.connect(owner, autocommit=True) as conn:
            started = time.perf_counter()
            seed(conn, payments=payments, tenants=tenants, now=datetime.now(UTC))
            seed_seconds = time.perf_counter() - started
    # What beat keeps fresh in production: the dashboard's daily roll-ups over every day it
    # shows, rebuilt here so its pages read them (timed: this is the nightly job's cost).
    started = time.perf_counter()
    call_command("dashboard_refresh", stdout=io.StringIO())
    rollup_seconds = time.perf_counter() - started
    # The rebuild replaced every roll-up row. Autovacuum then clears the old versions and
    # marks the pages all-visible, which the dashboard's index-only scans need; on a server
    # where it is off (this machine's shared one is), every rebuild would leave its dead rows
    # behind and slow the pages run after run. Do its work once, as it would.
    with psycopg.connect(owner, autocommit=True) as conn:
        row = conn.execute("SHOW autovacuum").fetchone()
        autovacuum_setting = row[0] if row else "unknown"
        for table in ROLLUP_TABLES:
            conn.execute(f"VACUUM (ANALYZE) {table}")
    fill, token = _actors_and_placeholders(payments=payments)

    # From here on the application's connection is the app role, filtered by RLS.
    app_role = settings.WASLA_DB_APP_ROLE
    app_password = os.environ.get("WASLA_DB_APP_PASSWORD", "")
    connection.close()
    connection.settings_dict.update(USER=app_role, PASSWORD=app_password)
    # bench/invoicing.py's check: the app role, no superuser, no BYPASSRLS, nothing unscoped.
    _check_filtered(connection, app_role=app_role)

    clients = _clients(token)
    scopes = _scopes()
    results = [
        page_measure(
            page=page,
            get=clients[page.who],
            scope=scopes[page.who],
            fill=fill,
            repeat=repeat,
        )
        for page in selected(PAGES, groups)
    ]
    exports: list[dict[str, Any]] = []
    if "all" in groups or "csv" in groups:
        app_url = _with_user(scratch_url, app_role, app_password)
        exports = _exports_measure(fill=fill, payments=payments, database_url=app_url)
    connection.close()

    print(
        f"Dashboard and portal pages at {payments:,} payments across {tenants:,} tenants "
        f"(database {database}); largest tenant {int(fill['tenant_payments']):,} payments"
    )
    if seed_seconds is not None:
        print(f"seed time (SQL, VACUUM ANALYZE): {seed_seconds:.1f} s")
    print(
        f"Roll-ups of every day the dashboard shows (its nightly job): {rollup_seconds:.1f} s;"
        f" then VACUUM ANALYZE of the roll-up tables (autovacuum is {autovacuum_setting})"
    )
    return _report(results, exports, repeat=repeat, top=top)


def _sizes(scale: float) -> tuple[int, int]:
    """Payments and tenants at `scale`: 1,000 tenants down to scale 0.01, fewer below."""
    payments = max(1, round(FULL_PAYMENTS * scale))
    return payments, max(1, min(FULL_TENANTS, round(FULL_TENANTS * scale * 100)))


def _seeded(owner: str) -> tuple[int, int]:
    """(payments, tenants) in the scratch database; (0, 0) before its first migrate."""
    import psycopg

    with psycopg.connect(owner, autocommit=True) as conn:
        try:
            row = conn.execute(
                "SELECT (SELECT count(*) FROM payments_paymentattempt),"
                " (SELECT count(*) FROM tenants_tenant)"
            ).fetchone()
        except psycopg.errors.UndefinedTable:
            return 0, 0
    return (int(row[0]), int(row[1])) if row else (0, 0)


def _actors_and_placeholders(*, payments: int) -> tuple[dict[str, str], str]:
    """The staff user, the largest tenant's owner and an API token (as the owner of the
    tables, idempotent), and the values the pages' `{placeholders}` name."""
    from django.contrib.auth import get_user_model
    from django.db import connection

    from wasla.common.staff_otp import staff_totp_ensure
    from wasla.payments.models import PaymentAttempt
    from wasla.tenants.context import tenant_context
    from wasla.tenants.models import Tenant, TenantMember
    from wasla.tenants.services import api_token_create

    user_model = get_user_model()
    staff_user, _ = user_model.objects.get_or_create(
        username=STAFF, defaults={"is_staff": True, "is_superuser": True}
    )
    staff_totp_ensure(user=staff_user)  # staff pages ask for the second factor
    member_user, _ = user_model.objects.get_or_create(username=MEMBER)
    tenant = Tenant.objects.get(pk=1)  # the seed puts the largest first
    with tenant_context(tenant.pk):
        TenantMember.objects.get_or_create(
            user=member_user, defaults={"tenant": tenant, "role": TenantMember.Role.OWNER}
        )
        _, token = api_token_create(tenant=tenant, name="bench")
        # Filtered by tenant here: this connection is the owner, whom RLS does not filter.
        attempts = PaymentAttempt.objects.filter(tenant=tenant)
        newest_paid = attempts.filter(paid_at__isnull=False).order_by("-created_at").first()
        tenant_payments = attempts.count()
    with connection.cursor() as cursor:  # the owner: every tenant's payments
        cursor.execute(
            "SELECT created_at FROM payments_paymentattempt ORDER BY created_at DESC"
            " OFFSET %s LIMIT 1",
            [max(0, payments // 10 - 1)],
        )
        row = cursor.fetchone()
    tenth = row[0] if row else datetime.now(UTC)
    today = datetime.now(RIYADH).date()
    fill = {
        "tenant": str(tenant.pk),
        "tenant_payments": str(tenant_payments),
        "payment": str(newest_paid.pk) if newest_paid else "",
        "today": today.isoformat(),
        "year": str(today.year),
        "month": str(today.month),
        "d30": (today - timedelta(days=29)).isoformat(),
        "d90": (today - timedelta(days=89)).isoformat(),
        # The export of the newest tenth: from the Riyadh day of the tenth-newest payment.
        "tenth_day": tenth.astimezone(RIYADH).date().isoformat(),
    }
    connection.close()
    return fill, token


def _clients(token: str) -> dict[str, Callable[[str], Any]]:
    from django.contrib.auth import get_user_model
    from django.test import Client

    users = get_user_model().objects
    from testsupport.staff import staff_login

    staff, member = Client(), Client()
    staff_login(staff, users.get(username=STAFF))  # password and second factor
    member.force_login(users.get(username=MEMBER))
    api = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    return {"staff": staff.get, "member": member.get, "token": api.get}


def _scopes() -> dict[str, Callable[[], AbstractContextManager[Any]]]:
    from wasla.tenants.context import platform_access, tenant_context

    @contextmanager
    def staff() -> Iterator[Any]:
        with platform_access(reason="bench: a page's main SQL alone", actor=STAFF) as scope:
            yield scope

    return {"staff": staff, "member": lambda: tenant_context(1), "token": lambda: tenant_context(1)}


def _with_user(url: str, user: str, password: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or "127.0.0.1"
    auth = quote(user) + (f":{quote(password)}" if password else "")
    netloc = f"{auth}@{host}" + (f":{parts.port}" if parts.port else "")
    return parts._replace(netloc=netloc).geturl()


def _export_url(url_name: str, dataset: str, query: str) -> str | None:
    """The export's URL: the dataset as the URL's argument, else as `dataset=` in the query."""
    from django.urls import NoReverseMatch, reverse

    try:
        url = reverse(url_name, args=[dataset])
    except NoReverseMatch:
        try:
            url = reverse(url_name)
        except NoReverseMatch:
            return None
        query = "&".join(q for q in (f"dataset={dataset}", query) if q)
    return f"{url}?{query}" if query else url


def _exports_measure(
    *, fill: dict[str, str], payments: int, database_url: str
) -> list[dict[str, Any]]:
    from dashboard_pages import EXPORTS

    tenth = fill["tenth_day"]
    results: list[dict[str, Any]] = []
    for label, url_name, dataset, who in EXPORTS:
        for part, query in (
            ("all", ""),
            ("newest tenth", f"date_from={tenth}"),
        ):
            row: dict[str, Any] = {"label": f"{label} ({part})", "who": who}
            url = _export_url(url_name, dataset, query)
            if url is None:
                results.append(row | {"note": "skipped (not built)"})
                continue
            row |= _export_child(url, STAFF if who == "staff" else MEMBER, database_url)
            results.append(row)
    return results


def _export_child(url: str, username: str, database_url: str) -> dict[str, Any]:
    env = os.environ | {"DATABASE_URL": database_url}
    done = subprocess.run(  # noqa: S603 - our own script, our own arguments
        [sys.executable, str(ROOT / "bench" / "dashboard_csv.py"), url, username],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=3600,
    )
    if done.returncode != 0:
        return {"note": f"child failed: {done.stderr.strip().splitlines()[-1:]}"}
    report: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    if report["status"] != 200:
        report["note"] = f"HTTP {report['status']}"
    return report


def _ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1000:7.1f}"


def _report(results: list[Any], exports: list[dict[str, Any]], *, repeat: int, top: int) -> int:
    failed = False
    print(
        f"\nPages: p50/p95 of {repeat} requests after 3 warm-ups (ms); queries = statements per"
        " request (the scope's BEGIN/set_config/COMMIT included); all sql = their time in one"
        " request;\nsql p50/p95 = the page's slowest SELECT alone, same parameters, role and scope"
    )
    header = (
        f"{'page':<34} {'queries':>7} {'all sql':>7} {'p50':>7} {'p95':>7} {'sql p50':>7}"
        f" {'sql p95':>7}"
        f" {'ratio':>6}  {'p95<=300ms':<10} {'<=2x sql':<8}"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        if r.timing is None:
            print(f"{r.page.label:<34} {r.note}")
            failed = failed or not r.note.startswith("skipped")
            continue
        fast = r.timing.p95 <= TARGET_PAGE_P95
        close = r.ratio is not None and r.ratio <= TARGET_RATIO
        failed = failed or not (fast and close)
        sql = r.sql_timing
        ratio = "-" if r.ratio is None else f"{r.ratio:5.1f}x"
        print(
            f"{r.page.label:<34} {r.queries:>7} {_ms(r.sql_total)} {_ms(r.timing.p50)}"
            f" {_ms(r.timing.p95)}"
            f" {_ms(sql.p50 if sql else None)} {_ms(sql.p95 if sql else None)} {ratio:>6}"
            f"  {'PASS' if fast else 'FAIL':<10} {'PASS' if close else 'FAIL':<8}"
        )
    print("\nMain SQL per page (the slowest SELECT), then the slowest statements of one request:")
    for r in results:
        if r.main_sql:
            print(f"  {r.page.label}: {r.main_sql[:300]}")
            for seconds, sql in r.slowest[: top if top > 1 else 0]:
                print(f"      {_ms(seconds)} ms  {sql[:200]}")
    if exports:
        print(
            f"\nCSV exports (child process, streamed to /dev/null; peak RSS <= {TARGET_RSS_MB:.0f}"
            " MB)"
        )
        for row in exports:
            if "note" in row:
                print(f"  {row['label']:<48} {row['note']}")
                failed = failed or not row["note"].startswith("skipped")
                continue
            ok = row["peak_rss_mb"] <= TARGET_RSS_MB
            failed = failed or not ok
            rate = row["rows"] / row["seconds"] if row["seconds"] else 0.0
            print(
                f"  {row['label']:<48} {row['rows']:>9,} rows {row['seconds']:7.1f} s"
                f" {rate:>9,.0f} rows/s  peak RSS {row['peak_rss_mb']:6.1f} MB"
                f" (before the request {row['rss_before_mb']:5.1f})"
                f"{'' if row['streaming'] else ' NOT STREAMED'}  {'PASS' if ok else 'FAIL'}"
            )
    print(f"\nTargets: {'all met' if not failed else 'MISSED (see FAIL above)'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
