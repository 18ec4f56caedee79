"""The log context follows a task: the ids bound when it is queued (request id, tenant,
payment attempt, webhook event) travel in the message's headers and are bound in the worker for
the task's run, with the task's own id and name. A task run inline (eager: the demo and tests)
keeps its caller's context and gives it back afterwards."""

from __future__ import annotations

from typing import Any

import structlog
from celery.signals import before_task_publish, task_postrun, task_prerun

from .logs import CONTEXT_KEYS, log_context_get

HEADER = "wasla_log_context"

# The context around each running task, by task id, given back when it ends (an eager task
# runs inside its caller's context).
_outer: dict[str, dict[str, Any]] = {}


def _on_publish(headers: dict[str, Any] | None = None, **kwargs: Any) -> None:
    context = log_context_get()
    if headers is not None and context:
        headers[HEADER] = context


def _carried(request: Any) -> dict[str, Any] | None:
    """The ids a message carried (only the known keys): a worker merges custom headers into
    the request, `apply()` keeps them under `request.headers`."""
    found = getattr(request, HEADER, None)
    headers = getattr(request, "headers", None)
    if not isinstance(found, dict) and isinstance(headers, dict):
        found = headers.get(HEADER)
    if not isinstance(found, dict):
        return None
    return {k: v for k, v in found.items() if k in CONTEXT_KEYS}


def _on_prerun(task_id: str | None = None, task: Any = None, **kwargs: Any) -> None:
    outer = structlog.contextvars.get_contextvars()
    carried = _carried(task.request) if task is not None else None
    if carried is None:
        carried = log_context_get()  # eager: the caller's own ids
    _outer[str(task_id)] = outer
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(
        **{k: str(v) for k, v in carried.items()},
        task_id=str(task_id),
        task=getattr(task, "name", None),
    )


def _on_postrun(task_id: str | None = None, **kwargs: Any) -> None:
    outer = _outer.pop(str(task_id), {})
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(**outer)


def celery_context_connect() -> None:
    before_task_publish.connect(_on_publish, weak=False, dispatch_uid="wasla_log_publish")
    task_prerun.connect(_on_prerun, weak=False, dispatch_uid="wasla_log_prerun")
    task_postrun.connect(_on_postrun, weak=False, dispatch_uid="wasla_log_postrun")
