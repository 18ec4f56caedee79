"""Reconciliation: find out what really happened to payments we are unsure about.

`reconcile_pending` asks the provider about attempts still open after a while: a webhook that
never came, a create call that timed out. The provider's answer goes through
`payment_apply_result`, the same transition code as webhooks, so it is applied exactly once
however many times this runs, and concurrently with late webhooks. An attempt without a provider
reference (its create call timed out, or never left) is created again with the same provider
idempotency key, so the provider hands back the original payment rather than a second one.

Where payments, orders and settlements disagree is reported by the settlement app
(`wasla/settlement/reconciliation.py`).

Cash-on-delivery attempts are never reconciled: there is no provider to ask, only the courier.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from celery import shared_task
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from wasla.tenants.context import platform_access, tenant_context

from .models import OPEN_STATUSES, PaymentAttempt
from .orchestrator import PaymentOrchestrator
from .providers.base import PaymentStatus, ProviderError, ProviderUnreachable
from .providers.registry import provider_class, provider_names
from .resilience import CircuitOpen
from .services import attempt_lock, payment_apply_result

logger = logging.getLogger(__name__)


class Action:
    VERIFIED = "verified"  # fetched from the provider by its reference
    RECREATED = "recreated"  # created again with the same idempotency key
    NONE = "none"  # already settled by something else (a late webhook) when its turn came


@dataclass(frozen=True)
class AttemptReconciled:
    attempt_id: uuid.UUID
    tenant_id: int
    provider: str
    before: str
    after: str
    action: str
    error: str = ""

    @property
    def resolved(self) -> bool:
        return not self.error and self.after not in OPEN_STATUSES and self.before != self.after


@dataclass
class ReconcileReport:
    now: datetime
    older_than: timedelta
    attempts: list[AttemptReconciled] = field(default_factory=list)
    skipped_offline: int = 0  # cash on delivery: no provider to ask

    @property
    def resolved(self) -> list[AttemptReconciled]:
        return [a for a in self.attempts if a.resolved]

    @property
    def still_open(self) -> list[AttemptReconciled]:
        return [a for a in self.attempts if not a.error and a.after in OPEN_STATUSES]

    @property
    def errors(self) -> list[AttemptReconciled]:
        return [a for a in self.attempts if a.error]

    def summary(self) -> dict[str, int]:
        return {
            "checked": len(self.attempts),
            "resolved": len(self.resolved),
            "still_open": len(self.still_open),
            "errors": len(self.errors),
            "skipped_offline": self.skipped_offline,
        }

    def as_dict(self) -> dict[str, Any]:
        return {
            "now": self.now.isoformat(),
            "older_than_minutes": self.older_than.total_seconds() / 60,
            **self.summary(),
            "attempts": [
                {**asdict(a), "attempt_id": str(a.attempt_id), "resolved": a.resolved}
                for a in self.attempts
            ],
        }


# Pending attempts ------------------------------------------------------------------------------


def reconcile_pending(*, older_than: timedelta, now: datetime | None = None) -> ReconcileReport:
    """Settle every attempt left `created`/`pending` for longer than `older_than` with what its
    provider says now. Safe to run any number of times, and alongside webhooks: each attempt is
    read afresh and changed only through `payment_apply_result`. One attempt's failure (provider
    down, refusal, a bug) is recorded in the report and never stops the others.
    """
    now = now or timezone.now()
    report = ReconcileReport(now=now, older_than=older_than)
    offline = [name for name in provider_names() if provider_class(name).collected_offline]
    # Finding the stale attempts is a platform job; settling each one acts for its tenant.
    with platform_access(reason="reconcile pending payment attempts"):
        stale = PaymentAttempt.objects.filter(
            status__in=OPEN_STATUSES, created_at__lt=now - older_than
        )
        report.skipped_offline = stale.filter(provider__in=offline).count()
        found = list(
            stale.exclude(provider__in=offline)
            .order_by("created_at")
            .values_list("pk", "tenant_id")
        )
        for attempt_id, tenant_id in found:
            with tenant_context(tenant_id):
                report.attempts.append(_attempt_reconcile(attempt_id=attempt_id))
    logger.info("reconcile pending older than %s: %s", older_than, report.summary())
    return report


def _attempt_reconcile(*, attempt_id: uuid.UUID) -> AttemptReconciled:
    attempt = PaymentAttempt.objects.select_related("gateway_config", "order").get(pk=attempt_id)
    before = attempt.status
    action = Action.VERIFIED if attempt.provider_reference else Action.RECREATED

    def outcome(after: str, how: str, error: str = "") -> AttemptReconciled:
        return AttemptReconciled(
            attempt_id=attempt.id,
            tenant_id=attempt.tenant_id,
            provider=attempt.provider,
            before=before,
            after=after,
            action=how,
            error=error,
        )

    if not attempt.is_open:
        return outcome(attempt.status, Action.NONE)
    try:
        if attempt.provider_reference:
            after = _attempt_verify(attempt=attempt, reference=attempt.provider_reference)
        else:
            after = _attempt_recreate(attempt=attempt)
    except (ProviderUnreachable, ProviderError) as exc:
        logger.warning("reconcile %s: %s", attempt.id, exc)
        current = PaymentAttempt.objects.values_list("status", flat=True).get(pk=attempt.id)
        return outcome(current, action, f"{type(exc).__name__}: {exc}")
    except Exception as exc:  # one broken attempt must not keep the others unreconciled
        logger.exception("reconcile %s failed", attempt.id)
        current = PaymentAttempt.objects.values_list("status", flat=True).get(pk=attempt.id)
        return outcome(current, action, f"{type(exc).__name__}: {exc}")
    return outcome(after.status, action)


def _attempt_verify(*, attempt: PaymentAttempt, reference: str) -> PaymentAttempt:
    """Fetch the payment by its reference; apply the answer unless it is still pending."""
    result = PaymentOrchestrator().verify_payment(attempt.gateway_config, reference)
    if result.status == PaymentStatus.PENDING:
        return attempt  # nothing new: no write, so a second run changes nothing either
    return payment_apply_result(attempt_id=attempt.id, result=result)


def _attempt_recreate(*, attempt: PaymentAttempt) -> PaymentAttempt:
    """Create the payment again with the attempt's own provider idempotency key.

    If the first create reached the provider, the provider answers with that payment; if it
    never did, this is the create. Either way the attempt is bound to one provider payment.
    Providers replay the answer they first gave to a key (Stripe replays the stored response),
    so a payment that is still "pending" in the answer is then fetched for its state today.
    Mirrors `services._attempt_start`, which checkout uses for the same re-drive.
    """
    orchestrator = PaymentOrchestrator()
    try:
        result = orchestrator.create_payment(attempt)
    except ProviderError as exc:
        # The provider refused this very request, idempotency key included: nothing was or
        # will be charged under it.
        return _attempt_record_failure(attempt_id=attempt.id, code=exc.code, message=exc.message)
    except CircuitOpen:
        raise  # nothing was sent: the attempt stays as it was
    except ProviderUnreachable as exc:
        _attempt_mark_sent(attempt_id=attempt.id, message=f"provider unreachable: {exc}")
        raise
    attempt = payment_apply_result(attempt_id=attempt.id, result=result)
    if attempt.is_open and attempt.provider_reference and result.status == PaymentStatus.PENDING:
        return _attempt_verify(attempt=attempt, reference=attempt.provider_reference)
    return attempt


def _attempt_record_failure(*, attempt_id: uuid.UUID, code: str, message: str) -> PaymentAttempt:
    with transaction.atomic():
        locked = attempt_lock(attempt_id=attempt_id)
        if locked.is_open:
            locked.mark_failed()
            locked.failure_code = code[:100]
            locked.failure_message = message
            locked.save()
        return locked


def _attempt_mark_sent(*, attempt_id: uuid.UUID, message: str) -> None:
    """A `created` attempt whose create may have reached the provider becomes `pending`."""
    with transaction.atomic():
        locked = attempt_lock(attempt_id=attempt_id)
        if locked.status == PaymentAttempt.Status.CREATED:
            locked.mark_pending()
            locked.failure_message = message
            locked.save()


# Celery ----------------------------------------------------------------------------------------

# Held while a periodic run works, so a slow run and the next tick do not do the work twice.
RECONCILE_LOCK = "wasla:reconcile:pending:lock"


@shared_task(name="payments.reconcile")
def reconcile_task() -> dict[str, int]:
    """Periodic (Celery beat): reconcile attempts pending longer than
    WASLA_RECONCILE_PENDING_AFTER_MINUTES."""
    minutes = settings.WASLA_RECONCILE_PENDING_AFTER_MINUTES
    if not cache.add(RECONCILE_LOCK, 1, timeout=max(60, minutes * 60)):
        logger.info("reconcile already running elsewhere; this tick does nothing")
        return {"skipped": 1}
    try:
        return reconcile_pending(older_than=timedelta(minutes=minutes)).summary()
    finally:
        cache.delete(RECONCILE_LOCK)
