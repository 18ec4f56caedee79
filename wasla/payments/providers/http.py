"""Shared pieces of the httpx-based providers."""

from __future__ import annotations

import ssl
from functools import cache

import httpx


@cache
def ssl_context() -> ssl.SSLContext:
    """Built once per process: loading the CA bundle costs ~25 ms, every call would pay it.
    (Retries are the orchestrator's job, with the same idempotency key.)"""
    return httpx.create_ssl_context()
