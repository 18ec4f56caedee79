"""No double charge, exactly-once effects (docs/invariants.md, invariants 1 and 2): the
database itself refuses a second open or paid attempt, a second settlement, and refunds above
the amount — shown with raw SQL that bypasses the ORM."""

import uuid
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction

from testsupport.factories import make_order, make_tap_config, make_tenant
from wasla.payments.models import PaymentAttempt
from wasla.settlement.models import SettlementRecord

pytestmark = pytest.mark.django_db


def _insert_attempt(order, config, status, reference=None):
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO payments_paymentattempt
              (id, tenant_id, order_id, gateway_config_id, provider, method, amount, currency,
               status, provider_reference, idempotency_key, redirect_url, return_url,
               raw_response, refunded_amount, failure_code, failure_message,
               created_at, updated_at)
            VALUES (%s, %s, %s, %s, 'tap', 'mada', %s, 'SAR', %s, %s, %s, '', '', '{}', 0, '', '',
                    now(), now())
            """,
            [
                uuid.uuid4(),
                order.tenant_id,
                order.id,
                config.id,
                order.amount,
                status,
                reference,
                uuid.uuid4().hex,
            ],
        )


@pytest.fixture
def order_and_config():
    tenant = make_tenant()
    return make_order(tenant), make_tap_config(tenant)


@pytest.mark.parametrize("first", ["created", "pending"])
@pytest.mark.parametrize("second", ["created", "pending"])
def test_raw_sql_cannot_open_a_second_attempt(order_and_config, first, second):
    order, config = order_and_config
    _insert_attempt(order, config, first)
    with pytest.raises(IntegrityError), transaction.atomic():
        _insert_attempt(order, config, second)


@pytest.mark.parametrize("second", ["paid", "partially_refunded", "refunded"])
def test_raw_sql_cannot_add_a_second_paid_attempt(order_and_config, second):
    order, config = order_and_config
    _insert_attempt(order, config, "paid")
    with pytest.raises(IntegrityError), transaction.atomic():
        _insert_attempt(order, config, second)


def test_failed_attempts_do_not_block_a_new_one(order_and_config):
    order, config = order_and_config
    _insert_attempt(order, config, "failed")
    _insert_attempt(order, config, "cancelled")
    _insert_attempt(order, config, "pending")
    assert PaymentAttempt.objects.filter(order=order).count() == 3


def test_raw_sql_cannot_reuse_a_provider_reference(order_and_config):
    order, config = order_and_config
    _insert_attempt(order, config, "failed", reference="chg_same")
    with pytest.raises(IntegrityError), transaction.atomic():
        _insert_attempt(make_order(order.tenant), config, "pending", reference="chg_same")


def test_raw_sql_cannot_refund_more_than_the_amount_or_invent_a_status(order_and_config):
    order, config = order_and_config
    _insert_attempt(order, config, "paid")
    for sql in (
        "UPDATE payments_paymentattempt SET refunded_amount = amount + 0.01",
        "UPDATE payments_paymentattempt SET refunded_amount = -1",
        "UPDATE payments_paymentattempt SET status = 'captured'",
        "UPDATE payments_paymentattempt SET amount = 0",
    ):
        with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql)


def _insert_settlement(order, attempt_id, fee="1.00"):
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO settlement_settlementrecord
              (tenant_id, order_id, payment_attempt_id, currency, gross_amount, wasla_fee,
               net_amount, fee_breakdown, status, created_at, updated_at)
            VALUES (%s, %s, %s, 'SAR', %s, %s, %s, '{}', 'pending', now(), now())
            """,
            [
                order.tenant_id,
                order.id,
                attempt_id,
                order.amount,
                Decimal(fee),
                order.amount - Decimal(fee),
            ],
        )


def test_raw_sql_cannot_create_a_second_settlement_for_an_order(order_and_config):
    order, config = order_and_config
    _insert_attempt(order, config, "failed", reference="chg_a")
    _insert_attempt(order, config, "paid", reference="chg_b")
    first, second = PaymentAttempt.objects.filter(order=order).order_by("provider_reference")
    _insert_settlement(order, first.id)
    with pytest.raises(IntegrityError), transaction.atomic():
        _insert_settlement(order, second.id)
    assert SettlementRecord.objects.filter(order=order).count() == 1


def test_raw_sql_cannot_break_net_equals_gross_minus_fee(order_and_config):
    order, config = order_and_config
    _insert_attempt(order, config, "paid")
    attempt = PaymentAttempt.objects.get(order=order)
    _insert_settlement(order, attempt.id)
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE settlement_settlementrecord SET wasla_fee = 2.00")
