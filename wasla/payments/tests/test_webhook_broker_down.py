"""Webhook ingestion with the broker down or hung: the delivery is accepted from PostgreSQL
alone, answered in seconds, and processed once the sweeper can queue it again. Real Redis;
Celery is reconfigured to publish for real."""

from __future__ import annotations

import socket
import time

import pytest
from django.utils import timezone

from wasla.payments.models import WebhookEvent
from wasla.payments.tasks import process_webhook_event
from wasla.payments.webhooks.sweep import webhook_events_sweep
from wasla.settlement.models import SettlementRecord

from .celery_broker import celery_publishing, free_port, queued_event_ids
from .webhook_deliveries import (
    post_stripe,
    stripe_paid_delivery,
)

# --- Broker down ----------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_webhooks_are_accepted_with_redis_down_and_processed_once_it_is_back(
    stripe_config, settings, broker_queue
):
    attempt, body, signature = stripe_paid_delivery(stripe_config)
    with celery_publishing(f"redis://127.0.0.1:{free_port()}/0", queue=broker_queue):
        started = time.monotonic()
        response = post_stripe(stripe_config, body, signature)
        assert time.monotonic() - started < 3
        assert response.status_code == 200
        assert response.json() == {"status": "accepted"}
        event = WebhookEvent.objects.get()
        assert (event.status, event.attempts) == ("received", 0)
        assert event.error.startswith("not queued: OperationalError")
        assert event.next_attempt_at <= timezone.now()
        # The sweeper cannot queue it either: it stays due.
        assert webhook_events_sweep() == []
        event.refresh_from_db()
        assert event.status == "received"
        assert event.next_attempt_at <= timezone.now()
    attempt.refresh_from_db()
    assert attempt.status == "pending"

    broker = settings.CELERY_BROKER_URL
    with celery_publishing(broker, queue=broker_queue):
        assert webhook_events_sweep() == [event.pk]
        assert webhook_events_sweep() == []  # queued: leased, not sent twice
    # What a worker takes off the queue, it runs.
    for event_pk in queued_event_ids(broker, broker_queue):
        process_webhook_event.apply(args=[event_pk])

    event.refresh_from_db()
    assert (event.status, event.attempts) == ("processed", 1)
    attempt.refresh_from_db()
    assert attempt.status == "paid"
    assert SettlementRecord.objects.filter(payment_attempt=attempt).count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_hung_broker_delays_the_answer_by_seconds_not_minutes(stripe_config, broker_queue):
    """A broker that accepts the connection and never answers (failover, a dead NAT entry)."""
    attempt, body, signature = stripe_paid_delivery(stripe_config)
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)
    try:
        url = f"redis://127.0.0.1:{silent.getsockname()[1]}/0"
        with celery_publishing(url, queue=broker_queue):
            started = time.monotonic()
            response = post_stripe(stripe_config, body, signature)
            elapsed = time.monotonic() - started
    finally:
        silent.close()
    assert response.status_code == 200
    assert elapsed < 15
    event = WebhookEvent.objects.get()
    assert event.status == "received"
    assert event.error.startswith("not queued")
    assert webhook_events_sweep(inline=True) == [event.pk]
    attempt.refresh_from_db()
    assert attempt.status == "paid"
