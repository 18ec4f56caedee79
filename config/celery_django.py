"""Celery's Django fix-up, with Django's own rule for database connections between tasks.

Celery's stock fix-up closes every database connection before and after each task, whatever
CONN_MAX_AGE says: a worker opened a new PostgreSQL connection (a server process forked, its
catalog caches cold) for every webhook it processed. Between tasks this one applies what Django
applies between requests, `close_old_connections`: a connection is kept until CONN_MAX_AGE,
and dropped at once when it errored or fails its health check (CONN_HEALTH_CHECKS), so a
restarted PostgreSQL costs at most the one task that found the connection broken. With
CONN_MAX_AGE 0 (the default outside production) it still closes after every task.

The tenant scope is transaction-local (`set_config(..., true)`), so a kept connection carries
nothing from one task into the next.
"""

import os
import warnings
from typing import Any

from celery import Celery
from celery.exceptions import FixupWarning
from celery.fixups.django import DjangoFixup, DjangoWorkerFixup


class _WorkerFixup(DjangoWorkerFixup):
    def close_database(self, **kwargs: Any) -> None:
        from django.db import close_old_connections

        close_old_connections()


class _Fixup(DjangoFixup):
    def on_worker_init(self, **kwargs: Any) -> None:
        # A worker starting: ours is the worker fix-up it installs (built here, once the app's
        # configuration, which it reads, is loaded).
        self.worker_fixup = _WorkerFixup(self.app)
        super().on_worker_init(**kwargs)


def fixup(app: Celery, env: str = "DJANGO_SETTINGS_MODULE") -> DjangoFixup | None:
    """Celery's `celery.fixups.django.fixup`, installing `_Fixup`."""
    if not os.environ.get(env):
        return None
    try:
        import django  # noqa: F401
    except ImportError:  # pragma: no cover - Django is a dependency of this project
        warnings.warn(FixupWarning("Django is not installed"), stacklevel=2)
        return None
    return _Fixup(app).install()
