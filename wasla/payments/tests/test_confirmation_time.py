"""A confirmation is dated by the time its caller passes in (`now`), the clock otherwise: the
attempt's and the order's `paid_at` and the settlement's month follow it."""

from __future__ import annotations

import uuid

import pytest

from testsupport.factories import make_attempt, make_order, make_tap_config, make_tenant
from testsupport.invoicing import clock_at, riyadh
from testsupport.payments import cod_config
from wasla.orders.models import Order
from wasla.payments.providers.base import PaymentResult, PaymentStatus
from wasla.payments.services import payment_apply_result, payment_checkout, payment_collect
from wasla.settlement.models import SettlementRecord

pytestmark = pytest.mark.django_db


def _dates(attempt_id: uuid.UUID) -> set[object]:
    settlement = SettlementRecord.objects.select_related("order", "payment_attempt").get(
        payment_attempt_id=attempt_id
    )
    return {
        settlement.payment_paid_at,
        settlement.payment_attempt.paid_at,
        Order.objects.get(pk=settlement.order_id).paid_at,
    }


def test_a_provider_confirmation_is_dated_by_the_time_passed_in():
    tenant = make_tenant()
    attempt = make_attempt(make_tap_config(tenant))
    paid_at = riyadh(2025, 3, 31, 23, 59)
    with clock_at(riyadh(2025, 4, 2, 10)):
        payment_apply_result(
            attempt_id=attempt.id,
            result=PaymentResult(
                status=PaymentStatus.PAID,
                provider_reference="chg_dated",
                amount=attempt.amount,
                currency=attempt.currency,
            ),
            now=paid_at,
        )
    assert _dates(attempt.id) == {paid_at}


def test_cash_collected_is_dated_by_the_time_passed_in_and_by_the_clock_without_one():
    tenant = make_tenant()
    cod_config(tenant)
    attempts = [
        payment_checkout(
            tenant=tenant,
            order_id=make_order(tenant).id,
            provider="cod",
            method="cod",
            return_url="",
            client_key=key,
        )
        for key in ("dated", "clock")
    ]
    collected_at, clock = riyadh(2025, 2, 14, 18, 30), riyadh(2025, 3, 1, 9)
    with clock_at(clock):
        payment_collect(tenant=tenant, attempt_id=attempts[0].id, now=collected_at)
        payment_collect(tenant=tenant, attempt_id=attempts[1].id)
    assert _dates(attempts[0].id) == {collected_at}
    assert _dates(attempts[1].id) == {clock}
