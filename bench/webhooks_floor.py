"""The floor of bench/webhooks.py's concurrent run: the same clients, gunicorn and Celery
processes, broker and bodies, with none of our work in them.

A delivery here passes Django's whole middleware stack (the project's, as configured), has its
body read, queues one Celery message and is answered; the worker takes the message, runs a task
that only counts it (one Redis INCR) and acknowledges it. No SQL, no signature check, no
re-fetch. How many of these the machine does per second is the most a confirmation through
this topology could ever reach; pgbench's rate over it is the lowest ratio any code could show.

Used by `bench/webhooks.py --concurrency C` as the settings module of its floor run
(`DJANGO_SETTINGS_MODULE=bench.webhooks_floor`): the test settings, this module's URLs, and
this module among Celery's imports so the worker knows the task.
"""

from __future__ import annotations

import functools
import os

import redis
from celery import shared_task
from django.http import HttpRequest, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from config.settings.test import *  # noqa: F403
from config.settings.test import CELERY_IMPORTS

ROOT_URLCONF = "bench.webhooks_floor"
CELERY_IMPORTS = [*CELERY_IMPORTS, "bench.webhooks_floor"]
COUNTER_KEY = "wasla-bench-floor:" + os.environ.get("WASLA_BENCH_FLOOR_KEY", "default")


@shared_task(name="bench.floor_count")
def floor_count() -> None:
    _redis().incr(COUNTER_KEY)


@csrf_exempt
@require_POST
def floor_receive(request: HttpRequest) -> JsonResponse:
    if not request.body:
        return JsonResponse({"status": "empty"}, status=400)
    floor_count.delay()
    return JsonResponse({"status": "accepted"})


urlpatterns = [path("floor/", floor_receive)]


@functools.cache
def _redis() -> redis.Redis:
    """One connection per worker process."""
    return redis.Redis.from_url(os.environ["CELERY_BROKER_URL"])
