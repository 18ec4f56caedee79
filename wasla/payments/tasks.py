"""Celery tasks of the payment layer: webhook processing and the webhook sweeper.

Neither task retries through Celery (`self.retry`): a try that cannot finish schedules its next
one in the inbox row (`WebhookEvent.next_attempt_at`) and the sweeper queues it when due, so
every retry has exactly one scheduler and staff see it in the admin. The reasons are in
`wasla.payments.webhooks`. Both tasks are idempotent, which is what makes `acks_late` (redeliver
what a dead worker was running) safe.
"""

from __future__ import annotations

from celery import shared_task

from wasla.tenants.context import platform_access, tenant_context

from .models import WebhookEvent
from .webhooks import webhook_event_process, webhook_events_sweep


@shared_task(
    name="payments.process_webhook_event",
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
)
def process_webhook_event(event_pk: int, tenant_id: int | None = None) -> str:
    """Process one stored event in its tenant's scope (the tenant comes with the message)."""
    if tenant_id is None:
        # A message queued before the tenant travelled with it: found on the audited path.
        with platform_access(reason=f"webhook event {event_pk} queued without its tenant"):
            tenant_id = WebhookEvent.objects.values_list("tenant_id", flat=True).get(pk=event_pk)
    with tenant_context(tenant_id):
        return webhook_event_process(event_pk=event_pk)


@shared_task(name="payments.webhooks_sweep", ignore_result=True)
def webhooks_sweep() -> int:
    """Queue the `received` webhook events that are due (beat runs it every 30 s)."""
    return len(webhook_events_sweep())
