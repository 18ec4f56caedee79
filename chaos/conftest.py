"""The chaos suite's fixtures and its summary. Every test under chaos/ carries the `chaos`
marker (`make chaos` runs them in full with WASLA_CHAOS_FULL=1; `make test` runs the bounded
sample). The private PostgreSQL cluster and Redis come from chaos/cluster.py."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from chaos import REPORT
from chaos.cluster import pg_cluster, redis_server

__all__ = ["pg_cluster", "redis_server"]

HERE = Path(__file__).resolve().parent


def chaos_full() -> bool:
    """The full run (`make chaos`), as opposed to the bounded sample `make test` runs."""
    return os.environ.get("WASLA_CHAOS_FULL", "") not in ("", "0")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.chaos)


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:  # type: ignore[no-untyped-def]
    if not REPORT:
        return
    mode = "full run" if chaos_full() else "bounded sample (WASLA_CHAOS_FULL=1 for the full run)"
    terminalreporter.section(f"chaos: {mode}")
    for line in REPORT:
        terminalreporter.write_line(line)
