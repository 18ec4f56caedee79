"""Where payment attempts, orders and settlement records disagree: reported, never fixed.

A difference between money state and fee records needs a person to look at it, and guessing a
fix would hide the bug that caused it. `manage.py reconcile` prints these after resolving the
payments left pending (`wasla.payments.reconciliation`), and exits 1 when there are any.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from typing import Any

from celery import shared_task
from django.db.models import Exists, F, OuterRef

from wasla.orders.models import Order
from wasla.payments.models import PAID_STATUSES, PaymentAttempt
from wasla.tenants.context import platform_access

from .models import SettlementRecord

logger = logging.getLogger(__name__)

PAID_ORDER_STATUSES = (
    Order.Status.PAID,
    Order.Status.PARTIALLY_REFUNDED,
    Order.Status.REFUNDED,
)


@dataclass(frozen=True)
class SettlementDifference:
    kind: str
    tenant_id: int
    detail: str
    order_id: uuid.UUID | None = None
    attempt_id: uuid.UUID | None = None
    settlement_id: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "tenant_id": self.tenant_id,
            "order_id": str(self.order_id) if self.order_id else None,
            "attempt_id": str(self.attempt_id) if self.attempt_id else None,
            "settlement_id": self.settlement_id,
            "detail": self.detail,
        }


def reconcile_settlements() -> list[SettlementDifference]:
    """Every place where payment attempts, orders and settlement records disagree.

    Report only, never fix: each difference means a bug or a hand edit, and a person has to
    decide which side is right. Five checks, each one query:
    - a paid (or refunded) attempt without a settlement record: a fee never recorded;
    - a settlement whose attempt is not paid: a fee charged for nothing;
    - a settlement whose amount, currency or order is not its attempt's;
    - an order marked paid (or refunded) with no paid attempt;
    - a paid attempt whose order is still pending or cancelled.
    """
    with platform_access(reason="reconcile settlements"):
        return _settlement_differences()


def _settlement_differences() -> list[SettlementDifference]:
    differences: list[SettlementDifference] = []
    settled = SettlementRecord.objects.filter(payment_attempt=OuterRef("pk"))
    for attempt in (
        PaymentAttempt.objects.filter(status__in=PAID_STATUSES)
        .filter(~Exists(settled))
        .order_by("tenant_id", "created_at")
    ):
        differences.append(
            SettlementDifference(
                kind="paid_attempt_without_settlement",
                tenant_id=attempt.tenant_id,
                order_id=attempt.order_id,
                attempt_id=attempt.id,
                detail=f"attempt is {attempt.status} but has no settlement record",
            )
        )
    settlements = SettlementRecord.objects.select_related("payment_attempt").order_by(
        "tenant_id", "created_at"
    )
    for settlement in settlements.exclude(payment_attempt__status__in=PAID_STATUSES):
        differences.append(
            _settlement_difference(
                settlement,
                "settlement_for_unpaid_attempt",
                f"settlement exists but its attempt is {settlement.payment_attempt.status}",
            )
        )
    mismatched = settlements.filter(payment_attempt__status__in=PAID_STATUSES).exclude(
        gross_amount=F("payment_attempt__amount"),
        currency=F("payment_attempt__currency"),
        order_id=F("payment_attempt__order_id"),
    )
    for settlement in mismatched:
        attempt = settlement.payment_attempt
        differences.append(
            _settlement_difference(
                settlement,
                "settlement_does_not_match_attempt",
                f"settlement {settlement.gross_amount} {settlement.currency} for order "
                f"{settlement.order_id}, attempt {attempt.amount} {attempt.currency} for order "
                f"{attempt.order_id}",
            )
        )
    paid_attempt = PaymentAttempt.objects.filter(order=OuterRef("pk"), status__in=PAID_STATUSES)
    for order in (
        Order.objects.filter(status__in=PAID_ORDER_STATUSES)
        .filter(~Exists(paid_attempt))
        .order_by("tenant_id", "created_at")
    ):
        differences.append(
            SettlementDifference(
                kind="paid_order_without_paid_attempt",
                tenant_id=order.tenant_id,
                order_id=order.id,
                detail=f"order {order.reference} is {order.status} but no attempt of it is paid",
            )
        )
    for attempt in (
        PaymentAttempt.objects.filter(status__in=PAID_STATUSES)
        .exclude(order__status__in=PAID_ORDER_STATUSES)
        .select_related("order")
        .order_by("tenant_id", "created_at")
    ):
        differences.append(
            SettlementDifference(
                kind="paid_attempt_on_unpaid_order",
                tenant_id=attempt.tenant_id,
                order_id=attempt.order_id,
                attempt_id=attempt.id,
                detail=f"attempt is {attempt.status} but its order is {attempt.order.status}",
            )
        )
    return differences


def _settlement_difference(
    settlement: SettlementRecord, kind: str, detail: str
) -> SettlementDifference:
    return SettlementDifference(
        kind=kind,
        tenant_id=settlement.tenant_id,
        order_id=settlement.order_id,
        attempt_id=settlement.payment_attempt_id,
        settlement_id=settlement.pk,
        detail=detail,
    )


@shared_task(name="settlement.reconcile_settlements")
def reconcile_settlements_task() -> int:
    """Periodic (Celery beat, e.g. daily): log every settlement difference for staff."""
    differences = reconcile_settlements()
    for difference in differences:
        logger.error("settlement difference: %s", difference.as_dict())
    return len(differences)
