"""`payment_and_order_lock` takes the order's row lock before the attempt's, in one statement.

Every writer locks an order before its attempt (services.py), so two of them can never wait on
each other. The confirmation takes both locks with one `SELECT … FOR UPDATE OF order, attempt`
over a join, and PostgreSQL then locks the rows in the order the OF clause names them. Shown
with real connections: while another transaction holds the attempt, the confirmation waits on
it already holding the order (a third connection cannot take the order, NOWAIT).
"""

from __future__ import annotations

import threading
import time

import pytest
from django.db import OperationalError, connection, transaction

from testsupport.factories import make_attempt
from wasla.orders.models import Order
from wasla.payments.services import attempt_lock, payment_and_order_lock
from wasla.tenants.context import tenant_context

pytestmark = pytest.mark.django_db(transaction=True)


def _lock_waiters(tenant_id: int) -> int:
    """Sessions of this database waiting on a lock. Read as the login role (a tenant scope):
    the platform role may not see other sessions' waits."""
    with tenant_context(tenant_id), connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return int(cursor.fetchone()[0])


def test_the_order_is_locked_before_the_attempt(tenant, tap_config):
    attempt = make_attempt(tap_config)
    holding, release = threading.Event(), threading.Event()
    got: list[object] = []

    def hold_the_attempt() -> None:
        try:
            with tenant_context(tenant.pk), transaction.atomic():
                attempt_lock(attempt_id=attempt.id)
                holding.set()
                release.wait(30)
        finally:
            connection.close()

    def confirm() -> None:
        try:
            with tenant_context(tenant.pk), transaction.atomic():
                got.append(payment_and_order_lock(attempt_id=attempt.id).order.pk)
        except Exception as exc:  # shown by the assertions
            got.append(exc)
        finally:
            connection.close()

    holder = threading.Thread(target=hold_the_attempt)
    holder.start()
    assert holding.wait(30)
    confirmer = threading.Thread(target=confirm)
    confirmer.start()
    try:
        for _ in range(300):  # until the confirmation waits on the attempt's lock
            if _lock_waiters(tenant.pk):
                break
            time.sleep(0.05)
        assert _lock_waiters(tenant.pk) == 1, got
        with (
            tenant_context(tenant.pk),
            transaction.atomic(),
            pytest.raises(OperationalError, match="could not obtain lock"),
        ):
            Order.objects.select_for_update(nowait=True).get(pk=attempt.order_id)
        assert got == []  # still waiting on the attempt
    finally:
        release.set()
        holder.join(30)
        confirmer.join(30)
    assert got == [attempt.order_id]
