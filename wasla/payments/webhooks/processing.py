"""Processing: turn one stored webhook event into its effect, exactly once.

`webhook_event_process` (run by the `payments.process_webhook_event` Celery task, inline in the
demo and tests) counts the try and leases the event in one short transaction, and in the same
transaction parses the stored body and lets the handler of its kind (`handlers.HANDLERS`) read
what it needs. After that commit the handler's fetch asks the provider for the truth when the
provider asks for that (Tap), with no transaction open; then the handler's effect runs in one
transaction that holds the event's row, so an event has its effect once however many times it
is queued. A try that cannot finish is recorded by `outcomes` (retried later with backoff, or
given up).

A task that dies with its worker is redelivered by the broker (acks_late,
reject_on_worker_lost) and, failing that, swept once its processing lease has run out; its try
was counted before it started, so a worker that dies every time still uses up the budget.
"""

from __future__ import annotations

import logging
import traceback
from datetime import timedelta
from functools import partial

from django.db import DatabaseError, transaction
from django.db.models import F
from django.utils import timezone

from ..models import WebhookEvent
from ..orchestrator import PaymentOrchestrator
from ..providers.base import ProviderUnreachable, WebhookPayloadUnreadable, WebhookRequest
from ..services import EventNotReady
from .handlers import HANDLERS, Effect, Fetch, event_not_handled, ready
from .outcomes import event_give_up, event_outcome_record, event_retry_later
from .retry import WebhookRetryPolicy

logger = logging.getLogger(__name__)

Status = WebhookEvent.Status


def webhook_event_process(*, event_pk: int) -> str:
    """Turn one stored event into its effect, or schedule its next try. Safe to run any number
    of times, concurrently too; returns the event's status afterwards ("busy" when another run
    holds it right now, "missing" when there is no such event)."""
    policy = WebhookRetryPolicy.from_settings()
    # Loading the event and counting the try are one short transaction (in a tenant scope, one
    # BEGIN and one set_config instead of one each per statement). It commits before anything
    # else runs, the provider call included: a worker that dies in the middle still used up
    # its try, and the UPDATE's row lock is held only until this commit.
    with transaction.atomic():
        stored = WebhookEvent.objects.select_related("gateway_config").filter(pk=event_pk).first()
        if stored is None:
            logger.warning("webhook %s: no such event", event_pk)
            return "missing"
        if stored.status != Status.RECEIVED or not stored.signature_valid:
            return stored.status
        # Count the try before doing anything; the lease keeps the sweeper from queueing it
        # again while it runs.
        started = WebhookEvent.objects.filter(pk=event_pk, status=Status.RECEIVED).update(
            attempts=F("attempts") + 1,
            next_attempt_at=timezone.now() + timedelta(seconds=policy.lease),
        )
        if not started:
            return WebhookEvent.objects.values_list("status", flat=True).get(pk=event_pk)
        # The handler's reads join this transaction (no BEGIN, set_config, COMMIT of their
        # own). What they raise is raised after the commit, so the try stays counted; a
        # database error is not caught: it has aborted the transaction, and propagates as an
        # error of this one would.
        try:
            fetch = _fetch_for(stored)
        except DatabaseError:
            raise
        except Exception as exc:
            fetch = partial(_raise, exc)
    tries = stored.attempts + 1 - stored.attempts_at_replay
    if tries > policy.max_attempts:
        # Only reachable when earlier tries never reported back: the worker died every time.
        return event_give_up(
            event_pk=event_pk, status=Status.FAILED, error=f"no outcome after {tries - 1} attempts"
        )
    try:
        return _apply_locked(event_pk, fetch())
    except ProviderUnreachable as exc:
        return event_retry_later(
            event_pk=event_pk,
            error=f"provider unreachable: {exc}",
            limit=policy.max_attempts,
            exhausted=Status.FAILED,
        )
    except EventNotReady as exc:
        return event_retry_later(
            event_pk=event_pk,
            error=f"not ready: {exc}",
            limit=policy.max_attempts,
            exhausted=Status.IGNORED,
        )
    except WebhookPayloadUnreadable as exc:
        return event_give_up(event_pk=event_pk, status=Status.FAILED, error=f"unreadable: {exc}")
    except Exception as exc:  # a bug or bad data: kept for staff, never a 500
        logger.exception("webhook %s failed", event_pk)
        return event_retry_later(
            event_pk=event_pk,
            error=f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}",
            limit=policy.max_unexpected_attempts,
            exhausted=Status.FAILED,
        )


def _fetch_for(stored: WebhookEvent) -> Fetch:
    """Parse the stored body and let the handler of its kind read what it needs."""
    config = stored.gateway_config
    orchestrator = PaymentOrchestrator()
    event = orchestrator.parse_webhook(
        config, WebhookRequest(body=stored.body.encode(), headers={})
    )
    handler = HANDLERS.get(event.kind)
    if handler is None:
        logger.info("webhook %s: %s not handled, stored", stored.pk, event.event_type)
        return ready(partial(event_not_handled, event))
    return handler(config=config, event=event, orchestrator=orchestrator)


def _raise(exc: Exception) -> Effect:
    raise exc


def _apply_locked(event_pk: int, effect: Effect) -> str:
    """Run `effect` and record its outcome in one transaction holding the event's row: the
    effect and the `received → done` step commit together or not at all."""
    with transaction.atomic():
        locked = (
            WebhookEvent.objects.select_for_update(skip_locked=True)
            .filter(pk=event_pk, status=Status.RECEIVED)
            .first()
        )
        if locked is None:
            current = WebhookEvent.objects.values_list("status", flat=True).get(pk=event_pk)
            return "busy" if current == Status.RECEIVED else current  # another run has it
        status, note = effect()
        event_outcome_record(event=locked, status=status, error=note, terminal=True)
        return status
