"""What happened to payments, announced to the apps above (settlement, invoicing, dashboards).

Payments imports none of the apps that care about its money moving. Instead it emits one of
the typed, frozen events below, and those apps subscribe to the event class in their
`AppConfig.ready()`:

    subscribe(PaymentConfirmed, settlement_on_payment_confirmed)
    emit(PaymentConfirmed(tenant_id=..., attempt_id=..., ...))

Dispatch is synchronous and in process: `emit` calls each subscriber of the event's exact class,
in the order they subscribed, inside the transaction that made the event happen (it refuses to
run outside one). A subscriber's exception is not caught: it propagates to the emitter and rolls
back the whole step, so a payment is never confirmed without its settlement. Subscribing the
same handler twice keeps one subscription. Emitting runs no SQL of its own.

An event carries ids and the facts its subscribers need, so they do not have to read them back.
Amounts are Decimals in the event's currency.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

from django.db import DEFAULT_DB_ALIAS, transaction


@dataclass(frozen=True, kw_only=True)
class PaymentEvent:
    """Base of every payment event: each belongs to one tenant."""

    tenant_id: int


@dataclass(frozen=True, kw_only=True)
class PaymentCheckoutRequested(PaymentEvent):
    """An order is about to get a payment attempt (nothing is created yet, nothing sent).

    Subscribers may refuse the checkout by raising a `wasla.common.problems.Problem` (payments
    defines the ones it answers with in `problems.py`, e.g. `NoFeePlan`); no attempt is then
    created.
    """

    order_id: uuid.UUID
    provider: str
    method: str
    amount: Decimal
    currency: str
    requested_at: datetime


@dataclass(frozen=True, kw_only=True)
class PaymentConfirmed(PaymentEvent):
    """An attempt became paid (attempt and order are marked paid in the same transaction)."""

    attempt_id: uuid.UUID
    order_id: uuid.UUID
    provider: str
    amount: Decimal
    currency: str
    paid_at: datetime


@dataclass(frozen=True, kw_only=True)
class RefundSucceeded(PaymentEvent):
    """A refund of a paid attempt succeeded (ours or made in the provider's dashboard).

    `refunded_total` is the attempt's refunded amount including this refund; `full` says the
    payment is now refunded entirely.
    """

    refund_id: uuid.UUID
    attempt_id: uuid.UUID
    order_id: uuid.UUID
    amount: Decimal
    currency: str
    refunded_total: Decimal
    full: bool


@dataclass(frozen=True, kw_only=True)
class PaymentDisputed(PaymentEvent):
    """A chargeback was opened or changed at the provider. It does not move the attempt's
    status; `attempt_id`/`order_id` are None when the dispute names a payment not known here."""

    dispute_id: int
    provider: str
    provider_reference: str
    attempt_id: uuid.UUID | None
    order_id: uuid.UUID | None
    amount: Decimal | None
    currency: str
    reason: str
    status: str


E = TypeVar("E", bound=PaymentEvent)

_subscribers: dict[type[PaymentEvent], list[Callable[[Any], None]]] = {}


class EmittedOutsideTransaction(RuntimeError):
    """An event must be emitted inside the transaction that made it happen."""


def subscribe(event_type: type[E], handler: Callable[[E], None]) -> None:
    """Call `handler(event)` for every emitted `event_type` (exact class), after the handlers
    subscribed before it. Subscribing the same handler again changes nothing."""
    handlers = _subscribers.setdefault(event_type, [])
    if handler not in handlers:
        handlers.append(handler)


def unsubscribe(event_type: type[E], handler: Callable[[E], None]) -> None:
    """Stop calling `handler` for `event_type`; a handler not subscribed is ignored."""
    handlers = _subscribers.get(event_type, [])
    if handler in handlers:
        handlers.remove(handler)


def subscribers(event_type: type[PaymentEvent]) -> tuple[Callable[[Any], None], ...]:
    """The handlers of `event_type`, in calling order."""
    return tuple(_subscribers.get(event_type, ()))


def emit(event: PaymentEvent) -> None:
    """Call every subscriber of the event's class, in order, in the caller's transaction.

    Exceptions propagate: the caller's atomic block, and so the step that made the event
    happen, rolls back.
    """
    if not transaction.get_connection(DEFAULT_DB_ALIAS).in_atomic_block:
        raise EmittedOutsideTransaction(f"{type(event).__name__} emitted outside a transaction")
    for handler in subscribers(type(event)):
        handler(event)
