"""The order owns its status: each transition is one compare-and-set UPDATE that refuses an
order not in the status it starts from."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from testsupport.factories import make_order
from wasla.orders.models import Order
from wasla.orders.services import OrderTransitionRefused, order_mark_paid, order_mark_refunded

pytestmark = pytest.mark.django_db


def _status(order: Order) -> tuple[str, object]:
    return Order.objects.values_list("status", "paid_at").get(pk=order.pk)


def test_a_pending_order_is_paid_once_in_one_statement(tenant):
    order = make_order(tenant)
    paid_at = timezone.now()
    with CaptureQueriesContext(connection) as ctx:
        order_mark_paid(order_id=order.pk, paid_at=paid_at)
    assert len(ctx) == 1
    assert ctx.captured_queries[0]["sql"].startswith("UPDATE")
    assert _status(order) == ("paid", paid_at)
    with pytest.raises(OrderTransitionRefused, match="was paid, not pending"), transaction.atomic():
        order_mark_paid(order_id=order.pk, paid_at=timezone.now())
    assert _status(order) == ("paid", paid_at)


def test_refunds_move_a_paid_order_forward_only(tenant):
    order = make_order(tenant)
    with pytest.raises(OrderTransitionRefused, match="was pending"), transaction.atomic():
        order_mark_refunded(order_id=order.pk, full=False)
    assert _status(order)[0] == "pending"
    order_mark_paid(order_id=order.pk, paid_at=timezone.now())
    order_mark_refunded(order_id=order.pk, full=False)
    assert _status(order)[0] == "partially_refunded"
    order_mark_refunded(order_id=order.pk, full=False)  # another partial refund
    assert _status(order)[0] == "partially_refunded"
    order_mark_refunded(order_id=order.pk, full=True)
    assert _status(order)[0] == "refunded"
    with pytest.raises(OrderTransitionRefused, match="was refunded"), transaction.atomic():
        order_mark_refunded(order_id=order.pk, full=True)
    assert _status(order)[0] == "refunded"
