"""Celery tasks of the payment layer, found here by Celery's autodiscovery.

- `payments.process_webhook_event` lives next to the helper that queues it, in
  `wasla.payments.webhooks.tasks`; it is imported here so that the worker registers it.
- `payments.webhooks_sweep` (beat, every WASLA_WEBHOOK_SWEEP_INTERVAL_SECONDS) re-drives the
  `received` webhook events that are due. It lives here because the sweeper queues through the
  processing task's module: the imports run one way, from this module into the webhooks package.

Neither task retries through Celery (`self.retry`): retries are scheduled in the inbox table
(`wasla.payments.webhooks.retry` says why). Both are idempotent, which is what makes
`acks_late` (redeliver what a dead worker was running) safe.
"""

from __future__ import annotations

from celery import shared_task

from .webhooks.sweep import webhook_events_sweep
from .webhooks.tasks import process_webhook_event

__all__ = ["process_webhook_event", "webhooks_sweep"]


@shared_task(name="payments.webhooks_sweep", ignore_result=True)
def webhooks_sweep() -> int:
    """Queue the `received` webhook events that are due (beat runs it every 30 s)."""
    return len(webhook_events_sweep())
