"""Collecting issued invoices from the merchants' saved cards (daily, `manage.py collect_invoices`).

Each invoice with something due, whose tenant saved a billing card, is charged off-session on a
dunning schedule: try n is due `WASLA_COLLECTION_SCHEDULE_DAYS[n-1]` days after the invoice was
issued (1, 3, 7 by default); when the last try did not succeed the invoice is overdue.

One try, for one invoice in its tenant's scope:
1. lock the invoice, decide the try and commit it `pending` (unique per invoice and number, so
   a concurrent run finds it and leaves it alone);
2. call Stripe with no lock held; the idempotency key is the try's own
   (`wasla-invoice-<id>-try-<n>`), so a try re-driven after a crash is the same charge;
3. settle the try from the answer: a decline schedules the next, `authentication_required`
   waits for the merchant on the hosted page; a success only records the PaymentIntent — the
   billing webhook records the payment (`billing_webhooks.py`), whichever arrives first.
A Stripe outage leaves the try `pending` (re-driven with the same key after `PENDING_STALE`),
is reported, and the other invoices go on.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from django.conf import settings
from django.db import transaction

from wasla.tenants.context import platform_access, tenant_context

from . import billing_stripe
from .models import BillingCard, CollectionTry, Invoice

logger = logging.getLogger(__name__)

PENDING_STALE: Final = timedelta(minutes=10)
Status = CollectionTry.Status


@dataclass(frozen=True)
class CollectResult:
    invoice: str
    outcome: str  # charged | declined | requires_authentication | failed | error | skipped
    try_number: int | None = None
    detail: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "invoice": self.invoice,
            "outcome": self.outcome,
            "try": self.try_number,
            "detail": self.detail,
        }


def schedule_days() -> list[int]:
    return list(settings.WASLA_COLLECTION_SCHEDULE_DAYS)


def try_due_at(*, invoice: Invoice, number: int) -> datetime | None:
    """When try `number` of `invoice` is due; None past the end of the schedule."""
    days = schedule_days()
    if invoice.issued_at is None or not 1 <= number <= len(days):
        return None
    return invoice.issued_at + timedelta(days=days[number - 1])


def collection_try_settle(
    *, attempt: CollectionTry, status: str, intent_id: str = "", code: str = "", message: str = ""
) -> None:
    """Record what Stripe said of a locked try. A pending try takes any outcome; a settled one
    only `succeeded` (the merchant paid on the hosted page); a succeeded one never changes."""
    if intent_id and not attempt.payment_intent_id:
        attempt.payment_intent_id = intent_id[:100]
    if attempt.status == Status.SUCCEEDED or (
        attempt.status != Status.PENDING and status != Status.SUCCEEDED
    ):
        attempt.save(update_fields=["payment_intent_id", "updated_at"])
        return
    attempt.status = status
    attempt.decline_code, attempt.decline_message = code[:100], message[:500]
    attempt.next_try_at = None
    if status != Status.SUCCEEDED:
        attempt.next_try_at = try_due_at(invoice=attempt.invoice, number=attempt.number + 1)
    attempt.save()


@dataclass(frozen=True)
class _Claim:
    attempt: CollectionTry | None
    card: BillingCard | None = None
    skipped: str = ""


def _claim(*, invoice_id: int, now: datetime) -> _Claim:
    """Lock the invoice and commit the try to make now (see the module docstring), if any."""
    with transaction.atomic():
        invoice = Invoice.objects.select_for_update().filter(pk=invoice_id).first()
        if invoice is None or invoice.status != Invoice.Status.ISSUED or invoice.amount_due <= 0:
            return _Claim(None, skipped="nothing is due")
        card = BillingCard.objects.filter(tenant_id=invoice.tenant_id).first()
        if card is None or not card.is_saved:
            return _Claim(None, skipped="no billing card")
        latest = invoice.collection_tries.order_by("-number").first()
        if latest is not None and latest.status == Status.SUCCEEDED:
            return _Claim(None, skipped=f"try {latest.number} succeeded: awaiting the webhook")
        if latest is not None and latest.status == Status.PENDING:
            if latest.attempted_at > now - PENDING_STALE:
                return _Claim(None, skipped=f"try {latest.number} is in progress")
            latest.attempted_at = now  # re-driven: same number, same idempotency key
            latest.save(update_fields=["attempted_at", "updated_at"])
            return _Claim(latest, card)
        number = 1 if latest is None else latest.number + 1
        due = try_due_at(invoice=invoice, number=number)
        if due is None:
            return _Claim(None, skipped="overdue: the schedule is exhausted")
        if now < due:
            return _Claim(None, skipped=f"try {number} is due at {due.isoformat()}")
        attempt = CollectionTry.objects.create(
            tenant_id=invoice.tenant_id, invoice=invoice, number=number, attempted_at=now
        )
        return _Claim(attempt, card)


def _paying_on_session(invoice_id: int) -> bool:
    """Whether the merchant's own payment of the latest try (hosted page) went through, so
    charging another try could charge twice; asked of Stripe before any lock is taken."""
    latest = CollectionTry.objects.filter(invoice_id=invoice_id).order_by("-number").first()
    if latest is None or not latest.action_intent_id or latest.status == Status.SUCCEEDED:
        return False
    status = billing_stripe.intent_status(intent_id=latest.action_intent_id)
    return status in ("succeeded", "processing")


def invoice_collect(*, invoice_id: int, now: datetime) -> CollectResult:
    """Make the try of one invoice that is due now, in the caller's tenant scope."""
    label = str(invoice_id)
    try:
        if _paying_on_session(invoice_id):
            return CollectResult(label, "skipped", detail="paid on the hosted page")
        claim = _claim(invoice_id=invoice_id, now=now)
        attempt, card = claim.attempt, claim.card
        if attempt is None or card is None:
            return CollectResult(label, "skipped", detail=claim.skipped)
        invoice = attempt.invoice
        label = invoice.display_number
        request = billing_stripe.Charge(
            customer_id=card.stripe_customer_id,
            payment_method_id=card.payment_method_id,
            amount=invoice.amount_due,
            currency=invoice.currency,
            metadata={
                "invoice_id": str(invoice.pk),
                "tenant_id": str(invoice.tenant_id),
                "try": str(attempt.number),
            },
            idempotency_key=attempt.idempotency_key,
        )
        try:
            outcome = billing_stripe.charge(request)
        except billing_stripe.BillingStripeRefused as refused:
            outcome = billing_stripe.ChargeOutcome(
                Status.FAILED, "", decline_code=refused.code, message=refused.message
            )
        status = outcome.status
        if status == "requires_action":  # off-session, Stripe would say authentication_required
            status = Status.REQUIRES_AUTHENTICATION
        with transaction.atomic():
            locked = CollectionTry.objects.select_for_update().get(pk=attempt.pk)
            collection_try_settle(
                attempt=locked,
                status=status,
                intent_id=outcome.intent_id,
                code=outcome.decline_code,
                message=outcome.message,
            )
        reported = "charged" if status == Status.SUCCEEDED else status
        return CollectResult(label, reported, attempt.number, outcome.message)
    except billing_stripe.BillingStripeUnavailable as error:
        logger.warning("collecting invoice %s: %s", label, error)
        return CollectResult(label, "error", detail=str(error))
    except Exception as error:
        logger.exception("collecting invoice %s failed", label)
        return CollectResult(label, "error", detail=f"{type(error).__name__}: {error}")


def invoices_collect(*, now: datetime) -> list[CollectResult]:
    """Charge every issued invoice whose next try is due (see the module docstring)."""
    days = schedule_days()
    if not billing_stripe.is_configured() or not days:
        return []
    with platform_access(reason="invoice collection by card"):
        tenants_with_card = BillingCard.objects.exclude(payment_method_id="").values("tenant_id")
        found = list(
            Invoice.objects.filter(
                status=Invoice.Status.ISSUED,
                amount_due__gt=0,
                tenant_id__in=tenants_with_card,
                issued_at__lte=now - timedelta(days=min(days)),
            )
            .order_by("pk")
            .values_list("pk", "tenant_id")
        )
    results = []
    for invoice_id, tenant_id in found:
        with tenant_context(tenant_id):
            results.append(invoice_collect(invoice_id=invoice_id, now=now))
    return results
