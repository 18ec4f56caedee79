"""The fault-and-load suite (`make chaos`; `make test` runs a bounded sample): the production
stack (scripts/stack.py) on a private PostgreSQL cluster and Redis (chaos/cluster.py), with
workers killed, PostgreSQL restarted, Redis stopped and the providers failing."""

from __future__ import annotations

import os

# What the chaos tests did (kills, restarts, totals), printed at the end of the run by
# chaos/conftest.py's terminal summary, so `make chaos` shows it without `-s`.
REPORT: list[str] = []


def report(line: str) -> None:
    """Add a line to the chaos summary (and print it, for `-s` runs and failing tests)."""
    REPORT.append(line)
    print(f"[chaos] {line}", flush=True)


def chaos_full() -> bool:
    """The full run (`make chaos`), as opposed to the bounded sample `make test` runs."""
    return os.environ.get("WASLA_CHAOS_FULL", "") not in ("", "0")
