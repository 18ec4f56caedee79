"""Celery against the real Redis broker, for the tests where the broker matters: publish for
real (not eager) to a queue of the test's own, then read back what was queued."""

from __future__ import annotations

import base64
import json
import os
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import redis

from config.celery import app as celery_app


def free_port() -> int:
    """A local port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _forget_broker_connections() -> None:
    celery_app._pool = None
    celery_app.__dict__.pop("amqp", None)  # producer pool, queues and router, rebuilt on use


@contextmanager
def celery_publishing(broker_url: str, *, queue: str) -> Iterator[None]:
    """Make the project's Celery app publish for real (not eager) to `broker_url`, queue
    `queue`, for the duration. Celery reads CELERY_BROKER_URL from the environment before its
    own configuration, so that is where the URL goes."""
    conf = celery_app.conf
    saved_conf = {key: conf[key] for key in ("task_always_eager", "task_default_queue")}
    saved_env = os.environ.get("CELERY_BROKER_URL")
    os.environ["CELERY_BROKER_URL"] = broker_url
    conf.update(task_always_eager=False, task_default_queue=queue)
    _forget_broker_connections()
    try:
        yield
    finally:
        if saved_env is None:
            os.environ.pop("CELERY_BROKER_URL", None)
        else:
            os.environ["CELERY_BROKER_URL"] = saved_env
        conf.update(saved_conf)
        _forget_broker_connections()


@contextmanager
def own_queue(broker_url: str) -> Iterator[str]:
    """A queue of our own on the test broker, deleted afterwards."""
    name = f"wasla-test-{uuid.uuid4().hex[:10]}"
    try:
        yield name
    finally:
        client = redis.Redis.from_url(broker_url)
        client.delete(name, *client.keys(f"_kombu.binding*.{name}"))
        client.close()


def queued_event_ids(broker_url: str, queue: str) -> list[int]:
    """Take every message off `queue` (as a worker would) and return the event ids they carry."""
    client = redis.Redis.from_url(broker_url)
    ids = []
    while (raw := client.rpop(queue)) is not None:
        message = json.loads(raw)
        assert message["headers"]["task"] == "payments.process_webhook_event"
        args, _kwargs, _embed = json.loads(base64.b64decode(message["body"]))
        ids.append(args[0])
    client.close()
    return ids
