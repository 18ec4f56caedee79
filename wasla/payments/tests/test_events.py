"""The payment events and their dispatch: typed, in order, once per handler, inside the emitting
transaction, with no SQL of their own; and a subscriber that fails takes the whole confirmation
down with it, so the webhook is retried and confirms the payment once later."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.apps import apps
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from wasla.ledger.models import FinancialLedgerEntry, LedgerAccount, LedgerTransaction
from wasla.orders.models import Order
from wasla.payments.events import (
    EmittedOutsideTransaction,
    PaymentCheckoutRequested,
    PaymentConfirmed,
    PaymentDisputed,
    PaymentEvent,
    RefundSucceeded,
    emit,
    subscribe,
    subscribers,
    unsubscribe,
)
from wasla.payments.models import PaymentAttempt, PaymentGatewayConfig, WebhookEvent
from wasla.payments.webhooks.sweep import webhook_events_sweep
from wasla.settlement.models import FeePlan, SettlementRecord
from wasla.settlement.subscribers import (
    settlement_on_checkout_requested,
    settlement_on_payment_confirmed,
    settlement_on_refund_succeeded,
)

from .webhook_deliveries import post_stripe, stripe_paid_delivery

Subscribe = Callable[[type[PaymentEvent], Callable[[Any], None]], None]


@pytest.fixture
def subscribed() -> Iterator[Subscribe]:
    """`subscribed(EventClass, handler)`: subscribe for this test only. Every handler is
    unsubscribed afterwards, whether the test passed or failed."""
    added: list[tuple[type[PaymentEvent], Callable[[Any], None]]] = []

    def add(event_type: type[PaymentEvent], handler: Callable[[Any], None]) -> None:
        subscribe(event_type, handler)
        added.append((event_type, handler))

    yield add
    for event_type, handler in added:
        unsubscribe(event_type, handler)


def _confirmed(**changes: Any) -> PaymentConfirmed:
    return PaymentConfirmed(
        **{
            "tenant_id": 1,
            "attempt_id": uuid.uuid4(),
            "order_id": uuid.uuid4(),
            "provider": "tap",
            "amount": Decimal("100.00"),
            "currency": "SAR",
            "paid_at": timezone.now(),
            **changes,
        }
    )


def _disputed() -> PaymentDisputed:
    return PaymentDisputed(
        tenant_id=1,
        dispute_id=7,
        provider="stripe",
        provider_reference="dp_1",
        attempt_id=uuid.uuid4(),
        order_id=uuid.uuid4(),
        amount=Decimal("100.00"),
        currency="SAR",
        reason="fraudulent",
        status="needs_response",
    )


def test_settlement_subscribes_at_startup_once_however_often_ready_runs():
    expected = {
        PaymentCheckoutRequested: (settlement_on_checkout_requested,),
        PaymentConfirmed: (settlement_on_payment_confirmed,),
        RefundSucceeded: (settlement_on_refund_succeeded,),
    }
    assert {event: subscribers(event) for event in expected} == expected
    apps.get_app_config("settlement").ready()  # e.g. a second start in the same process
    assert {event: subscribers(event) for event in expected} == expected


@pytest.mark.django_db
def test_subscribers_run_in_order_once_each_and_only_for_their_class(subscribed):
    calls: list[tuple[str, PaymentEvent]] = []

    def first(event: PaymentEvent) -> None:
        calls.append(("first", event))

    def second(event: PaymentEvent) -> None:
        calls.append(("second", event))

    subscribed(PaymentDisputed, first)
    subscribed(PaymentDisputed, second)
    subscribed(PaymentDisputed, first)  # again: still one subscription, still first
    subscribed(RefundSucceeded, second)
    event = _disputed()
    with transaction.atomic():
        emit(event)
    assert calls == [("first", event), ("second", event)]
    assert subscribers(PaymentDisputed) == (first, second)


@pytest.mark.django_db
def test_a_subscriber_error_propagates_and_stops_the_later_ones(subscribed):
    later: list[PaymentEvent] = []

    def broken(event: PaymentEvent) -> None:
        raise LookupError("no such thing")

    subscribed(PaymentDisputed, broken)
    subscribed(PaymentDisputed, later.append)
    with pytest.raises(LookupError, match="no such thing"), transaction.atomic():
        emit(_disputed())
    assert later == []


def test_an_event_is_emitted_only_inside_a_transaction(subscribed):
    called: list[PaymentEvent] = []
    subscribed(PaymentDisputed, called.append)
    with pytest.raises(EmittedOutsideTransaction):
        emit(_disputed())
    assert called == []


@pytest.mark.django_db
def test_dispatch_runs_no_sql_and_events_are_frozen(subscribed):
    received: list[PaymentEvent] = []
    subscribed(PaymentDisputed, received.append)  # nothing else listens to disputes yet
    event = _disputed()
    with transaction.atomic(), CaptureQueriesContext(connection) as ctx:
        emit(event)
    assert len(ctx) == 0, ctx.captured_queries
    assert received == [event]
    with pytest.raises(dataclasses.FrozenInstanceError):
        event.status = "won"  # type: ignore[misc]
    confirmed = _confirmed()
    with pytest.raises(dataclasses.FrozenInstanceError):
        confirmed.amount = Decimal(0)  # type: ignore[misc]


# --- A failing subscriber rolls the whole confirmation back ---------------------------------


def _state(attempt: PaymentAttempt) -> dict[str, Any]:
    """Everything a confirmation writes: attempt, order, settlement, plan freeze, ledger."""
    return {
        "attempt": PaymentAttempt.objects.values(
            "status", "paid_at", "provider_payment_reference", "raw_response", "refunded_amount"
        ).get(pk=attempt.pk),
        "order": Order.objects.values("status", "paid_at").get(pk=attempt.order_id),
        "settlements": list(SettlementRecord.objects.values_list("pk", flat=True)),
        "plans in use": list(FeePlan.objects.filter(in_use=True).values_list("pk", flat=True)),
        "ledger transactions": list(LedgerTransaction.objects.values_list("pk", "hash")),
        "ledger entries": FinancialLedgerEntry.objects.count(),
        "ledger accounts": list(LedgerAccount.objects.values_list("code", "balance")),
    }


@pytest.mark.django_db(transaction=True)
def test_a_failing_subscriber_rolls_the_confirmation_back_and_the_webhook_is_retried(
    stripe_config: PaymentGatewayConfig, subscribed
):
    seen: list[PaymentConfirmed] = []

    def broken(event: PaymentConfirmed) -> None:
        seen.append(event)
        raise RuntimeError("the dashboard subscriber broke")

    subscribed(PaymentConfirmed, broken)  # after settlement's: the settlement is made, then lost
    attempt, body, signature = stripe_paid_delivery(stripe_config)
    before = _state(attempt)

    # A real signed delivery; committed, then processed inline (tests run tasks eagerly).
    assert post_stripe(stripe_config, body, signature).status_code == 200

    assert [(e.attempt_id, e.amount, e.currency) for e in seen] == [
        (attempt.id, attempt.amount, "SAR")
    ]
    assert _state(attempt) == before
    event = WebhookEvent.objects.get()
    assert (event.status, event.attempts) == ("received", 1)
    assert event.error.startswith("RuntimeError: the dashboard subscriber broke")
    assert event.next_attempt_at > timezone.now()  # retried later, not given up

    # The subscriber is fixed (here: removed); the retry comes due and confirms it once.
    unsubscribe(PaymentConfirmed, broken)
    WebhookEvent.objects.filter(pk=event.pk).update(
        next_attempt_at=timezone.now() - timedelta(seconds=1)
    )
    assert webhook_events_sweep(inline=True) == [event.pk]
    event.refresh_from_db()
    assert (event.status, event.attempts) == ("processed", 2)
    attempt.refresh_from_db()
    assert attempt.status == "paid"
    assert Order.objects.get(pk=attempt.order_id).status == "paid"
    settlement = SettlementRecord.objects.get()
    assert settlement.payment_attempt_id == attempt.id
    assert LedgerTransaction.objects.filter(entry_type="fee").count() == 1
    assert len(seen) == 1  # the retry did not call the removed subscriber
    assert webhook_events_sweep(inline=True) == []  # done is done
    assert SettlementRecord.objects.count() == 1
