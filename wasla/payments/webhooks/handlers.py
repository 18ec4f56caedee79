"""What a verified webhook event does, by its normalised kind: the explicit `HANDLERS` table.

A handler runs in three steps. Called with the parsed event, it reads what it needs: processing
calls it inside the short transaction that counts the event's try, so those reads cost no
transaction of their own. It returns the fetch, which processing calls after that commit, with
no transaction open: where the provider asks for it (Tap), the fetch asks the provider's API
for the truth — so no row is locked across an HTTP call. The fetch returns the effect: a
function that processing runs in one transaction holding the event's row, so the effect and the
event's `received → done` step commit together or not at all. The effect answers the event's
final status and the note kept in its `error`.

An event whose news is older than the payment's state (a "pending" after "paid") changes
nothing and ends `ignored` as stale: a closed payment never reopens.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from functools import partial
from typing import Protocol

from ..disputes import dispute_record
from ..models import (
    OPEN_STATUSES,
    PAID_STATUSES,
    PaymentAttempt,
    PaymentGatewayConfig,
    WebhookEvent,
)
from ..orchestrator import PaymentOrchestrator
from ..providers.base import EventKind, PaymentResult, PaymentStatus, ProviderEvent
from ..refunds import refund_apply_event
from ..services import EventNotReady, payment_apply_result

logger = logging.getLogger(__name__)

Status = WebhookEvent.Status
Outcome = tuple[Status, str]  # the event's final status, and the note kept in its `error`
Effect = Callable[[], Outcome]
Fetch = Callable[[], Effect]  # called with no transaction open; may call the provider


class Handler(Protocol):
    def __call__(
        self,
        *,
        config: PaymentGatewayConfig,
        event: ProviderEvent,
        orchestrator: PaymentOrchestrator,
    ) -> Fetch: ...


def ready(effect: Effect) -> Fetch:
    """A fetch with nothing to ask the provider: it answers `effect`."""
    return lambda: effect


def payment_event_handle(
    *, config: PaymentGatewayConfig, event: ProviderEvent, orchestrator: PaymentOrchestrator
) -> Fetch:
    """News about a payment: confirm, fail or cancel its attempt. Raises EventNotReady when no
    attempt matches yet (retried later)."""
    if event.status is None:
        return ready(partial(event_not_handled, event))
    attempt = _attempt_for_event(config, event)
    if attempt is None:
        note = f"{event.merchant_reference} is bound to another {config.provider} payment"
        return ready(partial(_bound_elsewhere, note))
    captured_late = event.status == PaymentStatus.PAID and attempt.status not in PAID_STATUSES
    if not attempt.is_open and not captured_late:
        # A closed payment never reopens: a duplicate or older news (a "pending" after
        # "paid") needs no call to the provider. Only "paid" for a payment we gave up on
        # goes on to the provider: if true, money moved that someone must refund.
        return ready(partial(_closed_payment_news, attempt.id, attempt.status, event.status))
    reference = event.provider_reference or attempt.provider_reference or ""
    if orchestrator.refetches_on_webhook(config) and reference:
        # The provider asks that the webhook be confirmed by fetching the payment (Tap).
        return partial(_payment_fetch, orchestrator, config, reference, attempt.id, attempt.status)
    result = PaymentResult(
        status=event.status,
        provider_reference=reference,
        amount=event.amount,
        currency=event.currency,
        merchant_reference=event.merchant_reference,
        payment_reference=event.payment_reference,
        raw=event.raw,
    )
    return ready(partial(_payment_apply, attempt.id, attempt.status, result))


def refund_event_handle(
    *, config: PaymentGatewayConfig, event: ProviderEvent, orchestrator: PaymentOrchestrator
) -> Fetch:
    """News about refunds: ours confirmed, or ones made in the provider's dashboard recorded."""
    return ready(partial(_refund_apply, config, event))


def dispute_event_handle(
    *, config: PaymentGatewayConfig, event: ProviderEvent, orchestrator: PaymentOrchestrator
) -> Fetch:
    """A chargeback: recorded for staff (`wasla.payments.disputes`)."""
    return ready(partial(_dispute_apply, config, event))


HANDLERS: dict[EventKind, Handler] = {
    EventKind.PAYMENT: payment_event_handle,
    EventKind.REFUND: refund_event_handle,
    EventKind.DISPUTE: dispute_event_handle,
}


def event_not_handled(event: ProviderEvent) -> Outcome:
    """Kinds with no handler: stored for the record, nothing to do."""
    return Status.IGNORED, f"{event.event_type or 'event'} not handled"


def _bound_elsewhere(note: str) -> Outcome:
    logger.warning("webhook ignored: %s", note)
    return Status.IGNORED, note


def _payment_fetch(
    orchestrator: PaymentOrchestrator,
    config: PaymentGatewayConfig,
    reference: str,
    attempt_id: uuid.UUID,
    status_seen: str,
) -> Effect:
    """Ask the provider for the payment (no transaction open), then apply what it says."""
    result = orchestrator.verify_payment(config, reference)
    return partial(_payment_apply, attempt_id, status_seen, result)


def _payment_apply(attempt_id: uuid.UUID, status_seen: str, result: PaymentResult) -> Outcome:
    """Apply a payment result. `status_seen` was read before the provider call: a payment
    leaves `created|pending` only forwards, so one closed then is closed now, and for one open
    then `payment_apply_result` decides under its lock (a no-op if it closed meanwhile). It
    joins processing's transaction without a savepoint: if it raises, that whole transaction
    rolls back (the event stays `received` for its retry)."""
    if status_seen in OPEN_STATUSES:
        payment_apply_result(attempt_id=attempt_id, result=result, savepoint=False)
        return Status.PROCESSED, ""
    return _closed_payment_news(attempt_id, status_seen, result.status)


def _closed_payment_news(attempt_id: uuid.UUID, current: str, reported: PaymentStatus) -> Outcome:
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
    return current == reported.value


def _refund_apply(config: PaymentGatewayConfig, event: ProviderEvent) -> Outcome:
    outcome = Status(refund_apply_event(config=config, event=event))
    if outcome == Status.IGNORED:
        return Status.IGNORED, f"{event.event_type}: no refund in it"
    return outcome, ""


def _dispute_apply(config: PaymentGatewayConfig, event: ProviderEvent) -> Outcome:
    dispute_record(config=config, event=event)
    return Status.PROCESSED, ""


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
