"""Races with real threads: each runs `work(i)` on its own database connection, all released
at once by a barrier, so they really meet in PostgreSQL (row locks, unique indexes)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from django.db import connection


def in_threads(n: int, work: Callable[[int], Any]) -> list[Any]:
    """Run `work(0)` … `work(n - 1)` at the same moment in `n` threads; returns their results,
    or the exception a thread raised in its place (for the caller's assertions)."""
    barrier = threading.Barrier(n)
    results: list[Any] = [None] * n

    def run(i: int) -> None:
        try:
            barrier.wait()
            results[i] = work(i)
        except Exception as exc:  # surfaced by the caller's assertions
            results[i] = exc
        finally:
            connection.close()  # each thread's own connection

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results
