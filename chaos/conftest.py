"""The chaos suite's fixtures and its summary. Every test under chaos/ carries the `chaos`
marker (`make chaos` runs them in full with WASLA_CHAOS_FULL=1; `make test` runs the bounded
sample). The private PostgreSQL cluster and Redis come from chaos/cluster.py."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from chaos import REPORT, chaos_full
from chaos.cluster import VAR, PostgresCluster, RedisServer, pg_cluster, redis_server
from chaos.deliveries import CountingProxy, tap_knobs_reset
from chaos.faults import Faults
from chaos.harness import ChaosStack

__all__ = ["pg_cluster", "redis_server"]

HERE = Path(__file__).resolve().parent


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


# The product on a short clock, so a chaos run sees retries, sweeps and redeliveries within
# seconds, not minutes (the same settings production reads; only the numbers differ).
FAST_CLOCK = {
    "WASLA_WEBHOOK_SWEEP_INTERVAL_SECONDS": "2",
    "WASLA_WEBHOOK_SWEEP_STALE_SECONDS": "5",
    "WASLA_WEBHOOK_SWEEP_LEASE_SECONDS": "10",
    "WASLA_WEBHOOK_RETRY_BASE_SECONDS": "1",
    "WASLA_WEBHOOK_RETRY_MAX_SECONDS": "5",
    "WASLA_WEBHOOK_MAX_ATTEMPTS": "30",
    "CELERY_BROKER_VISIBILITY_TIMEOUT": "10",
    # Long enough that no half-open trial call falls inside test_degraded's open-circuit probes.
    "WASLA_CIRCUIT_RESET_TIMEOUT": "20",
    "WASLA_CHAOS_PROVIDER_READ_TIMEOUT": "1.5",
}
# Every client of the suite (hundreds of payments, the load run's users, the fuzz) comes from
# 127.0.0.1, where production's limits per address and per token would answer 429 to what is
# meant as many shops and shoppers. The limits themselves are shown by
# wasla/common/tests/test_ratelimit.py and payments/tests/test_webhook_rate_limits.py.
MANY_CLIENTS = {
    "WASLA_RATE_LIMIT_API_TOKEN": "100000/m",
    "WASLA_RATE_LIMIT_API_IP": "100000/m",
    "WASLA_RATE_LIMIT_WEBHOOK_IP": "100000/m",
    "WASLA_RATE_LIMIT_LOGIN_IP": "10000/m",
}


@pytest.fixture(scope="session")
def chaos_faults(tmp_path_factory: pytest.TempPathFactory) -> Faults:
    """The crash points' arming directory, shared with the stack's processes."""
    return Faults(tmp_path_factory.mktemp("chaos-faults"))


@pytest.fixture(scope="session")
def tap_proxy() -> Iterator[CountingProxy]:
    """Between the product and the Tap simulator: counts every call the product makes."""
    proxy = CountingProxy()
    yield proxy
    proxy.close()


@pytest.fixture(scope="session")
def chaos_stack(
    pg_cluster: PostgresCluster,
    redis_server: RedisServer,
    chaos_faults: Faults,
    tap_proxy: CountingProxy,
) -> Iterator[ChaosStack]:
    """The stack under chaos settings (crash points armed through `chaos_faults`), on the
    private cluster and Redis, reaching Tap through `tap_proxy`."""
    extra_env = {
        **FAST_CLOCK,
        **MANY_CLIENTS,
        **chaos_faults.env,
        "WASLA_TAP_SANDBOX_URL": f"{tap_proxy.url}/sandbox/tap",
    }
    # Under var/ (not pytest's private temporary directory): pgbouncer and nginx's workers run
    # as `nobody` when we are root, and must reach their files.
    work_dir = VAR / f"stack-{os.getpid()}"
    shutil.rmtree(work_dir, ignore_errors=True)
    work_dir.mkdir(parents=True)
    stack = ChaosStack(
        cluster=pg_cluster,
        redis=redis_server,
        database="chaos_stack",
        work_dir=work_dir,
        extra_env=extra_env,
    )
    try:
        stack.start()
        tap_proxy.upstream = stack.sandbox_url
        yield stack
    finally:
        stack.stop()
        if not os.environ.get("WASLA_CHAOS_KEEP"):
            shutil.rmtree(work_dir, ignore_errors=True)


@pytest.fixture
def tap_knobs_restored(chaos_stack: ChaosStack) -> Iterator[None]:
    """The Tap simulator's fault knobs back to their defaults after the test (the stack is
    shared by the whole session)."""
    yield
    tap_knobs_reset(chaos_stack.sandbox_url)
