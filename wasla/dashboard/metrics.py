"""The Prometheus gauges read at scrape time, across every tenant (one audited
`platform_access` per scrape, actor "metrics"): the webhook inbox's backlog and the age of its
oldest unprocessed event, the broker queue's length, invoices and ZATCA submissions by status,
and the circuit breakers of the active gateways by provider and state. Registered with
`wasla.common.observability.metrics` when the app is ready; a part that cannot be read (the
broker down, the cache down) is reported in `wasla_scrape_errors` and the others still are."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from types import SimpleNamespace
from typing import cast

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Min
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from wasla.common.health import broker_connection
from wasla.invoicing.models import Invoice
from wasla.invoicing.zatca.models import ZatcaDocument
from wasla.payments.models import PaymentGatewayConfig, WebhookEvent
from wasla.payments.orchestrator import circuit_name
from wasla.payments.resilience import CircuitState, circuits_read
from wasla.tenants.context import platform_access


def _webhooks() -> Iterator[Metric]:
    backlog = GaugeMetricFamily(
        "wasla_webhook_backlog",
        "Webhook events stored and not yet processed (status received), by provider.",
        labels=["provider"],
    )
    oldest = GaugeMetricFamily(
        "wasla_webhook_oldest_unprocessed_age_seconds",
        "Age of the oldest webhook event not yet processed (0 when there is none).",
    )
    rows = (
        WebhookEvent.objects.filter(status=WebhookEvent.Status.RECEIVED, signature_valid=True)
        .values("provider")
        .annotate(n=Count("pk"), first=Min("received_at"))
    )
    first = None
    for row in rows:
        backlog.add_metric([row["provider"]], row["n"])
        first = row["first"] if first is None else min(first, row["first"])
    oldest.add_metric([], (timezone.now() - first).total_seconds() if first else 0.0)
    yield backlog
    yield oldest


def _by_status(name: str, documentation: str, rows: Iterable[tuple[str, int]]) -> Metric:
    family = GaugeMetricFamily(name, documentation, labels=["status"])
    for status, n in rows:
        family.add_metric([status], n)
    return family


def _invoicing() -> Iterator[Metric]:
    yield _by_status(
        "wasla_invoices",
        "Invoices by status.",
        Invoice.objects.values_list("status").annotate(n=Count("pk")).order_by("status"),
    )
    yield _by_status(
        "wasla_zatca_submissions",
        "ZATCA documents (clearance submissions) by status.",
        ZatcaDocument.objects.values_list("status").annotate(n=Count("pk")).order_by("status"),
    )


def _circuits() -> Iterator[Metric]:
    family = GaugeMetricFamily(
        "wasla_circuit_breakers",
        "Circuit breakers of the active gateways, by provider and state (closed, open, half_open).",
        labels=["provider", "state"],
    )
    configs = PaymentGatewayConfig.objects.filter(is_active=True).values_list(
        "tenant_id", "provider", "mode", "webhook_token"
    )
    names = {
        circuit_name(
            cast(
                PaymentGatewayConfig,
                SimpleNamespace(tenant_id=tenant_id, provider=provider, mode=mode, webhook_token=t),
            )
        ): provider
        for tenant_id, provider, mode, t in configs
    }
    states = circuits_read(list(names))
    counts = Counter((provider, states[name][0]) for name, provider in names.items())
    for provider in sorted(set(names.values())):
        for state in (CircuitState.CLOSED, CircuitState.OPEN, CircuitState.HALF_OPEN):
            family.add_metric([provider, state], counts[(provider, state)])
    yield family


def _broker() -> Iterator[Metric]:
    family = GaugeMetricFamily(
        "wasla_queue_backlog", "Messages waiting in the Celery broker's queue.", labels=["queue"]
    )
    if not settings.CELERY_TASK_ALWAYS_EAGER:
        queue = settings.CELERY_TASK_DEFAULT_QUEUE
        with broker_connection() as conn:
            _, waiting, _ = conn.default_channel.queue_declare(queue=queue, passive=True)
        family.add_metric([queue], waiting)
    yield family


PARTS: dict[str, Callable[[], Iterator[Metric]]] = {
    "webhooks": _webhooks,
    "invoicing": _invoicing,
    "circuits": _circuits,
    "broker": _broker,
}
DATABASE_PARTS = ("webhooks", "invoicing", "circuits")


class PlatformCollector(Collector):
    """The scrape-time gauges; each part is read on its own, so one outage hides only its own."""

    def collect(self) -> Iterable[Metric]:
        errors = GaugeMetricFamily(
            "wasla_scrape_errors",
            "1 when a part of the scrape-time gauges could not be read this scrape.",
            labels=["part"],
        )
        metrics: list[Metric] = []
        failed: set[str] = set()
        try:
            with platform_access(reason="metrics scrape", actor="metrics"), transaction.atomic():
                for part in DATABASE_PARTS:
                    try:
                        with transaction.atomic():  # a savepoint: one failing query spares the rest
                            metrics.extend(PARTS[part]())
                    except Exception:
                        failed.add(part)
        except Exception:  # the database itself is down
            failed.update(DATABASE_PARTS)
        try:
            metrics.extend(_broker())
        except Exception:
            failed.add("broker")
        for part in PARTS:
            errors.add_metric([part], 1 if part in failed else 0)
        return [*metrics, errors]
