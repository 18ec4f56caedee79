"""Prometheus metrics: the endpoint is not public (404 without a token configured, 401 without
it sent), the counters move where things happen (payments, webhooks, provider calls), the
scrape-time gauges read the database, the cache and the broker, and several processes' counters
add up in multiprocess mode."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from django.test import Client
from django.utils import timezone
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from config.celery import app as celery_app
from testsupport.billing import issued_invoice
from testsupport.factories import make_tap_config
from testsupport.payments import paid_payment
from wasla.common.observability.metrics import registry_for_scrape
from wasla.payments.models import WebhookEvent
from wasla.payments.orchestrator import PaymentOrchestrator
from wasla.payments.providers.base import ProviderUnreachable
from wasla.payments.tests.celery_broker import celery_publishing, free_port, own_queue
from wasla.payments.webhooks.tasks import process_webhook_event

TOKEN = "metrics-test-token-5f1e"


def _value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def _gauge(name: str, **labels: str) -> float | None:
    for family in registry_for_scrape().collect():
        for sample in family.samples:
            if sample.name == name and sample.labels == labels:
                return float(sample.value)
    return None


@pytest.mark.django_db
def test_the_endpoint_does_not_exist_without_a_token_configured(settings):
    settings.WASLA_METRICS_TOKEN = ""
    assert Client().get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 404


@pytest.mark.django_db
def test_the_endpoint_answers_only_its_bearer_token(settings):
    settings.WASLA_METRICS_TOKEN = TOKEN
    client = Client()
    for headers in ({}, {"HTTP_AUTHORIZATION": "Bearer wrong"}, {"HTTP_AUTHORIZATION": TOKEN}):
        answer = client.get("/metrics", **headers)
        assert answer.status_code == 401
        assert answer["Content-Type"] == "application/problem+json"
        assert b"wasla_" not in answer.content
    answer = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert answer.status_code == 200
    assert answer["Content-Type"].startswith("text/plain; version=")
    names = {family.name for family in text_string_to_metric_families(answer.content.decode())}
    assert {
        "wasla_payments",
        "wasla_webhooks_received",
        "wasla_webhook_processing_seconds",
        "wasla_provider_call_seconds",
        "wasla_webhook_backlog",
        "wasla_webhook_oldest_unprocessed_age_seconds",
        "wasla_invoices",
        "wasla_zatca_submissions",
        "wasla_queue_backlog",
        "wasla_scrape_errors",
    } <= names
    assert client.post("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 405


@pytest.mark.django_db
def test_a_payment_is_counted_by_provider_method_and_outcome_once_committed(
    tenant, django_capture_on_commit_callbacks
):
    labels = {"provider": "tap", "method": "mada", "outcome": "paid"}
    before = _value("wasla_payments_total", **labels)
    with django_capture_on_commit_callbacks(execute=True):
        paid_payment(tenant)
    assert _value("wasla_payments_total", **labels) == before + 1


@pytest.mark.django_db
def test_webhook_deliveries_rejections_and_processing_are_counted(tenant):
    config = make_tap_config(tenant)
    received = _value("wasla_webhooks_received_total", provider="tap")
    rejected = _value("wasla_webhooks_rejected_total", provider="tap", reason="rejected")
    answer = Client().post(
        f"/webhooks/tap/{config.webhook_token}/",
        data=json.dumps({"id": "chg_forged", "object": "charge"}),
        content_type="application/json",
        HTTP_HASHSTRING="forged",
    )
    assert answer.status_code == 401
    assert _value("wasla_webhooks_received_total", provider="tap") == received + 1
    assert (
        _value("wasla_webhooks_rejected_total", provider="tap", reason="rejected") == rejected + 1
    )

    runs = _value("wasla_webhooks_processed_total", status="missing")
    timed = _value("wasla_webhook_processing_seconds_count", status="missing")
    assert process_webhook_event(2_000_000_000, tenant.pk) == "missing"
    assert _value("wasla_webhooks_processed_total", status="missing") == runs + 1
    assert _value("wasla_webhook_processing_seconds_count", status="missing") == timed + 1


@pytest.mark.django_db
def test_provider_calls_are_timed_their_errors_counted_and_the_open_circuit_scraped(
    tenant, settings
):
    settings.WASLA_PROVIDER_RETRY = {**settings.WASLA_PROVIDER_RETRY, "attempts": 1}
    settings.WASLA_PROVIDER_BASE_URLS = {
        **settings.WASLA_PROVIDER_BASE_URLS,
        "tap": {"sandbox": f"http://127.0.0.1:{free_port()}", "live": "https://api.tap.company"},
    }
    config = make_tap_config(tenant)
    op = {"provider": "tap", "operation": "verify_payment"}
    calls = _value("wasla_provider_call_seconds_count", **op)
    errors = sum(
        _value("wasla_provider_call_errors_total", **op, error=name)
        for name in ("ProviderUnreachable", "CircuitOpen")
    )
    threshold = settings.WASLA_CIRCUIT_BREAKER["failure_threshold"]
    for _ in range(threshold + 1):
        with pytest.raises(ProviderUnreachable):
            PaymentOrchestrator().verify_payment(config, "chg_nowhere")
    assert _value("wasla_provider_call_seconds_count", **op) == calls + threshold + 1
    assert _value("wasla_provider_call_errors_total", **op, error="CircuitOpen") >= 1
    assert (
        sum(
            _value("wasla_provider_call_errors_total", **op, error=name)
            for name in ("ProviderUnreachable", "CircuitOpen")
        )
        == errors + threshold + 1
    )
    assert _gauge("wasla_circuit_breakers", provider="tap", state="open") == 1
    assert _gauge("wasla_circuit_breakers", provider="tap", state="closed") == 0


@pytest.mark.django_db
def test_backlog_oldest_event_invoices_and_zatca_are_read_at_scrape(tenant):
    config = make_tap_config(tenant)
    for n, age in enumerate((timedelta(hours=2), timedelta(minutes=1))):
        event = WebhookEvent.objects.create(
            tenant=tenant,
            gateway_config=config,
            provider="tap",
            event_id=f"evt_{n}",
            body="{}",
            signature_valid=True,
        )
        WebhookEvent.objects.filter(pk=event.pk).update(received_at=timezone.now() - age)
    WebhookEvent.objects.create(  # processed: not backlog
        tenant=tenant,
        gateway_config=config,
        provider="tap",
        event_id="evt_done",
        body="{}",
        signature_valid=True,
        status=WebhookEvent.Status.PROCESSED,
    )
    issued_invoice()

    assert _gauge("wasla_webhook_backlog", provider="tap") == 2
    oldest = _gauge("wasla_webhook_oldest_unprocessed_age_seconds")
    assert oldest is not None
    assert 2 * 3600 <= oldest < 3 * 3600
    assert _gauge("wasla_invoices", status="issued") == 1
    assert _gauge("wasla_scrape_errors", part="webhooks") == 0
    assert _gauge("wasla_scrape_errors", part="broker") == 0


@pytest.mark.django_db
def test_the_broker_queue_backlog_is_scraped_and_a_dead_broker_reported(settings):
    with (
        own_queue(settings.CELERY_BROKER_URL) as queue,
        celery_publishing(settings.CELERY_BROKER_URL, queue=queue),
    ):
        for _ in range(3):
            celery_app.send_task("tests.nothing", args=[uuid.uuid4().hex])
        # What the collector reads: Django's settings of a deployment with a broker. Changed
        # only now: `celery_publishing` puts back the eager setting it found on entry, which
        # must be the suite's (True), or every later test would publish for real.
        settings.CELERY_TASK_ALWAYS_EAGER = False
        settings.CELERY_TASK_DEFAULT_QUEUE = queue
        assert _gauge("wasla_queue_backlog", queue=queue) == 3
        settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{free_port()}/2"
        assert _gauge("wasla_scrape_errors", part="broker") == 1
        assert _gauge("wasla_scrape_errors", part="webhooks") == 0
    assert celery_app.conf.task_always_eager  # the suite's inline tasks are back


_CHILD = """
import sys
from wasla.common.observability import metrics
for _ in range(int(sys.argv[1])):
    metrics.webhook_delivery(provider="tap", receipt="rejected")
"""


def test_multiprocess_mode_adds_up_every_process(tmp_path: Path):
    """Two processes count into PROMETHEUS_MULTIPROC_DIR; a third's scrape sums them."""
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    for count in ("2", "3"):
        subprocess.run([sys.executable, "-c", _CHILD, count], env=env, check=True, timeout=60)
    scrape = (
        "from wasla.common.observability.metrics import registry_for_scrape\n"
        "from prometheus_client import generate_latest\n"
        "print(generate_latest(registry_for_scrape()).decode())\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", scrape],
        env=env,
        check=True,
        timeout=60,
        capture_output=True,
        text=True,
    ).stdout
    samples = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(out)
        for sample in family.samples
    }
    assert samples[("wasla_webhooks_received_total", (("provider", "tap"),))] == 5
    assert (
        samples[("wasla_webhooks_rejected_total", (("provider", "tap"), ("reason", "rejected")))]
        == 5
    )
