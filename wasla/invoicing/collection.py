"""Collecting issued invoices from the merchants' saved cards (daily, `manage.py collect_invoices`).

Each invoice with something due, whose tenant saved a billing card, is charged off-session on a
dunning schedule: try n is due `WASLA_COLLECTION_SCHEDULE_DAYS[n-1]` days after the invoice was
issued (1, 3, 7 by default); when the last try did not succeed the invoice is overdue.

One try, for one invoice in its tenant's scope:
1. if a try is due, cancel first every on-session PaymentIntent the merchant started on the
   hosted page for this invoice (`hosted_payment.invoice_on_session_close`), so finishing its
   3-D Secure later cannot charge a second time; one Stripe says was paid already is recorded
   as the invoice's payment instead, and nothing is charged;
2. lock the invoice, decide the try and commit it `pending` (unique per invoice and number, so
   a concurrent run finds it and leaves it alone) — unless an on-session PaymentIntent was
   started since step 1 (the next run closes it);
3. call Stripe with no lock held; the idempotency key is the try's own
   (`wasla-invoice-<id>-try-<n>`), so a try re-driven after a crash is the same charge;
4. settle the try from the answer: a decline schedules the next, `authentication_required`
   waits for the merchant on the hosted page; a success only records the PaymentIntent — the
   billing webhook records the payment (`billing_webhooks.py`), whichever arrives first.
A Stripe outage leaves the try `pending` (re-driven with the same key after `PENDING_STALE`),
is reported, and the other invoices go on. Refunds of PaymentIntents an invoice could not take
that Stripe did not answer are sent again first (`card_payments.billing_refunds_retry`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from django.db import transaction

from wasla.tenants.context import platform_access, tenant_context

from . import billing_stripe
from .card_payments import billing_refunds_retry
from .collection_tries import collection_try_settle, schedule_days, try_due_at
from .hosted_payment import invoice_on_session_close
from .models import BillingCard, BillingRefund, CollectionTry, Invoice

logger = logging.getLogger(__name__)

PENDING_STALE: Final = timedelta(minutes=10)
Status = CollectionTry.Status


@dataclass(frozen=True)
class CollectResult:
    invoice: str
    # charged | declined | requires_authentication | failed | paid_on_session | refund_* | error
    # | skipped
    outcome: str
    try_number: int | None = None
    detail: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "invoice": self.invoice,
            "outcome": self.outcome,
            "try": self.try_number,
            "detail": self.detail,
        }


@dataclass(frozen=True)
class _Claim:
    attempt: CollectionTry | None
    card: BillingCard | None = None
    skipped: str = ""


def _refunded(intent_id: str) -> bool:
    return bool(intent_id) and BillingRefund.objects.filter(payment_intent_id=intent_id).exists()


def _next_try(invoice: Invoice, now: datetime) -> tuple[CollectionTry | int | None, str]:
    """What is to be done for `invoice` now: the stale pending try to re-drive, the number of
    the try to make, or None and why not."""
    if invoice.status != Invoice.Status.ISSUED or invoice.amount_due <= 0:
        return None, "nothing is due"
    card = BillingCard.objects.filter(tenant_id=invoice.tenant_id).first()
    if card is None or not card.is_saved:
        return None, "no billing card"
    latest = invoice.collection_tries.order_by("-number").first()
    if (
        latest is not None
        and latest.status == Status.SUCCEEDED
        and not _refunded(latest.payment_intent_id or latest.action_intent_id)
    ):
        return None, f"try {latest.number} succeeded: awaiting the webhook"
    if latest is not None and latest.status == Status.PENDING:
        if latest.attempted_at > now - PENDING_STALE:
            return None, f"try {latest.number} is in progress"
        return latest, ""  # re-driven: same number, same idempotency key
    number = 1 if latest is None else latest.number + 1
    due = try_due_at(invoice=invoice, number=number)
    if due is None:
        return None, "overdue: the schedule is exhausted"
    if now < due:
        return None, f"try {number} is due at {due.isoformat()}"
    return number, ""


def _claim(*, invoice_id: int, now: datetime, closed: frozenset[str]) -> _Claim:
    """Lock the invoice and commit the try to make now (see the module docstring), if any;
    `closed`: the on-session PaymentIntents canceled before."""
    with transaction.atomic():
        invoice = Invoice.objects.select_for_update().filter(pk=invoice_id).first()
        if invoice is None:
            return _Claim(None, skipped="nothing is due")
        todo, skipped = _next_try(invoice, now)
        if todo is None:
            return _Claim(None, skipped=skipped)
        started = invoice.collection_tries.exclude(action_intent_id="").exclude(
            action_intent_id__in=closed
        )
        if started.exclude(status=Status.SUCCEEDED).exists():
            return _Claim(None, skipped="the merchant started paying on the hosted page")
        card = BillingCard.objects.get(tenant_id=invoice.tenant_id)
        if isinstance(todo, CollectionTry):
            todo.attempted_at = now
            todo.save(update_fields=["attempted_at", "updated_at"])
            return _Claim(todo, card)
        attempt = CollectionTry.objects.create(
            tenant_id=invoice.tenant_id, invoice=invoice, number=todo, attempted_at=now
        )
        return _Claim(attempt, card)


def invoice_collect(*, invoice_id: int, now: datetime) -> CollectResult:
    """Make the try of one invoice that is due now, in the caller's tenant scope."""
    label = str(invoice_id)
    try:
        found = Invoice.objects.filter(pk=invoice_id).first()
        if found is None:
            return CollectResult(label, "skipped", detail="nothing is due")
        label = found.display_number
        todo, skipped = _next_try(found, now)
        if todo is None:
            return CollectResult(label, "skipped", detail=skipped)
        closing = invoice_on_session_close(invoice_id=invoice_id, now=now)
        if closing.paid:
            return CollectResult(label, "paid_on_session", detail=closing.detail)
        claim = _claim(invoice_id=invoice_id, now=now, closed=closing.closed)
        attempt, card = claim.attempt, claim.card
        if attempt is None or card is None:
            return CollectResult(label, "skipped", detail=claim.skipped)
        invoice = attempt.invoice
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
    results = [
        CollectResult(str(refund.invoice_id), f"refund_{refund.status}", None, refund.reason)
        for refund in billing_refunds_retry(now=now)
    ]
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
    for invoice_id, tenant_id in found:
        with tenant_context(tenant_id):
            results.append(invoice_collect(invoice_id=invoice_id, now=now))
    return results
