"""Liveness (`/healthz`: the process answers) and readiness (`/readyz`: what a request needs
answers: the database, the cache, the Celery broker, and every migration this code knows is
applied). Readiness answers 503 naming the check that failed; each check is short (the broker
gets WASLA_READYZ_BROKER_TIMEOUT seconds) and the migration plan, once found empty, is not read
again by this process (migrations are applied before new code starts, never taken back under
it)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET
from kombu import Connection

_migrations_applied = False


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness: the process answers."""
    return JsonResponse({"status": "ok"})


def check_database() -> str:
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute("SELECT 1")
    return "ok"


def check_cache() -> str:
    cache.set("readyz", "1", 5)
    return "ok" if cache.get("readyz") == "1" else "error: no round trip"


@contextmanager
def broker_connection() -> Iterator[Connection]:
    """A connection to the Celery broker that gives up after WASLA_READYZ_BROKER_TIMEOUT:
    a probe or a scrape must answer, not wait for a broker that hangs."""
    timeout = float(settings.WASLA_READYZ_BROKER_TIMEOUT)
    with Connection(
        settings.CELERY_BROKER_URL,
        connect_timeout=timeout,
        transport_options={"socket_connect_timeout": timeout, "socket_timeout": timeout},
    ) as conn:
        # Connecting opens a channel, which talks to the server (Redis: a PING).
        conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=timeout)
        yield conn


def check_broker() -> str:
    """The Celery broker takes a connection (skipped when tasks run inline: demo and tests)."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return "ok"
    with broker_connection():
        return "ok"


def check_migrations() -> str:
    global _migrations_applied
    if _migrations_applied:
        return "ok"
    executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if plan:
        return f"error: {len(plan)} unapplied"
    _migrations_applied = True
    return "ok"


CHECKS = {
    "database": check_database,
    "cache": check_cache,
    "broker": check_broker,
    "migrations": check_migrations,
}


@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    """Readiness: 200 when every check passes, else 503 with each check's result."""
    checks: dict[str, str] = {}
    for name, check in CHECKS.items():
        if name == "migrations" and checks.get("database") != "ok":
            checks[name] = "error: database unavailable"
            continue
        try:
            checks[name] = check()
        except Exception as exc:
            checks[name] = f"error: {type(exc).__name__}"
    ok = all(v == "ok" for v in checks.values())
    return JsonResponse(
        {"status": "ok" if ok else "unavailable", "checks": checks}, status=200 if ok else 503
    )
