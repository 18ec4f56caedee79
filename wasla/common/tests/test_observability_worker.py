"""The log context crosses the broker: a webhook delivered with an X-Request-ID is queued for
real (Redis) and processed by a real `celery -A config worker` process, whose JSON log lines
name that request id, the webhook event, the tenant and the task. Select with `-m
celery_worker` (about 10-20 s)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from sandbox.tap_sim.signing import tap_hashstring
from wasla.payments.models import WebhookEvent
from wasla.payments.providers.tap import loads
from wasla.payments.tests.celery_broker import celery_publishing, own_queue
from wasla.payments.tests.test_worker_crash import Workers, _database_url
from wasla.payments.tests.webhook_deliveries import sandbox_charge, tap_paid_at_sandbox

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]

REQUEST_ID = "obs-worker-trace-0001"


def test_a_worker_logs_with_the_request_id_and_event_the_message_carried(
    sandbox, tenant, tap_config, settings, tmp_path: Path
):
    attempt = tap_paid_at_sandbox(sandbox, tenant)
    body = sandbox_charge(sandbox, tap_config, attempt.provider_reference)
    with own_queue(settings.CELERY_BROKER_URL) as queue:
        with celery_publishing(settings.CELERY_BROKER_URL, queue=queue):
            answer = Client().post(
                reverse("webhook", kwargs={"provider": "tap", "token": tap_config.webhook_token}),
                body,
                content_type="application/json",
                HTTP_HASHSTRING=tap_hashstring(loads(body), tap_config.secret_key),
                HTTP_X_REQUEST_ID=REQUEST_ID,
            )
        assert answer.json() == {"status": "accepted"}
        assert answer["X-Request-ID"] == REQUEST_ID
        event = WebhookEvent.objects.get(signature_valid=True)

        workers = Workers(
            tmp_path,
            {
                **os.environ,
                "DJANGO_SETTINGS_MODULE": "config.settings.test",
                "DATABASE_URL": _database_url(),
                "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
                "CELERY_TASK_ALWAYS_EAGER": "0",
                "WASLA_TAP_SANDBOX_URL": f"{sandbox}/sandbox/tap",
                "WASLA_LOG_FORMAT": "json",
            },
        )
        try:
            workers.start(pool="solo", queue=queue)
            deadline = time.monotonic() + 40
            while time.monotonic() < deadline:
                if WebhookEvent.objects.get(pk=event.pk).status != "received":
                    break
                time.sleep(0.2)
        finally:
            workers.stop_all()
    assert WebhookEvent.objects.get(pk=event.pk).status == "processed", workers.logs()

    lines = []
    for path in tmp_path.glob("*.log"):
        for raw in path.read_text(errors="replace").splitlines():
            if raw.startswith("{"):
                lines.append(json.loads(raw))
    carried = [line for line in lines if line.get("request_id") == REQUEST_ID]
    assert carried, workers.logs()
    assert all(line["webhook_event"] == str(event.pk) for line in carried)
    assert {line.get("task") for line in carried} == {"payments.process_webhook_event"}
    assert all(line["tenant"] == str(tenant.pk) for line in carried)
