"""A Celery worker keeps its database connection between tasks for CONN_MAX_AGE, as web requests
do, and still recovers when the connection breaks (`config/celery_django.py`).

Celery's stock Django fix-up closed the connection before and after every task, so each webhook
a worker processed paid for a new PostgreSQL server process. A real prefork worker processes
three deliveries here, and PostgreSQL's own `pg_stat_activity` shows how many connections it
opened. Select with `-m celery_worker`."""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path

import psycopg
import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from sandbox.tap_sim.signing import tap_hashstring
from wasla.payments.models import WebhookEvent
from wasla.payments.providers.tap import loads
from wasla.payments.tests.celery_broker import celery_publishing, own_queue
from wasla.payments.tests.test_worker_crash import Workers, _database_url
from wasla.payments.tests.webhook_deliveries import sandbox_charge, tap_paid_at_sandbox

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]


def _deliver(sandbox, tenant, tap_config) -> WebhookEvent:
    attempt = tap_paid_at_sandbox(sandbox, tenant)
    body = sandbox_charge(sandbox, tap_config, attempt.provider_reference)
    answer = Client().post(
        reverse("webhook", kwargs={"provider": "tap", "token": tap_config.webhook_token}),
        body,
        content_type="application/json",
        HTTP_HASHSTRING=tap_hashstring(loads(body), tap_config.secret_key),
    )
    assert answer.json() == {"status": "accepted"}
    return WebhookEvent.objects.filter(signature_valid=True).latest("received_at")


def _until_processed(event: WebhookEvent, workers: Workers, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        event.refresh_from_db()
        if event.status == WebhookEvent.Status.PROCESSED:
            return
        time.sleep(0.1)
    raise AssertionError(f"event {event.pk} is {event.status}\n{workers.logs()}")


def _backends(application_name: str) -> list[tuple[int, object]]:
    """(pid, backend_start) of the server processes serving connections by that name."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid, backend_start FROM pg_stat_activity WHERE application_name = %s",
            [application_name],
        )
        return cursor.fetchall()


def _started_worker(tmp_path: Path, settings, queue: str, *, query: str) -> Workers:
    workers = Workers(
        tmp_path,
        {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "DATABASE_URL": f"{_database_url()}?{query}",
            "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
            "CELERY_TASK_ALWAYS_EAGER": "0",
            "WASLA_TAP_SANDBOX_URL": os.environ["WASLA_TAP_SANDBOX_URL"],
        },
    )
    workers.start(pool="prefork", queue=queue)
    return workers


@pytest.fixture
def tap_sandbox_env(sandbox, monkeypatch):
    monkeypatch.setenv("WASLA_TAP_SANDBOX_URL", f"{sandbox}/sandbox/tap")


def test_a_worker_serves_every_task_over_one_connection_kept_for_conn_max_age(
    sandbox, tenant, tap_config, settings, tmp_path: Path, tap_sandbox_env
):
    name = f"wasla-worker-{uuid.uuid4().hex[:8]}"
    with own_queue(settings.CELERY_BROKER_URL) as queue:
        workers = _started_worker(
            tmp_path, settings, queue, query=f"conn_max_age=60&application_name={name}"
        )
        try:
            with celery_publishing(settings.CELERY_BROKER_URL, queue=queue):
                first = _deliver(sandbox, tenant, tap_config)
                _until_processed(first, workers)
                kept = _backends(name)
                for _ in range(2):
                    _until_processed(_deliver(sandbox, tenant, tap_config), workers)
                assert _backends(name) == kept, "a task opened a connection of its own"
                assert len(kept) == 1, workers.logs()

                # The connection breaks between tasks (a PostgreSQL restart, a pooler that
                # dropped it): the health check before the next task's first query finds out
                # (CONN_HEALTH_CHECKS, on with CONN_MAX_AGE), and the event is processed over a
                # new connection, not failed.
                with psycopg.connect(_database_url(), autocommit=True) as admin:
                    admin.execute("SELECT pg_terminate_backend(%s)", [kept[0][0]])
                _until_processed(_deliver(sandbox, tenant, tap_config), workers)
                assert len(_backends(name)) == 1
                assert _backends(name) != kept
        finally:
            workers.stop_all()


def test_with_conn_max_age_0_a_worker_closes_its_connection_after_each_task(
    sandbox, tenant, tap_config, settings, tmp_path: Path, tap_sandbox_env
):
    name = f"wasla-worker-{uuid.uuid4().hex[:8]}"
    with own_queue(settings.CELERY_BROKER_URL) as queue:
        workers = _started_worker(tmp_path, settings, queue, query=f"application_name={name}")
        try:
            with celery_publishing(settings.CELERY_BROKER_URL, queue=queue):
                _until_processed(_deliver(sandbox, tenant, tap_config), workers)
                deadline = time.monotonic() + 10
                while _backends(name) and time.monotonic() < deadline:
                    time.sleep(0.1)
                assert _backends(name) == []
        finally:
            workers.stop_all()
