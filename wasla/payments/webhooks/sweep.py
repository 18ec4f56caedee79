"""The sweeper, which re-drives `received` events that are due, and staff replay.

The sweeper (`payments.webhooks_sweep` every 30 s from beat, or `manage.py webhooks_sweep`)
queues again whatever is due — a retry whose time has come, a delivery the broker refused — and
whatever has sat `received` too long with nothing scheduled (a message lost with its broker).
Staff replay `failed` and `ignored` verified events from the admin.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from functools import partial

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from wasla.tenants.context import platform_access, tenant_context

from ..models import WebhookEvent
from .outcomes import error_clip, history_append
from .processing import webhook_event_process
from .retry import WebhookRetryPolicy
from .tasks import webhook_event_enqueue

logger = logging.getLogger(__name__)

Status = WebhookEvent.Status
REPLAYABLE = (Status.FAILED, Status.IGNORED)


def webhook_events_sweep(
    *,
    inline: bool = False,
    limit: int | None = None,
    stale_after: timedelta | None = None,
) -> list[int]:
    """Re-drive `received` events that are due: their `next_attempt_at` has come, or they have
    sat longer than `stale_after` with nothing scheduled. Returns their ids.

    Each batch is claimed in a short transaction, `SELECT … FOR UPDATE SKIP LOCKED`, which also
    pushes `next_attempt_at` one lease ahead: two sweepers running at once never take the same
    event, and the next sweep leaves it alone while it is queued or running. Then each event is
    queued (or, with `inline`, processed here, which needs only the database). Processing is
    idempotent, so an event queued twice anyway (a late broker redelivery) is harmless.
    """
    policy = WebhookRetryPolicy.from_settings()
    stale = stale_after if stale_after is not None else timedelta(seconds=policy.stale_after)
    # Due as of the start of this sweep: whatever it reschedules (a lease, a retry after a
    # failed inline try) lands later, so no event is taken twice by one sweep.
    started = timezone.now()
    due = Q(next_attempt_at__lte=started) | Q(
        next_attempt_at__isnull=True, received_at__lte=started - stale
    )
    candidates = WebhookEvent.objects.filter(due, status=Status.RECEIVED, signature_valid=True)
    swept: list[int] = []
    # Claiming across tenants is the platform's job; each event is then worked in (or queued
    # with) its own tenant's scope.
    with platform_access(reason="webhook sweep"):
        while limit is None or len(swept) < limit:
            size = (
                policy.sweep_batch if limit is None else min(policy.sweep_batch, limit - len(swept))
            )
            with transaction.atomic():
                batch = list(
                    candidates.select_for_update(skip_locked=True)
                    .order_by("pk")
                    .values_list("pk", "tenant_id")[:size]
                )
                WebhookEvent.objects.filter(pk__in=[pk for pk, _ in batch]).update(
                    next_attempt_at=timezone.now() + timedelta(seconds=policy.lease)
                )
            for position, (pk, tenant_id) in enumerate(batch):
                if inline:
                    with tenant_context(tenant_id):
                        webhook_event_process(event_pk=pk)
                elif not webhook_event_enqueue(event_pk=pk, tenant_id=tenant_id):
                    # The broker is down: give back what this sweep claimed but could not send.
                    unsent = [pk for pk, _ in batch[position:]]
                    WebhookEvent.objects.filter(pk__in=unsent, status=Status.RECEIVED).update(
                        next_attempt_at=timezone.now()
                    )
                    swept.extend(pk for pk, _ in batch[:position])
                    logger.warning("webhook sweep stopped: the broker refused %s", pk)
                    return swept
            swept.extend(pk for pk, _ in batch)
            if len(batch) < size:
                break
    if swept:
        logger.info("webhook sweep re-drove %s events%s", len(swept), " inline" if inline else "")
    return swept


def webhook_event_replay(*, event_pk: int, actor: str) -> bool:
    """Staff's second chance for a verified `failed` or `ignored` event: back to `received`
    with a fresh retry budget, and queued once this transaction commits. The attempts made so
    far stay counted, and the outcome being replaced goes to the history. Rejected deliveries
    (bad signature) are never replayed: nothing in them can be trusted. False when the event
    is not replayable."""
    with transaction.atomic():
        event = (
            WebhookEvent.objects.select_for_update()
            .filter(pk=event_pk, signature_valid=True, status__in=REPLAYABLE)
            .first()
        )
        if event is None:
            return False
        now = timezone.now()
        history_append(
            event=event,
            entry={
                "at": now.isoformat(),
                "attempt": event.attempts,
                "outcome": f"replayed by {actor}",
                "error": error_clip(f"was {event.status}: {event.error}"),
            },
        )
        event.status = Status.RECEIVED
        event.error = ""
        event.attempts_at_replay = event.attempts
        event.next_attempt_at = None
        event.processed_at = None
        event.save(
            update_fields=[
                "status",
                "error",
                "attempts_at_replay",
                "next_attempt_at",
                "processed_at",
                "error_history",
            ]
        )
        logger.info("webhook %s replayed by %s", event_pk, actor)
        transaction.on_commit(
            partial(webhook_event_enqueue, event_pk=event_pk, tenant_id=event.tenant_id)
        )
    return True
