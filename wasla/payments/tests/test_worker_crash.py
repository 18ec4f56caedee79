"""A Celery worker dies (SIGKILL) in the middle of processing a webhook: the event still ends
`processed` exactly once, with one paid transition and one settlement.

Real processes, no mocks: `celery -A config worker` subprocesses on the Redis test broker and the
test's own PostgreSQL database, the Tap sandbox on the live server behind a small proxy whose
first charge fetch hangs, so the test knows the worker is mid-processing when it kills it.
- the whole worker dies (solo pool, the process group killed, as on a lost host): the message
  stays unacknowledged in Redis (acks_late) and a new worker gets it once the visibility timeout
  (3 s here) has run out;
- only the pool process running the task dies (prefork): the worker sees it lost and puts the
  message back at once (reject_on_worker_lost); a fresh pool process runs it.
Select with `-m celery_worker`; each case takes about 10-20 s.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from django.conf import settings as django_settings
from django.db import connection

from wasla.orders.models import Order
from wasla.payments.models import WebhookEvent
from wasla.settlement.models import SettlementRecord

from .celery_broker import celery_publishing, own_queue
from .webhook_deliveries import post_tap, sandbox_charge, tap_paid_at_sandbox

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]

VISIBILITY_TIMEOUT = 3  # seconds a dead worker's message stays invisible in Redis
STARTUP_TIMEOUT = 40  # seconds for a fresh worker to take a message


class BlockingTapProxy:
    """Tap's API as the workers see it: every call is forwarded to the sandbox, except the
    first charge fetch, which hangs until `release` (by then its worker is dead)."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.entered = threading.Event()
        self.release = threading.Event()
        self.forwarded: list[str] = []
        self._blocked = False
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                with proxy._lock:
                    block, proxy._blocked = not proxy._blocked, True
                if block:
                    proxy.entered.set()
                    proxy.release.wait(60)
                    self.close_connection = True
                    return  # no answer: the worker that asked is gone
                upstream = httpx.get(
                    proxy.upstream + self.path,
                    headers={"Authorization": self.headers.get("Authorization", "")},
                    timeout=30,
                )
                proxy.forwarded.append(self.path)
                self.send_response(upstream.status_code)
                self.send_header("Content-Type", upstream.headers.get("content-type", ""))
                self.send_header("Content-Length", str(len(upstream.content)))
                self.end_headers()
                self.wfile.write(upstream.content)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


class Workers:
    """Celery worker subprocesses of this test, each in its own process group."""

    def __init__(self, log_dir: Path, env: dict[str, str]) -> None:
        self.log_dir = log_dir
        self.env = env
        self.started: list[subprocess.Popen[bytes]] = []

    def start(self, *, pool: str, queue: str) -> subprocess.Popen[bytes]:
        name = f"crash-{len(self.started)}-{uuid.uuid4().hex[:6]}"
        log = (self.log_dir / f"{name}.log").open("wb")
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                f"--pool={pool}",
                "--concurrency=1",
                "-Q",
                queue,
                "-n",
                f"{name}@%h",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "--loglevel=INFO",
            ],
            cwd=django_settings.BASE_DIR,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        self.started.append(process)
        return process

    def kill(self, process: subprocess.Popen[bytes]) -> None:
        """SIGKILL the worker's whole process group: no shutdown, no acknowledgement."""
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)

    def logs(self) -> str:
        return "\n".join(
            f"--- {path.name}\n{path.read_text(errors='replace')[-4000:]}"
            for path in sorted(self.log_dir.glob("*.log"))
        )

    def stop_all(self) -> None:
        for process in self.started:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        for process in self.started:
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(10)


def _database_url() -> str:
    """The test database pytest-django created, as the workers must reach it."""
    db = connection.settings_dict
    credentials = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        credentials += ":" + quote(db["PASSWORD"], safe="")
    host = db["HOST"] or "127.0.0.1"
    port = db["PORT"] or "5432"
    return f"postgres://{credentials}@{host}:{port}/{db['NAME']}"


@pytest.fixture
def broker_queue(settings) -> Iterator[str]:
    with own_queue(settings.CELERY_BROKER_URL) as name:
        yield name


@pytest.fixture
def proxy(sandbox) -> Iterator[BlockingTapProxy]:
    tap = BlockingTapProxy(f"{sandbox}/sandbox/tap")
    yield tap
    tap.close()


@pytest.fixture
def workers(tmp_path, proxy, settings) -> Iterator[Workers]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": _database_url(),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "CELERY_BROKER_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT),
        "WASLA_TAP_SANDBOX_URL": proxy.url,
    }
    group = Workers(tmp_path, env)
    yield group
    group.stop_all()


def _wait_for(condition: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return condition()


def _queued_webhook(sandbox, tenant, tap_config, settings, queue: str):
    """A Tap payment captured at the sandbox whose webhook is accepted and queued on `queue`."""
    attempt = tap_paid_at_sandbox(sandbox, tenant)
    assert attempt.status == "pending"
    body = sandbox_charge(sandbox, tap_config, attempt.provider_reference)
    with celery_publishing(settings.CELERY_BROKER_URL, queue=queue):
        assert post_tap(tap_config, body).json() == {"status": "accepted"}
    event = WebhookEvent.objects.get(signature_valid=True)
    assert (event.status, event.attempts) == ("received", 0)
    return attempt, event


def _assert_processed_once(attempt, event, proxy: BlockingTapProxy) -> None:
    event.refresh_from_db()
    assert (event.status, event.attempts, event.error) == ("processed", 2, "")
    attempt.refresh_from_db()
    assert attempt.status == "paid"
    assert Order.objects.get(pk=attempt.order_id).status == "paid"
    assert SettlementRecord.objects.filter(order_id=attempt.order_id).count() == 1
    assert WebhookEvent.objects.filter(signature_valid=True).count() == 1
    # One hung fetch (the dead worker's), one answered (the run that finished).
    assert proxy.forwarded == [f"/v2/charges/{attempt.provider_reference}"]


def _assert_untouched(attempt, event) -> None:
    event.refresh_from_db()
    assert (event.status, event.attempts) == ("received", 1)
    attempt.refresh_from_db()
    assert attempt.status == "pending"
    assert not SettlementRecord.objects.exists()


def test_worker_killed_mid_processing_the_next_worker_finishes_the_event(
    sandbox, tenant, tap_config, settings, broker_queue, proxy, workers
):
    attempt, event = _queued_webhook(sandbox, tenant, tap_config, settings, broker_queue)

    first = workers.start(pool="solo", queue=broker_queue)
    assert proxy.entered.wait(STARTUP_TIMEOUT), workers.logs()
    taken = time.monotonic()
    workers.kill(first)
    _assert_untouched(attempt, event)
    proxy.release.set()

    # Redis hands the unacknowledged message out again once its visibility timeout is over.
    time.sleep(max(0.0, taken + VISIBILITY_TIMEOUT + 0.5 - time.monotonic()))
    workers.start(pool="solo", queue=broker_queue)
    finished = _wait_for(
        lambda: WebhookEvent.objects.get(pk=event.pk).status != "received", STARTUP_TIMEOUT
    )
    assert finished, workers.logs()
    _assert_processed_once(attempt, event, proxy)


def test_pool_process_killed_mid_processing_the_message_is_run_again(
    sandbox, tenant, tap_config, settings, broker_queue, proxy, workers
):
    attempt, event = _queued_webhook(sandbox, tenant, tap_config, settings, broker_queue)

    worker = workers.start(pool="prefork", queue=broker_queue)
    assert proxy.entered.wait(STARTUP_TIMEOUT), workers.logs()
    children = Path(f"/proc/{worker.pid}/task/{worker.pid}/children").read_text().split()
    assert len(children) == 1, children
    os.kill(int(children[0]), signal.SIGKILL)
    proxy.release.set()

    finished = _wait_for(
        lambda: WebhookEvent.objects.get(pk=event.pk).status != "received", STARTUP_TIMEOUT
    )
    assert finished, workers.logs()
    _assert_processed_once(attempt, event, proxy)
    assert worker.poll() is None  # the worker itself lived on
