"""Shared pieces of the httpx-based providers."""

from __future__ import annotations

import os
import ssl
import threading
from collections import OrderedDict
from functools import cache

import httpx

POOLED_CLIENTS_MAX = 16  # provider endpoints a process keeps connections to


@cache
def ssl_context() -> ssl.SSLContext:
    """Built once per process: loading the CA bundle costs ~25 ms, every call would pay it.
    (Retries are the orchestrator's job, with the same idempotency key.)"""
    return httpx.create_ssl_context()


_clients: OrderedDict[tuple[int, str, float, float], httpx.Client] = OrderedDict()
_clients_lock = threading.Lock()


def pooled_client(*, base_url: str, read_timeout: float, connect_timeout: float) -> httpx.Client:
    """The process's client for one provider endpoint, shared by the calls of every tenant, so
    their TCP and TLS connections are kept and reused instead of a handshake per call.

    It carries no credentials: each request brings its own `Authorization`. It is never used
    across a fork (the process id is part of its key: gunicorn and Celery fork their workers),
    and never closed by a caller. Only the last POOLED_CLIENTS_MAX endpoints keep one; an older
    one is closed.
    """
    key = (os.getpid(), base_url.rstrip("/") + "/", read_timeout, connect_timeout)
    with _clients_lock:
        client = _clients.get(key)
        if client is not None:
            _clients.move_to_end(key)
            return client
        client = httpx.Client(
            base_url=key[1],
            timeout=httpx.Timeout(read_timeout, connect=connect_timeout),
            verify=ssl_context(),
        )
        _clients[key] = client
        while len(_clients) > POOLED_CLIENTS_MAX:
            _, oldest = _clients.popitem(last=False)
            oldest.close()
        return client
