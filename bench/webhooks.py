"""Tap webhook confirmations per second, end to end, next to the same SQL replayed by pgbench.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/wasla .venv/bin/python bench/webhooks.py --n 300

What it does, in one run, with row-level security as in production (README "Row-level
security"):
1. creates a throwaway database on the DATABASE_URL server (dropped at the end), ensures the
   roles (`db_roles_setup`: `wasla_app`, `wasla_platform`) and migrates it as the DATABASE_URL
   user, the owner of the tables, which applies the policies and grants;
2. sets up, as the owner, a tenant with a Tap gateway and pending Tap attempts;
3. reconnects as the app role (`WASLA_DB_APP_ROLE`, password from `WASLA_DB_APP_PASSWORD` when
   the server asks for one) and checks it is filtered: no superuser, no BYPASSRLS, tenant tables
   empty without a scope;
4. Python: posts one signed `charge.captured` webhook per attempt to the real webhook view
   (Django test client: middleware, request scope, webhook-URL tenant lookup, hashstring check,
   inbox insert) and lets it be processed the way the demo and tests do (Celery eager, on
   commit): the task `process_webhook_event` (wasla/payments/webhooks/tasks.py) runs
   `webhook_event_process` (webhooks/processing.py) in the event's tenant scope, as a worker
   does: the charge re-fetch, then attempt + order + settlement + ledger posting in one
   transaction. The re-fetch is answered by an in-process fake of Tap's
   `GET /v2/charges/{id}` over real TCP, so the number is about our code, not the simulator's;
5. captures the SQL of one confirmation, the row-level security statements (`set_config`, the
   BEGIN/COMMIT around a statement run in autocommit mode in a scope) included, writes a
   pgbench script that replays exactly those statements with their literal parameters, each run
   on the next prepared attempt, and runs `pgbench -n -f script -t N -c 1` logged in as the app
   role on the same database;
6. prints both rates side by side, their ratio and the statements per confirmation, with how
   many of them row-level security adds.

With `--concurrency C` (C > 1) steps 4 and 5 run as production runs them, C at a time:

    .venv/bin/python bench/webhooks.py --n 400 --concurrency 4 \
        --broker redis://127.0.0.1:6385/2   # a Redis of your own: the bench queues on it

4. Python: gunicorn (C sync workers) serves the app and a Celery worker (prefork, C processes)
   takes the processing tasks from a queue of its own on the Redis `--broker`, both real
   processes logged in as the app role (persistent connections, `conn_max_age=60`), the charge
   re-fetch answered by the same fake Tap. C client threads each post their own attempts'
   signed webhooks over HTTP, one after another; the rate counts from the first post to the
   moment every event is `processed` (polled), after a warm-up of every process;
5. pgbench replays the captured statements with `-c C -j C/2`, each transaction on the next
   prepared attempt, so each client confirms its own attempts;
6. as a floor, the same clients and processes with none of our work in them
(bench/webhooks_floor.py: full middleware, one Celery message, a task that counts it). From the
three rates it prints how many milliseconds of the machine per confirmation the 2x target
leaves for our Python, how many it takes now, and what psycopg alone spends sending the
confirmation's statements (its client CPU per statement, measured here).

The ratio is the cost of everything that is not the database: Python, Django, JSON, signature
check, the HTTP re-fetch (and, concurrently, HTTP, the broker and the processes). pgbench is the
floor for this exact SQL on this server.
"""

from __future__ import annotations

import argparse
import io
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/wasla"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--n", type=int, default=300, help="confirmations per side (default 300)")
    parser.add_argument(
        "--concurrency",
        type=int,
        default=1,
        help="clients at once (default 1: in-process Python, pgbench -c 1; more: gunicorn, "
        "Celery and Redis processes, pgbench -c C)",
    )
    parser.add_argument(
        "--broker",
        default=os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/2"),
        help="Redis for the Celery queue of --concurrency > 1 (default $CELERY_BROKER_URL)",
    )
    args = parser.parse_args()
    if args.n < 1 or args.concurrency < 1:
        parser.error("--n and --concurrency must be at least 1")
    n = -(-args.n // args.concurrency) * args.concurrency  # a whole number per client
    pgbench = shutil.which("pgbench")
    if pgbench is None:
        print("pgbench not found: apt-get install postgresql-client", file=sys.stderr)
        return 2

    import environ
    import psycopg
    from psycopg.conninfo import make_conninfo

    server_url = os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL)
    db = environ.Env.db_url_config(server_url)
    scratch = f"wasla_bench_{secrets.token_hex(4)}"
    server = {
        "host": db["HOST"],
        "port": db["PORT"],
        "user": db["USER"],
        "password": db["PASSWORD"],
    }
    admin = make_conninfo(dbname="postgres", **{k: str(v) for k, v in server.items() if v})
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{scratch}"')
    os.environ["DATABASE_URL"] = urlsplit(server_url)._replace(path=f"/{scratch}").geturl()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    sys.path.insert(0, str(ROOT))
    try:
        return _run(
            n=n,
            concurrency=args.concurrency,
            broker=args.broker,
            scratch=scratch,
            pgbench=pgbench,
            db=db,
        )
    finally:
        from django.db import connections

        connections.close_all()
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')


class FakeTap:
    """Tap's `GET /v2/charges/{id}` answered from memory, on a local port, over real HTTP."""

    def __init__(self) -> None:
        from wasla.payments.providers.tap import dumps

        self.charges: dict[str, bytes] = {}
        charges = self.charges

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keeps the connection, as Tap's API does
            # Writes its headers and body at once, as a real server does (nginx's tcp_nodelay):
            # with Nagle's algorithm the body waited for the client's delayed ACK, 40 ms a call
            # on a kept connection.
            disable_nagle_algorithm = True

            def do_GET(self) -> None:
                body = charges.get(self.path.rstrip("/").rsplit("/", 1)[-1])
                self.send_response(200 if body else 404)
                payload = body or b'{"errors": [{"code": "1117", "description": "not found"}]}'
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: object) -> None:
                pass

        self.dumps = dumps
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _charge(attempt: Any, created_ms: int) -> dict[str, Any]:
    """A captured Tap charge, as Tap posts it and answers it."""
    return {
        "id": attempt.provider_reference,
        "object": "charge",
        "live_mode": False,
        "amount": Decimal(attempt.amount).quantize(Decimal("0.01")),
        "currency": attempt.currency,
        "status": "CAPTURED",
        "threeDSecure": True,
        "reference": {
            "track": "tck_" + secrets.token_hex(10),
            "payment": str(secrets.randbelow(10**18)),
            "gateway": str(secrets.randbelow(10**9)),
            "transaction": str(attempt.id),
            "order": attempt.order.reference,
        },
        "transaction": {"created": str(created_ms), "url": ""},
        "response": {"code": "000", "message": "Captured"},
        "source": {"object": "token", "id": "src_sa.mada"},
        "metadata": {"udf1": str(attempt.id)},
    }


def _run(
    *, n: int, concurrency: int, broker: str, scratch: str, pgbench: str, db: dict[str, Any]
) -> int:
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, override_settings

    from wasla.orders.models import Order
    from wasla.payments.models import PaymentAttempt, PaymentGatewayConfig, WebhookEvent
    from wasla.payments.orchestrator import webhook_url
    from wasla.payments.providers.tap import hashstring
    from wasla.settlement.models import SettlementRecord
    from wasla.tenants.context import tenant_context
    from wasla.tenants.models import Tenant

    # As production: roles once per cluster (superuser), migrations as the owner of the tables
    # (here the DATABASE_URL user), which applies the policies and grants (post_migrate).
    call_command("db_roles_setup", stdout=io.StringIO())
    call_command("migrate", verbosity=0)
    app_role = settings.WASLA_DB_APP_ROLE
    app_password = os.environ.get("WASLA_DB_APP_PASSWORD", "")
    fake = FakeTap()
    urls = {p: dict(v) for p, v in settings.WASLA_PROVIDER_BASE_URLS.items()}
    urls["tap"]["sandbox"] = fake.url
    try:
        with override_settings(WASLA_PROVIDER_BASE_URLS=urls):
            tenant = Tenant.objects.create(name="Bench", slug="bench")
            config = PaymentGatewayConfig.objects.create(
                tenant=tenant, provider="tap", mode="sandbox", secret_key="sk_test_" + "b" * 24
            )
            # 1 to capture the SQL, the warm-up of the processes (concurrent runs), n for
            # Python, n for pgbench.
            warm = 0 if concurrency == 1 else 4 * concurrency
            total = 1 + warm + 2 * n
            orders = Order.objects.bulk_create(
                Order(
                    tenant=tenant,
                    reference=f"BENCH-{i:06d}",
                    amount=Decimal("100.00"),
                    customer_phone="+966557877988",
                )
                for i in range(total)
            )
            attempts = PaymentAttempt.objects.bulk_create(
                PaymentAttempt(
                    tenant=tenant,
                    order=order,
                    gateway_config=config,
                    provider="tap",
                    method="mada",
                    amount=order.amount,
                    currency="SAR",
                    status="pending",
                    provider_reference="chg_TS" + secrets.token_hex(12),
                    idempotency_key=f"{tenant.pk}:bench-{order.reference}",
                )
                for order in orders
            )
            created_ms = int(time.time() * 1000)
            deliveries = []
            for attempt in attempts:
                charge = _charge(attempt, created_ms)
                body = fake.dumps(charge)
                fake.charges[attempt.provider_reference] = body
                deliveries.append((body, hashstring(charge, config.secret_key)))
            path = webhook_url(config).split("://", 1)[1].split("/", 1)[1]
            sample = attempts[0]
            python_range = range(1 + warm, 1 + warm + n)
            _pgbench_targets(connection, attempts[1 + warm + n :], app_role=app_role)

            # From here on everything runs as the application does in production: logged in as
            # the app role, which owns nothing and cannot bypass row-level security.
            connection.close()
            connection.settings_dict["USER"] = app_role
            connection.settings_dict["PASSWORD"] = app_password
            _check_filtered(connection, app_role=app_role)
            client = Client()

            def deliver(i: int) -> None:
                body, signature = deliveries[i]
                response = client.post(
                    f"/{path}",
                    data=body,
                    content_type="application/json",
                    HTTP_HASHSTRING=signature,
                )
                if response.status_code != 200:
                    status, content = response.status_code, response.content
                    raise SystemExit(f"webhook answered {status}: {content!r}")

            with CaptureQueriesContext(connection) as captured:
                deliver(0)
            statements, wrapped = _in_execution_order([q["sql"] for q in captured.captured_queries])
            # The checks read the tenant's rows in its scope, outside the timed parts.
            with tenant_context(tenant.pk):
                event_pk = WebhookEvent.objects.get(event_id__contains=sample.provider_reference).pk
                settlement_pk = SettlementRecord.objects.get(payment_attempt=sample).pk
                if PaymentAttempt.objects.get(pk=sample.pk).status != "paid":
                    raise SystemExit("the captured confirmation did not pay its attempt")

            app_db = {**db, "USER": app_role, "PASSWORD": app_password}
            if concurrency == 1:
                started = time.perf_counter()
                for i in python_range:
                    deliver(i)
                python_seconds = time.perf_counter() - started
            else:
                python_seconds = _concurrent_python(
                    deliveries,
                    path=path,
                    warm=range(1, 1 + warm),
                    timed=python_range,
                    concurrency=concurrency,
                    broker=broker,
                    tap_url=fake.url,
                    db={**app_db, "NAME": scratch},
                    count=lambda: _processed(connection, tenant.pk),
                )
            with tenant_context(tenant.pk):
                paid = PaymentAttempt.objects.filter(status="paid").count()
                settled = SettlementRecord.objects.count()
            done = 1 + warm + n
            if paid != done or settled != done:
                raise SystemExit(f"expected {done} paid and settled, got {paid} and {settled}")

            script = _pgbench_script(
                statements, sample=sample, event_pk=event_pk, settlement_pk=settlement_pk
            )
            pgbench_tps, pgbench_out = _pgbench(
                pgbench, script, n=n, concurrency=concurrency, scratch=scratch, db=app_db
            )
            with tenant_context(tenant.pk):
                replayed = PaymentAttempt.objects.filter(status="paid").count() - done
            if replayed != n:
                raise SystemExit(f"pgbench paid {replayed} attempts, expected {n}\n{pgbench_out}")
            floor_seconds = None
            if concurrency > 1:
                floor_seconds = _floor(
                    deliveries,
                    warm=range(1, 1 + warm),
                    timed=python_range,
                    concurrency=concurrency,
                    broker=broker,
                    db={**app_db, "NAME": scratch},
                )
    finally:
        fake.close()

    python_rate = n / python_seconds
    scope = sum(1 for s in statements if s.startswith(_SCOPE_SQL))
    transaction_sql = [s for s in statements if s in ("BEGIN", "COMMIT")]
    sql = len(statements) - scope - len(transaction_sql)
    clients = "one client" if concurrency == 1 else f"{concurrency} clients at once"
    print(f"Tap webhook confirmations, {n} per side, {clients}, database {scratch} (dropped)")
    if concurrency > 1:
        print(
            f"Python: gunicorn ({concurrency} sync workers) and a Celery worker (prefork, "
            f"{concurrency} processes, broker {broker}), real processes, "
            f"after {4 * concurrency} warm-up confirmations; {os.cpu_count()} CPUs on this machine"
        )
    print(
        f"Python and pgbench both logged in as {app_role} (no superuser, no BYPASSRLS); "
        "every confirmation processed in its tenant's scope, as the Celery task does"
    )
    print(
        f"Tap re-fetch GET /v2/charges/{{id}}: in-process fake HTTP server at {fake.url} "
        "(real httpx client, real TCP; not the sandbox)"
    )
    print(
        f"Statements per confirmation: {len(statements)} = {sql} SQL"
        f" + {len(transaction_sql) - 2 * wrapped} BEGIN/COMMIT of the code's transactions"
        f" + {scope + 2 * wrapped} row-level security overhead ({scope} set_config,"
        f" {2 * wrapped} BEGIN/COMMIT around {wrapped} statements run in autocommit mode"
        " in a scope), in the order run:"
    )
    for i, statement in enumerate(statements, 1):
        print(f"  {i:2}. {_abbrev(statement)}")
    if concurrency == 1:
        python_label = "confirmations/s, Python (webhook view + processing)"
        pgbench_label = f"confirmations/s, pgbench (same SQL, -c 1 -t {n})"
    else:
        python_label = f"confirmations/s, Python ({concurrency} clients, gunicorn + Celery)"
        pgbench_label = (
            f"confirmations/s, pgbench (same SQL, -c {concurrency} -j {_threads(concurrency)}"
            f" -t {n // concurrency})"
        )
    rows = [
        (python_label, f"{python_rate:10.1f}"),
        (pgbench_label, f"{pgbench_tps:10.1f}"),
        (
            f"ratio pgbench / Python at concurrency {concurrency}",
            f"{pgbench_tps / python_rate:10.2f}x",
        ),
    ]
    if floor_seconds is not None:
        floor_rate = n / floor_seconds
        rows += [
            (
                "deliveries/s, floor: the same processes, none of our work (webhooks_floor.py)",
                f"{floor_rate:10.1f}",
            ),
            (
                "ratio pgbench / floor: the lowest any code could reach here",
                f"{pgbench_tps / floor_rate:10.2f}x",
            ),
            (
                "ratio floor / Python: what our work costs over the floor",
                f"{floor_rate / python_rate:10.2f}x",
            ),
        ]
        # The machine's time per confirmation (all CPUs busy: each rate is CPU-bound here).
        # At the 2x target, what is left for our Python once the floor's processes and the
        # database's work (pgbench's time, its own client included) are paid for; next to it,
        # what psycopg alone spends sending the confirmation's statements.
        cpus = os.cpu_count() or 1
        budget = cpus * (2 / pgbench_tps - 1 / floor_rate - 1 / pgbench_tps)
        ours = cpus * (1 / python_rate - 1 / floor_rate - 1 / pgbench_tps)
        per_statement = _psycopg_cpu_per_statement(db)
        rows += [
            (
                f"ms of {cpus} CPUs per confirmation left for our Python at the 2x target",
                f"{budget * 1000:10.2f}",
            ),
            ("ms our Python takes per confirmation now (same arithmetic)", f"{ours * 1000:10.2f}"),
            (
                f"ms psycopg alone spends sending {len(statements)} statements"
                f" ({per_statement * 1e6:.0f} us of client CPU each)",
                f"{len(statements) * per_statement * 1000:10.2f}",
            ),
        ]
    for label, value in rows:
        print(f"{label:<78} {value}")
    print(
        "(pgbench adds one statement per confirmation: the SELECT … nextval() that picks the "
        "next prepared attempt)"
    )
    return 0


def _psycopg_cpu_per_statement(db: dict[str, Any], n: int = 3000) -> float:
    """Client CPU seconds psycopg alone spends on one statement: `SELECT %s::int`, n times on
    one connection (process time, so the other processes' load does not count)."""
    import psycopg
    from psycopg.conninfo import make_conninfo

    conninfo = make_conninfo(
        dbname="postgres",
        host=db["HOST"] or "127.0.0.1",
        port=str(db["PORT"] or 5432),
        user=db["USER"],
        **({"password": db["PASSWORD"]} if db.get("PASSWORD") else {}),
    )
    with psycopg.connect(conninfo, autocommit=True) as conn, conn.cursor() as cursor:
        for i in range(200):  # warm-up
            cursor.execute("SELECT %s::int", (i,))
            cursor.fetchall()
        started = time.process_time()
        for i in range(n):
            cursor.execute("SELECT %s::int", (i,))
            cursor.fetchall()
        return (time.process_time() - started) / n


def _floor(
    deliveries: list[tuple[bytes, str]],
    *,
    warm: range,
    timed: range,
    concurrency: int,
    broker: str,
    db: dict[str, Any],
) -> float:
    """Seconds for `timed` deliveries through the same processes with none of our work in them
    (bench/webhooks_floor.py): the most this machine and topology allow."""
    import redis

    key = secrets.token_hex(4)
    counter = f"wasla-bench-floor:{key}"
    client = redis.Redis.from_url(broker)
    try:
        return _concurrent_python(
            deliveries,
            path="floor/",
            warm=warm,
            timed=timed,
            concurrency=concurrency,
            broker=broker,
            tap_url="http://127.0.0.1:9/",  # never called: the floor re-fetches nothing
            db=db,
            count=lambda: (int(client.get(counter) or 0), 0),
            settings_module="bench.webhooks_floor",
            extra_env={"WASLA_BENCH_FLOOR_KEY": key},
        )
    finally:
        client.delete(counter)
        client.close()


def _processed(connection: Any, tenant_id: int) -> tuple[int, int]:
    """The tenant's webhook events processed, and those that ended otherwise."""
    from django.db.models import Count

    from wasla.payments.models import WebhookEvent
    from wasla.tenants.context import tenant_context

    with tenant_context(tenant_id):
        counts = dict(WebhookEvent.objects.values_list("status").annotate(n=Count("id")).order_by())
    ended_otherwise = sum(v for k, v in counts.items() if k not in ("received", "processed"))
    return counts.get("processed", 0), ended_otherwise


def _concurrent_python(
    deliveries: list[tuple[bytes, str]],
    *,
    path: str,
    warm: range,
    timed: range,
    concurrency: int,
    broker: str,
    tap_url: str,
    db: dict[str, Any],
    count: Any,
    settings_module: str = "config.settings.test",
    extra_env: dict[str, str] | None = None,
) -> float:
    """Seconds for `timed` confirmations through gunicorn and Celery, `concurrency` clients at
    once, each posting its own share one after another, until all are processed (`count`)."""
    import httpx
    import redis

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    queue = f"wasla-bench-{secrets.token_hex(4)}"
    login = db["USER"] + (f":{quote(db['PASSWORD'], safe='')}" if db.get("PASSWORD") else "")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": settings_module,
        "DATABASE_URL": f"postgres://{login}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
        f"/{db['NAME']}?conn_max_age=60",
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "CELERY_BROKER_URL": broker,
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "WASLA_TAP_SANDBOX_URL": tap_url,
        "LOG_LEVEL": "WARNING",
        "DJANGO_DEBUG": "0",
        **(extra_env or {}),
    }
    bin_dir = Path(sys.executable).parent
    web = subprocess.Popen(  # noqa: S603 - the venv's own tools, arguments built here
        [
            str(bin_dir / "gunicorn"),
            "config.wsgi:application",
            f"--workers={concurrency}",
            "--worker-class=sync",
            f"--bind=127.0.0.1:{port}",
            "--log-level=warning",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,  # banners; errors still go to stderr
    )
    worker = subprocess.Popen(  # noqa: S603 - the venv's own tools, arguments built here
        [
            str(bin_dir / "celery"),
            "--quiet",
            "--app=config",
            "worker",
            "--pool=prefork",
            f"--concurrency={concurrency}",
            f"--queues={queue}",
            "--loglevel=WARNING",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,  # banners; errors still go to stderr
    )
    expected = count()[0]

    def post_all(indices: range) -> None:
        share = len(indices) // concurrency
        errors: list[str] = []

        def client(k: int) -> None:
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as http:
                for i in indices[k * share : (k + 1) * share]:
                    body, signature = deliveries[i]
                    response = http.post(
                        f"/{path}",
                        content=body,
                        headers={"content-type": "application/json", "hashstring": signature},
                    )
                    if response.status_code != 200:
                        errors.append(f"webhook answered {response.status_code}: {response.text}")
                        return

        threads = [threading.Thread(target=client, args=(k,)) for k in range(concurrency)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if errors:
            raise SystemExit(errors[0])

    def until_processed(total: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            processed, other = count()
            if other:
                raise SystemExit(f"{other} webhook events ended other than processed")
            if processed >= total:
                return
            if time.monotonic() > deadline:
                raise SystemExit(f"{processed} of {total} events processed after {timeout} s")
            if web.poll() is not None or worker.poll() is not None:
                raise SystemExit("gunicorn or the Celery worker exited")
            time.sleep(0.02)

    try:
        deadline = time.monotonic() + 60
        while True:  # gunicorn listening
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    break
            if time.monotonic() > deadline or web.poll() is not None:
                raise SystemExit("gunicorn did not start")
            time.sleep(0.1)
        # Warm-up: every process has imported, connected and served before the clock starts.
        post_all(warm)
        expected += len(warm)
        until_processed(expected, timeout=180)
        started = time.perf_counter()
        post_all(timed)
        expected += len(timed)
        until_processed(expected, timeout=60 + len(timed))
        return time.perf_counter() - started
    finally:
        for process in (web, worker):
            process.terminate()
        for process in (web, worker):
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        client = redis.Redis.from_url(broker)
        client.delete(queue, *client.keys(f"_kombu.binding*.{queue}"))
        client.close()


_SCOPE_SQL = "SELECT set_config('wasla.tenant_id', "


def _check_filtered(connection: Any, *, app_role: str) -> None:
    """The measured connection is the app role, really filtered by row-level security."""
    from wasla.payments.models import PaymentAttempt

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_user, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user"
        )
        user, superuser, bypass = cursor.fetchone()
    if user != app_role or superuser or bypass:
        raise SystemExit(f"connected as {user} (superuser={superuser}, bypassrls={bypass})")
    if PaymentAttempt.objects.exists():
        raise SystemExit(f"{app_role} sees payment attempts without a tenant scope")


def _in_execution_order(logged: list[str]) -> tuple[list[str], int]:
    """The logged statements in the order the server ran them, and how many statements ran in
    autocommit mode wrapped in their own BEGIN, set_config, COMMIT.

    Django logs a statement when it returns, so the wrapper's BEGIN, set_config and COMMIT
    (logged as they run) come before it in the log; a transaction of the code's own always has
    a statement between its set_config and its COMMIT, so the pattern is unambiguous.
    """
    ordered: list[str] = []
    wrapped = 0
    i = 0
    while i < len(logged):
        window = logged[i : i + 4]
        if (
            len(window) == 4
            and window[0] == "BEGIN"
            and window[1].startswith(_SCOPE_SQL)
            and window[2] == "COMMIT"
        ):
            ordered += [window[0], window[1], window[3], window[2]]
            wrapped += 1
            i += 4
        else:
            ordered.append(logged[i])
            i += 1
    return ordered, wrapped


def _abbrev(sql: str) -> str:
    sql = " ".join(sql.split())
    sql = _LITERAL.sub(lambda m: m.group(0) if len(m.group(0)) < 40 else "'…'", sql)
    sql = re.sub(r'SELECT .*? FROM ("[a-z_]+")', r"SELECT … FROM \1", sql)
    return sql if len(sql) <= 150 else sql[:147] + "…"


def _pgbench_script(
    statements: list[str], *, sample: Any, event_pk: int, settlement_pk: int
) -> str:
    """The captured statements with the per-confirmation values turned into pgbench variables.

    Each pgbench transaction first fetches the next prepared attempt's ids, already quoted as
    SQL literals (`\\gset`); the webhook insert hands back its new id (`\\gset ev_`), the
    settlement insert its id (`st_`), the ledger's chain head its sequence (`head_`) and the
    ledger transaction insert its id (`lt_`). pgbench does not look inside quoted literals, so a
    literal holding one of those values is rebuilt as a concatenation,
    `('{"id": "' || :charge_id || '", …}')`; the ledger transaction's `sequence` and its
    entries' `transaction_id` are the values fetched. Everything else stays as captured: same
    statements, same transactions (the row-level security `set_config` included), same
    parameters. (The replayed hashes and balances repeat the captured ones: the database
    checks that each ledger transaction balances and that sequences are unique, not the
    hash chain or the running balances, which `verify_ledger` checks.)
    """
    values = {
        sample.id.hex: ":attempt_hex",
        str(sample.id): ":attempt_dashed",
        sample.order_id.hex: ":order_hex",
        str(sample.order_id): ":order_dashed",
        sample.provider_reference: ":charge_id",
        sample.order.reference: ":order_ref",
    }
    found = re.compile(
        "(" + "|".join(re.escape(v) for v in sorted(values, key=len, reverse=True)) + ")"
    )
    whole = {
        f"fee:{settlement_pk}": "('fee:' || :st_id)",
        f"settlement:{settlement_pk}": "('settlement:' || :st_id)",
    }

    def literal(match: re.Match[str]) -> str:
        text = match.group(0)[1:-1]
        if text in whole:
            return whole[text]
        if not found.search(text):
            return match.group(0)
        pieces = [values.get(chunk, f"'{chunk}'") for chunk in found.split(text) if chunk]
        return "(" + " || ".join(pieces) + ")"

    event_ref = re.compile(rf'("payments_webhookevent"\."id" = ){event_pk}\b')
    lines = [
        "SELECT quote_literal(attempt_hex) AS attempt_hex, "
        "quote_literal(attempt_dashed) AS attempt_dashed, quote_literal(order_hex) AS order_hex, "
        "quote_literal(order_dashed) AS order_dashed, quote_literal(charge_id) AS charge_id, "
        "quote_literal(order_ref) AS order_ref "
        "FROM bench_targets WHERE i = (SELECT nextval('bench_seq')) \\gset"
    ]
    for sql in statements:
        if re.search(r"\bE'", sql):
            raise SystemExit(f"cannot replay an escape-string literal: {sql[:200]}")
        sql = _LITERAL.sub(literal, sql)
        sql = event_ref.sub(r"\1:ev_id", sql).replace("\n", " ")
        if "INSERT INTO ledger_ledgertransaction" in sql:
            # The batched posting: its transaction follows the head read under the lock (its
            # entries take the transaction's id from the statement itself).
            sql = _column_replace(
                sql, "ledger_ledgertransaction", "sequence", lambda _: "(:head_sequence + 1)"
            )
        gset = next((prefix for start, prefix in _GSET if sql.startswith(start)), None)
        lines.append(f"{sql} \\gset {gset}" if gset else f"{sql};")
    missing = [p for _, p in _GSET if f"\\gset {p}" not in "\n".join(lines)]
    if missing:
        raise SystemExit(f"captured SQL changed: no statement to \\gset {missing}")
    return "\n".join(lines) + "\n"


# Statements whose results the replay needs (one row each), and the variable prefix.
_GSET = [
    ('INSERT INTO "payments_webhookevent"', "ev_"),
    ('INSERT INTO "settlement_settlementrecord"', "st_"),
    # the key's transaction (none) or the chain head: the head, one row
    ("SELECT * FROM ledger_ledgertransaction", "head_"),
]


def _split_top_level(text: str) -> list[str]:
    """`a, f(b, c), 'd, e'` -> ["a", "f(b, c)", "'d, e'"]: commas outside parentheses and quotes."""
    parts, depth, quoted, start = [], 0, False, 0
    for i, char in enumerate(text):
        if char == "'":
            quoted = not quoted
        elif not quoted and char == "(":
            depth += 1
        elif not quoted and char == ")":
            depth -= 1
        elif not quoted and depth == 0 and char == ",":
            parts.append(text[start:i].strip())
            start = i + 1
    parts.append(text[start:].strip())
    return parts


def _column_replace(sql: str, table: str, column: str, replace: Any) -> str:
    """The INSERT INTO `table` in `sql` (a statement or one of its CTEs) with one column's
    value (`VALUES (…)`) or array (`UNNEST(…)`) replaced."""
    match = re.search(
        rf'INSERT INTO "?{table}"? \((?P<columns>[^)]*)\)\s*'  # noqa: S608 (a regex, not SQL)
        r"(?P<kind>VALUES |SELECT \* FROM UNNEST)\(",
        sql,
    )
    if match is None:
        raise SystemExit(f"cannot find the values of: {sql[:200]}")
    columns = [c.strip().strip('"') for c in match.group("columns").split(",")]
    start, depth, quoted = match.end(), 1, False
    for end in range(start, len(sql)):
        char = sql[end]
        if char == "'":
            quoted = not quoted
        elif not quoted and char == "(":
            depth += 1
        elif not quoted and char == ")":
            depth -= 1
            if depth == 0:
                break
    values = _split_top_level(sql[start:end])
    if len(values) != len(columns) or column not in columns:
        raise SystemExit(f"cannot find {column} in: {sql[:200]}")
    index = columns.index(column)
    values[index] = replace(values[index])
    return sql[:start] + ", ".join(values) + sql[end:]


_LITERAL = re.compile(r"'(?:[^']|'')*'")


def _pgbench_targets(connection: Any, attempts: list[Any], *, app_role: str) -> None:
    """The attempts pgbench confirms, one per transaction; created by the owner, read by the
    app role (not tenant data: no row-level security on it)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE bench_targets (i bigint PRIMARY KEY, attempt_hex text, "
            "attempt_dashed text, order_hex text, order_dashed text, charge_id text, "
            "order_ref text)"
        )
        cursor.execute("CREATE SEQUENCE bench_seq")
        cursor.executemany(
            "INSERT INTO bench_targets VALUES (%s, %s, %s, %s, %s, %s, %s)",
            [
                (
                    i,
                    a.id.hex,
                    str(a.id),
                    a.order_id.hex,
                    str(a.order_id),
                    a.provider_reference,
                    a.order.reference,
                )
                for i, a in enumerate(attempts, 1)
            ],
        )
        role = connection.ops.quote_name(app_role)
        cursor.execute(f"GRANT SELECT ON bench_targets TO {role}")
        cursor.execute(f"GRANT USAGE, SELECT, UPDATE ON SEQUENCE bench_seq TO {role}")
        cursor.execute("ANALYZE")


def _threads(concurrency: int) -> int:
    return max(1, concurrency // 2)


def _pgbench(
    pgbench: str, script: str, *, n: int, concurrency: int, scratch: str, db: dict[str, Any]
) -> tuple[float, str]:
    with tempfile.NamedTemporaryFile("w", suffix=".sql", prefix="wasla-bench-") as f:
        f.write(script)
        f.flush()
        command = [pgbench, "-n", "-f", f.name, "-t", str(n // concurrency)]
        command += ["-c", str(concurrency), "-j", str(_threads(concurrency))]
        for flag, key in (("-h", "HOST"), ("-p", "PORT"), ("-U", "USER")):
            if db.get(key):
                command += [flag, str(db[key])]
        env = {**os.environ, **({"PGPASSWORD": db["PASSWORD"]} if db.get("PASSWORD") else {})}
        done = subprocess.run(  # noqa: S603 - a fixed local tool, arguments built here
            [*command, scratch], capture_output=True, text=True, env=env, check=False
        )
    output = done.stdout + done.stderr
    match = re.search(r"tps = ([0-9.]+) \(without initial connection time\)", output)
    if done.returncode != 0 or match is None:
        raise SystemExit(f"pgbench failed ({done.returncode}):\n{output}\nscript:\n{script}")
    return float(match.group(1)), output


if __name__ == "__main__":
    sys.exit(main())
