"""Crash points: a gunicorn or Celery worker process SIGKILLs itself at an exact point of the
webhook pipeline, when the test has armed that point. No product code knows of it: the hooks are
installed by the chaos settings (chaos/settings.py adds `ChaosFaultsConfig` and
`crash_middleware`) through Django's `connection.execute_wrapper`, Celery's signals and a
middleware, and only when WASLA_CHAOS_DIR names the directory the test arms them in.

The points, by process role:

    web (gunicorn worker, receiving a webhook)
      before_commit       the inbox INSERT has run, its transaction is not committed
      after_inbox_insert  the inbox row is committed, the processing task not yet published
      after_commit        the row is committed and queued, the 2xx not yet sent to the provider
    worker (Celery worker process, processing it)
      after_claim         the try is counted and leased (committed), the effect not yet run
      before_commit       the effect and the event's outcome have run, not committed
      after_commit        the effect is committed, the broker message not yet acknowledged
                          (task_postrun runs before a late ack)

Arming is a file per shot in WASLA_CHAOS_DIR/armed/ (`Faults.arm`): the first process that reaches
the point renames it into fired/ (atomic, so one shot kills one process), writes what it was
doing there, syncs, then sends itself SIGKILL: no cleanup, no rollback, no answer, no ack.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.apps import AppConfig
from django.http import HttpRequest, HttpResponse

ENV_DIR = "WASLA_CHAOS_DIR"
ENV_ROLE = "WASLA_CHAOS_ROLE"  # overrides the role read from the command line
WEBHOOK_TASK = "payments.process_webhook_event"
INBOX_TABLE = '"payments_webhookevent"'
WEBHOOK_PATH = "/webhooks/"

POINTS: tuple[tuple[str, str], ...] = (
    ("web", "before_commit"),
    ("web", "after_inbox_insert"),
    ("web", "after_commit"),
    ("worker", "after_claim"),
    ("worker", "before_commit"),
    ("worker", "after_commit"),
)


@dataclass(frozen=True)
class Fired:
    """One shot that went off: which process died where, doing what."""

    role: str
    point: str
    pid: int
    at: float  # time.time() when it fired
    detail: str

    def __str__(self) -> str:
        return f"SIGKILL {self.role} pid {self.pid} at {self.point} ({self.detail})"


class Faults:
    """The test's side: arm points, read which fired."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        (directory / "armed").mkdir(parents=True, exist_ok=True)
        (directory / "fired").mkdir(parents=True, exist_ok=True)
        self._serial = 0

    @property
    def env(self) -> dict[str, str]:
        return {ENV_DIR: str(self.directory)}

    def arm(self, role: str, point: str, times: int = 1) -> None:
        if (role, point) not in POINTS:
            raise ValueError(f"no crash point {role}.{point}")
        for _ in range(times):
            self._serial += 1
            (self.directory / "armed" / f"{role}.{point}#{self._serial}").touch()

    def armed(self) -> list[str]:
        return sorted(path.name.split("#")[0] for path in (self.directory / "armed").iterdir())

    def disarm(self) -> None:
        for path in (self.directory / "armed").iterdir():
            with contextlib.suppress(FileNotFoundError):
                path.unlink()

    def fired(self) -> list[Fired]:
        shots = []
        for path in (self.directory / "fired").iterdir():
            record = path.read_text()
            if not record.endswith("\n"):
                continue  # claimed a moment ago, its record not written yet
            role, point, pid, at, detail = record.split("\t", 4)
            shots.append(Fired(role, point, int(pid), float(at), detail.strip()))
        return sorted(shots, key=lambda shot: shot.at)

    def wait_fired(self, count: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.fired()) >= count:
                return True
            time.sleep(0.1)
        return len(self.fired()) >= count


# --- the process's side -----------------------------------------------------------------------


def process_role() -> str:
    """web (gunicorn), worker (a Celery worker), or something the points do not apply to."""
    explicit = os.environ.get(ENV_ROLE)
    if explicit:
        return explicit
    argv = " ".join(sys.argv)
    if "gunicorn" in argv:
        return "web"
    if "celery" in argv and "worker" in sys.argv:
        return "worker"
    return "other"


def crash_if_armed(role: str, point: str, detail: str = "") -> None:
    """SIGKILL this process if the point is armed (one shot used up); otherwise return."""
    directory = os.environ.get(ENV_DIR)
    if not directory:
        return
    armed = Path(directory) / "armed"
    with contextlib.suppress(FileNotFoundError):
        for shot in sorted(armed.glob(f"{role}.{point}#*")):
            fired = Path(directory) / "fired" / f"{shot.name}.{os.getpid()}"
            try:
                shot.rename(fired)  # atomic: of the processes here at once, one wins the shot
            except FileNotFoundError:
                continue
            with fired.open("w") as record:
                record.write(f"{role}\t{point}\t{os.getpid()}\t{time.time()}\t{detail}\n")
                record.flush()
                os.fsync(record.fileno())
            os.kill(os.getpid(), signal.SIGKILL)
            time.sleep(10)  # never reached: the signal is delivered at once


def _sql_hook(role: str) -> Callable[..., Any]:
    """A `connection.execute_wrapper` for the points that sit on an SQL statement."""

    def hook(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        result = execute(sql, params, many, context)
        if INBOX_TABLE not in sql:
            return result
        connection = context["connection"]
        values = list(params or ())
        if role == "web" and sql.startswith(f"INSERT INTO {INBOX_TABLE}"):
            # signature_valid: a verified delivery, not an audit row (`is`: 1 == True).
            if any(value is True for value in values):
                crash_if_armed("web", "before_commit", "inbox INSERT run, not committed")
        elif role == "worker" and sql.startswith(f"UPDATE {INBOX_TABLE}"):
            # The event's id: the WHERE's pk, the last integer (booleans aside).
            event = next(
                (v for v in reversed(values) if isinstance(v, int) and not isinstance(v, bool)),
                "?",
            )
            if '"attempts" = ' in sql and connection.in_atomic_block:
                # The try is counted in a short transaction that commits before the effect
                # runs: the point is right after that commit.
                connection.on_commit(
                    lambda: crash_if_armed(
                        "worker", "after_claim", f"event {event} try counted, effect not run"
                    )
                )
            elif "processed" in values and connection.in_atomic_block:
                crash_if_armed("worker", "before_commit", f"event {event} processed, not committed")
        return result

    return hook


def _install_sql_hooks(role: str) -> None:
    from django.db.backends.signals import connection_created

    hook = _sql_hook(role)

    def attach(sender: Any, connection: Any, **kwargs: Any) -> None:
        # Sent on every (re)connect of the same wrapper object: attach once.
        if hook not in connection.execute_wrappers:
            connection.execute_wrappers.append(hook)

    connection_created.connect(attach, weak=False, dispatch_uid="chaos-faults-sql")


def _install_celery_hooks(role: str) -> None:
    from celery.signals import before_task_publish, task_postrun

    if role == "web":

        def before_publish(sender: Any = None, headers: Any = None, **kwargs: Any) -> None:
            if sender == WEBHOOK_TASK:
                event = (headers or {}).get("argsrepr", "")
                crash_if_armed("web", "after_inbox_insert", f"committed, not queued {event}")

        before_task_publish.connect(before_publish, weak=False, dispatch_uid="chaos-publish")
    elif role == "worker":

        def after_task(
            sender: Any = None, args: Any = None, retval: Any = None, **kwargs: Any
        ) -> None:
            name = getattr(sender, "name", "")
            if name == WEBHOOK_TASK and retval == "processed":
                event = args[0] if args else "?"
                crash_if_armed("worker", "after_commit", f"event {event} committed, not acked")

        task_postrun.connect(after_task, weak=False, dispatch_uid="chaos-postrun")


class ChaosFaultsConfig(AppConfig):
    """Installs the crash points in the processes they apply to (chaos settings only)."""

    name = "chaos"
    label = "chaos_faults"
    verbose_name = "Chaos crash points"

    def ready(self) -> None:
        if not os.environ.get(ENV_DIR):
            return
        role = process_role()
        if role not in ("web", "worker"):
            return
        _install_sql_hooks(role)
        _install_celery_hooks(role)


def crash_middleware(get_response: Callable[[HttpRequest], HttpResponse]) -> Any:
    """Outermost middleware: a webhook's 2xx is ready (row committed, task queued) and is about
    to go back through nginx to the provider."""

    def middleware(request: HttpRequest) -> HttpResponse:
        response = get_response(request)
        if (
            request.method == "POST"
            and WEBHOOK_PATH in request.path
            and 200 <= response.status_code < 300
        ):
            crash_if_armed("web", "after_commit", f"{request.path} answered, 2xx not sent")
        return response

    return middleware
