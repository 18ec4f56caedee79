"""How one try of a webhook event ends, recorded on its locked row.

Why a try can fail, and where it ends:
- the provider is unreachable (timeouts included): retried, `failed` after the last attempt;
- the event is about something not here yet (`EventNotReady`: a refund overtaking its payment, a
  payment event for an attempt we cannot find yet) — parked: retried, `ignored` with the reason
  after the last attempt;
- anything unexpected (a bug, bad data): the traceback is kept, retried a few times, `failed`.
A body that no longer parses is `failed` at once: it will not parse better later.

`error` holds the last reason; `error_history` keeps every failed try, replay and give-up,
bounded to the newest entries and each entry to its start and end, so a flapping event cannot
grow its row without limit.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from ..models import WebhookEvent
from .retry import WebhookRetryPolicy

logger = logging.getLogger(__name__)

HISTORY_LIMIT = 50  # entries of `error_history` kept per event, the newest
HISTORY_ERROR_LIMIT = 2000  # characters of one error kept in the history (its start and end)

Status = WebhookEvent.Status


def event_retry_later(*, event_pk: int, error: str, limit: int, exhausted: Status) -> str:
    """Schedule the next try after backoff, or end the event as `exhausted` once `limit` tries
    are spent. Returns the event's status afterwards."""
    policy = WebhookRetryPolicy.from_settings()
    with transaction.atomic():
        event = WebhookEvent.objects.select_for_update().filter(pk=event_pk).first()
        if event is None or event.status != Status.RECEIVED:
            return event.status if event is not None else "missing"  # another run finished it
        tries = event.attempts - event.attempts_at_replay
        if tries >= limit:
            logger.warning(
                "webhook %s %s after %s attempts: %s", event_pk, exhausted, tries, _headline(error)
            )
            event_outcome_record(
                event=event,
                status=exhausted,
                error=f"gave up after {tries} attempts: {error}",
                terminal=True,
            )
        else:
            due = timezone.now() + policy.delay(tries)
            logger.info("webhook %s retried at %s: %s", event_pk, due.isoformat(), _headline(error))
            event_outcome_record(
                event=event, status=Status.RECEIVED, error=error, terminal=False, due=due
            )
        return event.status


def event_give_up(*, event_pk: int, status: Status, error: str) -> str:
    """End a `received` event as `status` at once (no retry will help)."""
    with transaction.atomic():
        event = WebhookEvent.objects.select_for_update().filter(pk=event_pk).first()
        if event is None or event.status != Status.RECEIVED:
            return event.status if event is not None else "missing"
        logger.warning("webhook %s %s: %s", event_pk, status, error)
        event_outcome_record(event=event, status=status, error=error, terminal=True)
        return status


def event_outcome_record(
    *,
    event: WebhookEvent,
    status: Status,
    error: str,
    terminal: bool,
    due: datetime | None = None,
) -> None:
    """Save an outcome on a locked event; errors also go to its bounded history."""
    now = timezone.now()
    event.status = status
    event.error = error
    event.next_attempt_at = None if terminal else due
    event.processed_at = now if terminal else None
    if error:
        history_append(
            event=event,
            entry={
                "at": now.isoformat(),
                "attempt": event.attempts,
                "outcome": status if terminal or due is None else f"retry at {due.isoformat()}",
                "error": error_clip(error),
            },
        )
    event.save(
        update_fields=["status", "error", "next_attempt_at", "processed_at", "error_history"]
    )


def history_append(*, event: WebhookEvent, entry: dict[str, Any]) -> None:
    history = list(event.error_history or [])
    history.append(entry)
    event.error_history = history[-HISTORY_LIMIT:]


def error_clip(error: str) -> str:
    """An error short enough for the history: its start (what failed) and its end (where)."""
    if len(error) <= HISTORY_ERROR_LIMIT:
        return error
    head = HISTORY_ERROR_LIMIT // 4
    return f"{error[:head]}\n…\n{error[-(HISTORY_ERROR_LIMIT - head) :]}"


def _headline(error: str) -> str:
    return error.strip().split("\n", 1)[0]
