"""Webhook inbox: verify on the raw bytes, store once, answer fast, then process.

Ingestion needs only PostgreSQL. Every delivery becomes a `WebhookEvent` row: rejected ones (bad
signature) for the audit trail, verified ones exactly once per (provider, gateway config, event
id) thanks to a unique index, so concurrent duplicates collapse into one row and one processing.
The row is committed before anything is queued; the queueing runs on commit and can never fail
the delivery: with the broker down the provider still gets its 2xx, the row stays `received`
with `next_attempt_at = now`, and the sweeper re-drives it once the broker is back.

Processing (`webhook_event_process`, run by the `payments.process_webhook_event` Celery task,
inline in the demo and tests) fetches the truth from the provider when it asks for that (Tap)
with no lock held, then applies it in one transaction that holds the event row, so an event has
its effect once however many times it is queued.

Retries are scheduled in this table, not in Celery. A try that cannot finish leaves the event
`received` with `next_attempt_at = now + backoff` (exponential, capped, jittered) and the
reason in `error` and `error_history`; the sweeper (`payments.webhooks_sweep` every 30 s from
beat, or `manage.py webhooks_sweep`) queues again whatever is due, and whatever has sat
`received` too long with nothing scheduled (a message lost with its broker). Not
`self.retry(countdown=…)`: a countdown lives as an unacked message in some worker's memory,
invisible to staff and lost or redelivered with the broker's visibility timeout, and next to a
sweeper it would schedule every retry twice. One scheduler, in the table staff already look at.
A task that dies with its worker is redelivered by the broker (acks_late, reject_on_worker_lost)
and, failing that, swept once its processing lease has run out.

Why a try can fail, and where it ends:
- the provider is unreachable (timeouts included): retried, `failed` after the last attempt;
- the event is about something not here yet (`EventNotReady`: a refund overtaking its payment, a
  payment event for an attempt we cannot find yet) — parked: retried, `ignored` with the reason
  after the last attempt;
- anything unexpected (a bug, bad data): the traceback is kept, retried a few times, `failed`.
A body that no longer parses is `failed` at once: it will not parse better later. Staff replay
`failed` and `ignored` verified events from the admin. An event whose news is older than the
payment's state (a "pending" after "paid") changes nothing and ends `ignored` as stale.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import F, Q
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from wasla.common.problems import problem_response
from wasla.common.scrub import scrub
from wasla.tenants.context import (
    Scope,
    platform_access,
    scope_enter_for_request,
    tenant_context,
)
from wasla.tenants.lookups import tenant_id_for_webhook

from .models import (
    OPEN_STATUSES,
    PAID_STATUSES,
    PaymentAttempt,
    PaymentDispute,
    PaymentGatewayConfig,
    WebhookEvent,
)
from .orchestrator import PaymentOrchestrator
from .providers.base import (
    EventKind,
    PaymentResult,
    PaymentStatus,
    ProviderEvent,
    ProviderUnreachable,
    WebhookPayloadError,
    WebhookRequest,
)
from .refunds import refund_apply_event
from .services import EventNotReady, payment_apply_result

logger = logging.getLogger(__name__)

REJECTED_BODY_LIMIT = 16 * 1024  # what we keep of a delivery we could not verify
HISTORY_LIMIT = 50  # entries of `error_history` kept per event, the newest
HISTORY_ERROR_LIMIT = 2000  # characters of one error kept in the history (its start and end)

Status = WebhookEvent.Status


@dataclass(frozen=True)
class WebhookRetryPolicy:
    """When a `received` event is tried again, and when it is given up.

    Read from the WASLA_WEBHOOK_* settings at each use; `from_settings` has the names and the
    defaults that apply when a setting is absent.
    """

    max_attempts: int  # tries before a provider outage → failed, a parked event → ignored
    max_unexpected_attempts: int  # tries before an unexpected error → failed
    base_delay: float  # seconds before the second try; doubles for each further one
    max_delay: float  # the cap of one delay
    jitter: float  # ± this fraction of the delay, at random
    stale_after: float  # a `received` event with nothing scheduled is swept after this long
    lease: float  # seconds a queued or running event is left alone by the sweeper
    sweep_batch: int  # events claimed per sweeper transaction

    @classmethod
    def from_settings(cls) -> WebhookRetryPolicy:
        def get(name: str, default: float) -> Any:
            return getattr(settings, f"WASLA_WEBHOOK_{name}", default)

        return cls(
            max_attempts=max(1, int(get("MAX_ATTEMPTS", 8))),
            max_unexpected_attempts=max(1, int(get("MAX_UNEXPECTED_ATTEMPTS", 3))),
            base_delay=max(0.0, float(get("RETRY_BASE_SECONDS", 30))),
            max_delay=max(0.0, float(get("RETRY_MAX_SECONDS", 3600))),
            jitter=min(1.0, max(0.0, float(get("RETRY_JITTER", 0.2)))),
            stale_after=max(0.0, float(get("SWEEP_STALE_SECONDS", 120))),
            lease=max(1.0, float(get("SWEEP_LEASE_SECONDS", 300))),
            sweep_batch=max(1, int(get("SWEEP_BATCH_SIZE", 100))),
        )

    def delay(self, attempt: int) -> timedelta:
        """Wait after the `attempt`-th failed try: base * 2**(attempt - 1), capped, then spread by
        ±jitter so that events which failed together (one provider outage) do not all come
        back in the same second."""
        exponent = min(max(attempt, 1) - 1, 32)
        seconds = min(self.max_delay, self.base_delay * 2**exponent)
        spread = secrets.SystemRandom().uniform(-self.jitter, self.jitter)
        return timedelta(seconds=min(self.max_delay, seconds * (1 + spread)))


# --- Ingestion ------------------------------------------------------------------------------


@csrf_exempt
@require_POST
def webhook_view(request: HttpRequest, provider: str, token: uuid.UUID) -> JsonResponse:
    # The URL's token names the tenant (a narrow lookup returning its id only); the delivery
    # is then verified and stored in that tenant's scope.
    tenant_id = tenant_id_for_webhook(provider=provider, token=token)
    if tenant_id is None:
        return problem_response(404, "not-found", "Unknown webhook endpoint")
    scope_enter_for_request(Scope(tenant_id=tenant_id))
    config = (
        PaymentGatewayConfig.objects.select_related("tenant")
        .filter(provider=provider, webhook_token=token)
        .first()
    )
    if config is None:
        return problem_response(404, "not-found", "Unknown webhook endpoint")
    headers = {name.lower(): value for name, value in request.headers.items()}
    status, outcome = webhook_receive(config=config, body=request.body, headers=headers)
    if status == 401:
        return problem_response(401, "invalid-signature", "Webhook signature is not valid")
    return JsonResponse({"status": outcome}, status=status)


def webhook_receive(
    *, config: PaymentGatewayConfig, body: bytes, headers: dict[str, str]
) -> tuple[int, str]:
    """Verify and store one delivery; queue it for processing. Returns (HTTP status, outcome)."""
    orchestrator = PaymentOrchestrator()
    request = WebhookRequest(body=body, headers=headers)
    stored_headers = scrub(headers)
    if not orchestrator.validate_webhook(config, request):
        _store_rejected(config, body, stored_headers, "invalid signature")
        logger.warning(
            "webhook rejected: invalid signature provider=%s config=%s", config.provider, config.pk
        )
        return 401, "rejected"
    try:
        event = orchestrator.handle_webhook(config, request)
    except WebhookPayloadError as exc:
        # Signed by the provider but not something we can read: kept for staff, answered 2xx
        # so the provider does not retry a body that will never parse.
        logger.warning(
            "webhook unreadable: %s provider=%s config=%s", exc, config.provider, config.pk
        )
        _store_verified(
            config,
            body,
            stored_headers,
            "sha256:" + hashlib.sha256(body).hexdigest(),
            "",
            status=Status.FAILED,
            error=str(exc),
        )
        return 200, "unreadable"
    stored = _store_verified(config, body, stored_headers, event.event_id, event.event_type)
    if stored is None:
        return 200, "duplicate"
    # Celery's `delay_on_commit`, except that a broker failure is logged here, not raised into
    # the commit of whoever called us.
    transaction.on_commit(
        partial(webhook_event_enqueue, event_pk=stored.pk, tenant_id=config.tenant_id)
    )
    return 200, "accepted"


def webhook_event_enqueue(*, event_pk: int, tenant_id: int) -> bool:
    """Queue one event for processing; False when the broker would not take it.

    Never raises: the event is already safe in the inbox. A refused one is made due at once,
    so the next sweep (which needs only the database with `--inline`) picks it up.
    """
    from .tasks import process_webhook_event

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
                WebhookEvent.objects.filter(pk=event_pk, status=Status.RECEIVED).update(
                    next_attempt_at=timezone.now(),
                    error=f"not queued: {type(exc).__name__}: {exc}",
                )
        except DatabaseError:
            logger.exception("webhook %s: could not record the queueing failure", event_pk)
        return False
    return True


def _store_verified(
    config: PaymentGatewayConfig,
    body: bytes,
    headers: dict[str, str],
    event_id: str,
    event_type: str,
    *,
    status: str = Status.RECEIVED,
    error: str = "",
) -> WebhookEvent | None:
    """Insert a verified event once; None when it is already in the inbox."""
    try:
        with transaction.atomic():
            return WebhookEvent.objects.create(
                tenant_id=config.tenant_id,
                gateway_config=config,
                provider=config.provider,
                event_id=event_id,
                event_type=event_type,
                headers=headers,
                body=_as_text(body),
                signature_valid=True,
                status=status,
                error=error,
            )
    except IntegrityError:
        return None


def _store_rejected(
    config: PaymentGatewayConfig, body: bytes, headers: dict[str, str], reason: str
) -> None:
    WebhookEvent.objects.create(
        tenant_id=config.tenant_id,
        gateway_config=config,
        provider=config.provider,
        event_id="sha256:" + hashlib.sha256(body).hexdigest(),
        headers=headers,
        body=_as_text(body[:REJECTED_BODY_LIMIT]),
        signature_valid=False,
        status=Status.REJECTED,
        error=reason,
        processed_at=timezone.now(),
    )


# --- Processing -----------------------------------------------------------------------------


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
        # Count the try before doing anything, so a worker that dies in the middle still uses
        # up its budget; the lease keeps the sweeper from queueing it again while it runs.
        started = WebhookEvent.objects.filter(pk=event_pk, status=Status.RECEIVED).update(
            attempts=F("attempts") + 1,
            next_attempt_at=timezone.now() + timedelta(seconds=policy.lease),
        )
        if not started:
            return WebhookEvent.objects.values_list("status", flat=True).get(pk=event_pk)
    tries = stored.attempts + 1 - stored.attempts_at_replay
    if tries > policy.max_attempts:
        # Only reachable when earlier tries never reported back: the worker died every time.
        return _give_up(event_pk, Status.FAILED, f"no outcome after {tries - 1} attempts")
    try:
        return _process(stored)
    except ProviderUnreachable as exc:
        return _retry_later(
            event_pk,
            f"provider unreachable: {exc}",
            limit=policy.max_attempts,
            exhausted=Status.FAILED,
        )
    except EventNotReady as exc:
        return _retry_later(
            event_pk, f"not ready: {exc}", limit=policy.max_attempts, exhausted=Status.IGNORED
        )
    except WebhookPayloadError as exc:
        return _give_up(event_pk, Status.FAILED, f"unreadable: {exc}")
    except Exception as exc:  # a bug or bad data: kept for staff, never a 500
        logger.exception("webhook %s failed", event_pk)
        return _retry_later(
            event_pk,
            f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}",
            limit=policy.max_unexpected_attempts,
            exhausted=Status.FAILED,
        )


def _process(stored: WebhookEvent) -> str:
    config = stored.gateway_config
    orchestrator = PaymentOrchestrator()
    event = orchestrator.handle_webhook(
        config, WebhookRequest(body=stored.body.encode(), headers={})
    )
    apply: Callable[[], tuple[str, str]]
    if event.kind == EventKind.DISPUTE:
        apply = partial(_dispute_record, config, event)
    elif event.kind == EventKind.REFUND:
        apply = partial(_refund_apply, config, event)
    elif event.kind == EventKind.PAYMENT and event.status is not None:
        attempt = _attempt_for_event(config, event)
        if attempt is None:
            return _give_up(
                stored.pk,
                Status.IGNORED,
                f"{event.merchant_reference} is bound to another {config.provider} payment",
            )
        captured_late = event.status == PaymentStatus.PAID and attempt.status not in PAID_STATUSES
        if not attempt.is_open and not captured_late:
            # A closed payment never reopens: a duplicate or older news (a "pending" after
            # "paid") needs no call to the provider. Only "paid" for a payment we gave up on
            # goes on to the provider: if true, money moved that someone must refund.
            apply = partial(_closed_payment_news, attempt.id, attempt.status, event.status)
            return _apply_locked(stored.pk, apply)
        reference = event.provider_reference or attempt.provider_reference or ""
        # The truth comes from the provider's API when the provider asks for it (Tap);
        # fetched before any lock is taken.
        if orchestrator.refetches_on_webhook(config) and reference:
            result = orchestrator.verify_payment(config, reference)
        else:
            result = PaymentResult(
                status=event.status,
                provider_reference=reference,
                amount=event.amount,
                currency=event.currency,
                merchant_reference=event.merchant_reference,
                payment_reference=event.payment_reference,
                raw=event.raw,
            )
        apply = partial(_payment_apply, attempt.id, attempt.status, result)
    else:
        logger.info("webhook %s: %s not handled, stored", stored.pk, event.event_type)
        apply = partial(_not_handled, event)
    return _apply_locked(stored.pk, apply)


def _apply_locked(event_pk: int, apply: Callable[[], tuple[str, str]]) -> str:
    """Run `apply` and record its outcome in one transaction holding the event's row: the
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
        status, note = apply()
        _record(locked, status=status, error=note, terminal=True)
        return status


def _payment_apply(
    attempt_id: uuid.UUID, status_seen: str, result: PaymentResult
) -> tuple[str, str]:
    """Apply a payment result. `status_seen` was read before the provider call: a payment
    leaves `created|pending` only forwards, so one closed then is closed now, and for one open
    then `payment_apply_result` decides under its lock (a no-op if it closed meanwhile)."""
    if status_seen in OPEN_STATUSES:
        payment_apply_result(attempt_id=attempt_id, result=result)
        return Status.PROCESSED, ""
    return _closed_payment_news(attempt_id, status_seen, result.status)


def _closed_payment_news(
    attempt_id: uuid.UUID, current: str, reported: PaymentStatus
) -> tuple[str, str]:
    """What news about a payment that is already closed comes to: nothing, and an event that
    would move it backwards is ignored as stale."""
    if _agrees(reported, current):
        return Status.PROCESSED, ""  # old news that matches: nothing to do
    if reported == PaymentStatus.PAID:
        # Money moved after we gave up on the attempt: someone must refund it.
        logger.error("payment captured after it ended attempt=%s status=%s", attempt_id, current)
        return (
            Status.FAILED,
            f"the provider reports paid, but the payment is {current}: refund it at the provider",
        )
    logger.info("webhook stale: payment %s is %s, event says %s", attempt_id, current, reported)
    return Status.IGNORED, f"stale: the payment is {current}; the event says {reported}"


def _agrees(reported: PaymentStatus, current: str) -> bool:
    if reported == PaymentStatus.PAID:
        return current in PAID_STATUSES
    if reported == PaymentStatus.PENDING:
        return current in OPEN_STATUSES
    return current == str(reported)


def _refund_apply(config: PaymentGatewayConfig, event: ProviderEvent) -> tuple[str, str]:
    outcome = refund_apply_event(config=config, event=event)
    if outcome == Status.IGNORED:
        return Status.IGNORED, f"{event.event_type}: no refund in it"
    return outcome, ""


def _not_handled(event: ProviderEvent) -> tuple[str, str]:
    return Status.IGNORED, f"{event.event_type or 'event'} not handled"


def _attempt_for_event(config: PaymentGatewayConfig, event: ProviderEvent) -> PaymentAttempt | None:
    """The attempt an event is about: by the provider's reference, else by our attempt id as
    echoed by the provider (an attempt whose create call timed out before we learnt the
    reference, or an event that names only a sub-object, like Stripe's PaymentIntent).

    None when the attempt it names is bound to another provider object. Raises EventNotReady
    when nothing matches (yet): the reference may belong to a create call whose answer is still
    being recorded; after the last retry the event is ignored as not ours."""
    attempts = PaymentAttempt.objects.filter(tenant_id=config.tenant_id, provider=config.provider)
    if event.provider_reference:
        attempt = attempts.filter(provider_reference=event.provider_reference).first()
        if attempt is not None:
            return attempt
    try:
        attempt_id = uuid.UUID(event.merchant_reference)
    except ValueError:
        attempt_id = None
    attempt = attempts.filter(pk=attempt_id).first() if attempt_id else None
    if attempt is None:
        raise EventNotReady(
            f"no payment attempt matches {event.provider_reference or event.payment_reference}"
        )
    if event.provider_reference and attempt.provider_reference:
        return None
    return attempt


def _dispute_record(config: PaymentGatewayConfig, event: ProviderEvent) -> tuple[str, str]:
    attempt = None
    if event.payment_reference:
        attempt = (
            PaymentAttempt.objects.filter(tenant_id=config.tenant_id, provider=config.provider)
            .filter(raw_response__payment_intent=event.payment_reference)
            .first()
        )
    raw = dict(event.raw)
    PaymentDispute.objects.update_or_create(
        provider=config.provider,
        provider_reference=event.provider_reference,
        defaults={
            "tenant_id": config.tenant_id,
            "payment_attempt": attempt,
            "payment_reference": event.payment_reference,
            "amount": event.amount,
            "currency": event.currency,
            "reason": str(raw.get("reason") or "")[:100],
            "status": str(raw.get("status") or "")[:40],
            "raw": raw,
        },
    )
    logger.warning("dispute %s recorded for tenant %s", event.provider_reference, config.tenant_id)
    return Status.PROCESSED, ""


# --- Outcomes -------------------------------------------------------------------------------


def _retry_later(event_pk: int, error: str, *, limit: int, exhausted: str) -> str:
    """Schedule the next try after backoff, or end the event once its budget is spent."""
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
            _record(
                event,
                status=exhausted,
                error=f"gave up after {tries} attempts: {error}",
                terminal=True,
            )
        else:
            due = timezone.now() + policy.delay(tries)
            logger.info("webhook %s retried at %s: %s", event_pk, due.isoformat(), _headline(error))
            _record(event, status=Status.RECEIVED, error=error, terminal=False, due=due)
        return event.status


def _give_up(event_pk: int, status: str, error: str) -> str:
    with transaction.atomic():
        event = WebhookEvent.objects.select_for_update().filter(pk=event_pk).first()
        if event is None or event.status != Status.RECEIVED:
            return event.status if event is not None else "missing"
        logger.warning("webhook %s %s: %s", event_pk, status, error)
        _record(event, status=status, error=error, terminal=True)
        return status


def _record(
    event: WebhookEvent,
    *,
    status: str,
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
        _history_append(
            event,
            {
                "at": now.isoformat(),
                "attempt": event.attempts,
                "outcome": status if terminal or due is None else f"retry at {due.isoformat()}",
                "error": _clip(error),
            },
        )
    event.save(
        update_fields=["status", "error", "next_attempt_at", "processed_at", "error_history"]
    )


def _headline(error: str) -> str:
    return error.strip().split("\n", 1)[0]


def _clip(error: str) -> str:
    """An error short enough for the history: its start (what failed) and its end (where)."""
    if len(error) <= HISTORY_ERROR_LIMIT:
        return error
    head = HISTORY_ERROR_LIMIT // 4
    return f"{error[:head]}\n…\n{error[-(HISTORY_ERROR_LIMIT - head) :]}"


def _history_append(event: WebhookEvent, entry: dict[str, Any]) -> None:
    history = list(event.error_history or [])
    history.append(entry)
    event.error_history = history[-HISTORY_LIMIT:]


# --- Sweeper and replay ---------------------------------------------------------------------


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


REPLAYABLE = (Status.FAILED, Status.IGNORED)


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
        _history_append(
            event,
            {
                "at": now.isoformat(),
                "attempt": event.attempts,
                "outcome": f"replayed by {actor}",
                "error": _clip(f"was {event.status}: {event.error}"),
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


def _as_text(body: bytes) -> str:
    # PostgreSQL text cannot hold NUL; a forged body may carry one, a JSON body never does.
    return body.decode("utf-8", errors="replace").replace("\x00", "\ufffd")
