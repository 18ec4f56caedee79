"""Events of Wasla's own Stripe account (the billing webhook), applied exactly once.

The view (`billing_views.py`) verifies the signature and reads the event; here each event is
recorded (`BillingWebhookEvent`, unique event id) in the same transaction as its effect, so a
replay, or a concurrent duplicate waiting on the unique index, finds it and changes nothing:
- `payment_intent.succeeded` (metadata: invoice, tenant, try): `card_payment_apply` — the
  payment recorded once per PaymentIntent and the try succeeded, or, when the invoice no longer
  owes it, the PaymentIntent refunded whole (`card_payments.py`);
- `payment_intent.payment_failed`: the try declined, unless already settled;
- `checkout.session.completed` in setup mode: the card read back from Stripe (before the
  transaction: no lock waits on the network) and saved for the tenant of the session;
- anything else: recorded and ignored.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction

from wasla.tenants.context import tenant_context

from . import billing_stripe
from .billing_cards import billing_card_save
from .card_payments import card_payment_apply
from .collection_tries import collection_try_settle
from .models import BillingWebhookEvent, CollectionTry, Invoice

EventStatus = BillingWebhookEvent.Status
CARD_PURPOSE = "wasla_billing_card"


class EventUnreadable(ValueError):
    """A verified event whose object lacks what its type needs."""


@dataclass(frozen=True)
class BillingEvent:
    id: str
    type: str
    object: dict[str, Any]

    @property
    def metadata(self) -> dict[str, Any]:
        found = self.object.get("metadata")
        return found if isinstance(found, dict) else {}


def _int(value: Any, what: str) -> int:
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) < 18:
        return int(value)
    raise EventUnreadable(f"{what} is not an id: {str(value)[:40]!r}")


def _try_locked(event: BillingEvent) -> tuple[Invoice, CollectionTry | None]:
    invoice_id = _int(event.metadata.get("invoice_id"), "metadata.invoice_id")
    invoice = Invoice.objects.select_for_update().filter(pk=invoice_id).first()
    if invoice is None:
        raise EventUnreadable(f"no invoice {invoice_id} for this tenant")
    number = _int(event.metadata.get("try"), "metadata.try")
    found = CollectionTry.objects.select_for_update().filter(invoice=invoice, number=number)
    return invoice, found.first()


def _intent_succeeded(event: BillingEvent, now: datetime) -> tuple[str, str]:
    invoice, attempt = _try_locked(event)
    intent_id = str(event.object.get("id") or "")
    units = event.object.get("amount_received")
    if not intent_id.startswith("pi_") or not isinstance(units, int) or units <= 0:
        raise EventUnreadable("a PaymentIntent needs its id and amount_received")
    try:
        amount = billing_stripe.amount_from_minor(units, str(event.object.get("currency")))
    except (ValueError, ArithmeticError) as error:  # MoneyError: an unknown currency, absurd units
        raise EventUnreadable(f"unusable amount: {error}") from None
    applied = card_payment_apply(
        invoice=invoice,
        attempt=attempt,
        intent_id=intent_id,
        amount=amount,
        actor="stripe-billing-webhook",
        now=now,
    )
    detail = f"{applied.outcome}: {applied.detail}" if applied.detail else applied.outcome
    return EventStatus.PROCESSED, detail


def _intent_failed(event: BillingEvent, now: datetime) -> tuple[str, str]:
    _invoice, attempt = _try_locked(event)
    if attempt is None or attempt.status != CollectionTry.Status.PENDING:
        return EventStatus.IGNORED, "the try is settled already"
    error = event.object.get("last_payment_error") or {}
    code = str(error.get("decline_code") or error.get("code") or "card_declined")
    status = (
        CollectionTry.Status.REQUIRES_AUTHENTICATION
        if code == "authentication_required"
        else CollectionTry.Status.DECLINED
    )
    collection_try_settle(
        attempt=attempt,
        status=status,
        intent_id=str(event.object.get("id") or ""),
        code=code,
        message=str(error.get("message") or ""),
    )
    return EventStatus.PROCESSED, status


HANDLERS: dict[str, Callable[[BillingEvent, datetime], tuple[str, str]]] = {
    "payment_intent.succeeded": _intent_succeeded,
    "payment_intent.payment_failed": _intent_failed,
}


def event_tenant_id(event: BillingEvent) -> int | None:
    """The tenant an event is about, from what Wasla put in it (None: not ours to act on)."""
    if event.type in HANDLERS:
        if "invoice_id" not in event.metadata:
            return None  # a PaymentIntent the collection did not make: not ours to act on
        return _int(event.metadata.get("tenant_id"), "metadata.tenant_id")
    if (
        event.type == "checkout.session.completed"
        and event.object.get("mode") == "setup"
        and event.metadata.get("purpose") == CARD_PURPOSE
    ):
        return _int(event.object.get("client_reference_id"), "client_reference_id")
    return None


def event_already_recorded(event_id: str) -> bool:
    return BillingWebhookEvent.objects.filter(event_id=event_id).exists()


def billing_event_apply(*, event: BillingEvent, tenant_id: int | None, now: datetime) -> bool:
    """Apply a verified event once; False when it was recorded already (nothing changed).

    Raises billing_stripe.BillingStripeUnavailable when the card cannot be read back (the
    sender should deliver it again) and EventUnreadable for an event we cannot use."""
    card = None
    if tenant_id is not None and event.type == "checkout.session.completed":
        card = billing_stripe.setup_session_card(session_id=str(event.object.get("id") or ""))
    with transaction.atomic():
        try:
            with transaction.atomic():
                record = BillingWebhookEvent.objects.create(
                    event_id=event.id,
                    event_type=event.type[:100],
                    object_id=str(event.object.get("id") or "")[:255],
                    status=EventStatus.IGNORED,
                    received_at=now,
                )
        except IntegrityError:
            return False
        if tenant_id is None:
            return True
        with tenant_context(tenant_id):
            if event.type in HANDLERS:
                record.status, record.detail = HANDLERS[event.type](event, now)
            elif card is not None:
                billing_card_save(tenant_id=tenant_id, card=card, now=now)
                record.status, record.detail = EventStatus.PROCESSED, "card saved"
            else:
                record.detail = "the session saved no card"
        record.save(update_fields=["status", "detail"])
    return True
