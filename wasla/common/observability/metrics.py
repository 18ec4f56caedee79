"""Prometheus metrics (prometheus-client).

Counters and histograms are counted where things happen, by one-line calls from the apps
(`payment_outcome`, `webhook_delivery`, `webhook_processing_timed`, `provider_call`, ...).
Gauges that need the database or the broker (webhook backlog and the age of the oldest
unprocessed event, the broker's queue length, invoices and ZATCA submissions by status,
circuit-breaker states) are read at scrape time by collectors the apps above register with
`scrape_collector_add` (see `wasla.dashboard.metrics`), never kept in a process.

Several processes (gunicorn workers, Celery workers): set PROMETHEUS_MULTIPROC_DIR to an empty
directory, the same for every process of one host and wiped at each start, before the processes
start (prometheus-client picks its storage when this module is imported). Each process then
writes its counters there and the scrape (`registry_for_scrape`) sums them across processes; a
gunicorn config calls `multiprocess.mark_process_dead(worker.pid)` in its `child_exit` hook.
Without it, each process serves its own counters (one process: the demo, runserver).
"""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, multiprocess
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

# Provider calls and webhook processing: from a few ms (local work) to the providers' 20 s
# read timeout.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0)

payments = Counter(
    "wasla_payments",
    "Payment attempts reaching a status, by provider, method and outcome (the status).",
    ["provider", "method", "outcome"],
)
webhooks_received = Counter(
    "wasla_webhooks_received", "Webhook deliveries to a known endpoint, by provider.", ["provider"]
)
webhooks_rejected = Counter(
    "wasla_webhooks_rejected",
    "Webhook deliveries turned away (bad signature, unusable body), by provider and reason.",
    ["provider", "reason"],
)
webhooks_processed = Counter(
    "wasla_webhooks_processed",
    "Webhook processing runs by the event's status afterwards (processed, ignored, received "
    "= retry scheduled, failed = given up, busy, missing).",
    ["status"],
)
webhooks_failed = Counter(
    "wasla_webhooks_failed",
    "Webhook processing runs that ended the event as failed, or raised.",
    [],
)
webhook_processing_seconds = Histogram(
    "wasla_webhook_processing_seconds",
    "Time to process one webhook event (one try), by its status afterwards.",
    ["status"],
    buckets=LATENCY_BUCKETS,
)
provider_call_seconds = Histogram(
    "wasla_provider_call_seconds",
    "Time of one outbound provider call (retries included), by provider and operation.",
    ["provider", "operation"],
    buckets=LATENCY_BUCKETS,
)
provider_call_errors = Counter(
    "wasla_provider_call_errors",
    "Outbound provider calls that raised, by provider, operation and error class.",
    ["provider", "operation", "error"],
)


def payment_outcome(*, provider: str, method: str, outcome: str) -> None:
    payments.labels(provider=provider, method=method, outcome=outcome).inc()


# What `wasla.payments.webhooks.inbox.Receipt` says of a delivery turned away.
_REJECTED_RECEIPTS = frozenset({"rejected", "unreadable"})


def webhook_delivery(*, provider: str, receipt: str) -> None:
    """One delivery to a known endpoint; `receipt` is the inbox's (accepted, duplicate,
    rejected, unreadable)."""
    webhooks_received.labels(provider=provider).inc()
    if receipt in _REJECTED_RECEIPTS:
        webhooks_rejected.labels(provider=provider, reason=receipt).inc()


F = TypeVar("F", bound=Callable[..., Any])


def webhook_processing_timed(func: F) -> F:
    """Decorator of the processing task: its duration and the status it returns."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        status = "error"
        try:
            status = str(func(*args, **kwargs))
            return status
        finally:
            webhook_processing_seconds.labels(status=status).observe(time.perf_counter() - started)
            webhooks_processed.labels(status=status).inc()
            if status in ("failed", "error"):
                webhooks_failed.inc()

    return wrapper  # type: ignore[return-value]


@contextmanager
def provider_call(provider: str, operation: str) -> Iterator[None]:
    """Time one outbound provider call; count it as an error when it raises."""
    started = time.perf_counter()
    try:
        yield
    except Exception as exc:
        provider_call_errors.labels(
            provider=provider, operation=operation, error=type(exc).__name__
        ).inc()
        raise
    finally:
        provider_call_seconds.labels(provider=provider, operation=operation).observe(
            time.perf_counter() - started
        )


# --- scrape --------------------------------------------------------------------------------

_scrape_collectors: list[Collector] = []


def scrape_collector_add(collector: Collector) -> None:
    """A collector read at each scrape (gauges computed from the database or the broker)."""
    if all(type(existing) is not type(collector) for existing in _scrape_collectors):
        _scrape_collectors.append(collector)


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


class _ProcessRegistry(Collector):
    """This process's own metrics (the default registry), when not in multiprocess mode."""

    def collect(self) -> Iterable[Metric]:
        return REGISTRY.collect()


def registry_for_scrape() -> CollectorRegistry:
    """What one scrape serves: every process's counters (multiprocess mode) or this one's, and
    the scrape-time collectors."""
    registry = CollectorRegistry(auto_describe=False)
    if multiprocess_dir():
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        registry.register(_ProcessRegistry())
    for collector in _scrape_collectors:
        registry.register(collector)
    return registry
