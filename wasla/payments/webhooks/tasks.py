"""The Celery task that processes one stored webhook event, and the helper that queues it.

This module imports only `processing`: the inbox and the sweeper queue through it, and the
sweeper's own task lives in `wasla.payments.tasks`, so no import runs in a circle.

The task does not retry through Celery (`self.retry`): a try that cannot finish schedules its
next one in the inbox row (`WebhookEvent.next_attempt_at`, see `retry`) and the sweeper queues it
when due, so every retry has exactly one scheduler and staff see it in the admin. Processing is
idempotent, which is what makes `acks_late` (redeliver what a dead worker was running) safe.
"""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import DatabaseError
from django.utils import timezone

from wasla.common.observability.logs import log_context_from
from wasla.common.observability.metrics import webhook_processing_timed
from wasla.tenants.context import platform_access, tenant_context

from ..models import WebhookEvent
from .processing import webhook_event_process

logger = logging.getLogger(__name__)


@shared_task(
    name="payments.process_webhook_event",
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
)
@webhook_processing_timed  # metrics: latency and outcome
@log_context_from(webhook_event="event_pk")
def process_webhook_event(event_pk: int, tenant_id: int | None = None) -> str:
    """Process one stored event in its tenant's scope (the tenant comes with the message)."""
    if tenant_id is None:
        # A message queued before the tenant travelled with it: found on the audited path.
        with platform_access(reason=f"webhook event {event_pk} queued without its tenant"):
            tenant_id = WebhookEvent.objects.values_list("tenant_id", flat=True).get(pk=event_pk)
    with tenant_context(tenant_id):
        return webhook_event_process(event_pk=event_pk)


@log_context_from(webhook_event="event_pk")  # the message carries the event's id (logs)
def webhook_event_enqueue(*, event_pk: int, tenant_id: int) -> bool:
    """Queue one event for processing; False when the broker would not take it.

    Never raises: the event is already safe in the inbox. A refused one is made due at once,
    so the next sweep (which needs only the database with `--inline`) picks it up.
    """
    try:
        # The tenant travels with the message: the worker works in its scope from the start.
        process_webhook_event.delay(event_pk, tenant_id)
    except Exception as exc:  # kombu OperationalError, redis errors, socket timeouts, ...
        logger.warning(
            "webhook %s not queued, the sweeper will re-drive it: %s: %s",
            event_pk,
            type(exc).__name__,
            exc,
        )
        try:
            with tenant_context(tenant_id):
                WebhookEvent.objects.filter(
                    pk=event_pk, status=WebhookEvent.Status.RECEIVED
                ).update(
                    next_attempt_at=timezone.now(),
                    error=f"not queued: {type(exc).__name__}: {exc}",
                )
        except DatabaseError:
            logger.exception("webhook %s: could not record the queueing failure", event_pk)
        return False
    return True
