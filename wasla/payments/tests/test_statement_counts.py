"""SQL statements per Tap payment confirmation: a fixed number, whatever the tenant's history.

A confirmation that reads more as a merchant grows (an N+1, an unindexed scan that Django turns
into extra queries, a per-payment aggregate) would make the busiest merchants the slowest. The
counts are exact so any change to them is a deliberate, reviewed one: update the number and the
list of statements next to it together.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

import httpx
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from testsupport.factories import make_attempt, make_order
from wasla.payments.models import PaymentAttempt, PaymentGatewayConfig, WebhookEvent
from wasla.payments.orchestrator import PaymentOrchestrator
from wasla.payments.providers.base import PaymentResult, PaymentStatus, WebhookRequest
from wasla.payments.providers.tap import dumps, hashstring
from wasla.payments.services import payment_apply_result, payment_checkout
from wasla.payments.webhooks.inbox import Receipt, webhook_receive
from wasla.payments.webhooks.processing import webhook_event_process
from wasla.settlement.models import SettlementRecord
from wasla.tenants.context import tenant_context

from .hosted import pay_on_hosted_page

# webhook_event_process of a stored Tap `charge.captured` event, the charge re-fetched from the
# sandbox over HTTP, run in autocommit mode and in the event's tenant scope as a Celery worker
# runs it. Django logs BEGIN and COMMIT too, so they are counted, and so are the row-level
# security statements (wasla/common/db/postgresql): one `set_config` per transaction, and in
# autocommit mode a statement in a scope is its own BEGIN, set_config, statement, COMMIT.
# (Django logs a statement once it returns, so its COMMIT shows in the log just before it.)
#   1  BEGIN (loading the event, counting its try and the handler's reads: one short
#      transaction, committed before the provider call so a worker that dies there still used
#      up its try)
#   2  set_config (the tenant, for the transaction)
#   3  SELECT the event with its gateway config
#   4  UPDATE the event: one more try, leased (still `received`)
#   5  SELECT the attempt the event names (by provider reference): the handler's read
#   6  COMMIT
#      -- GET /v2/charges/{id} at Tap, outside any transaction --
#   7  BEGIN
#   8  set_config (the tenant, for the transaction)
#   9  SELECT … FOR UPDATE SKIP LOCKED the event, still `received`
#  10  SELECT the attempt joined with its order FOR UPDATE OF order, attempt (payment_apply_result
#      joins this transaction, no savepoint: if it raises, all of it rolls back)
#  11  UPDATE the attempt to paid, compare-and-set on its old status
#  12  UPDATE the order to paid, compare-and-set on `pending`
#  13  SELECT the fee plan version in force with the tenant's assignment (uncorrelated
#      subqueries, by index) and the tenant's slug for the account codes
#  14  INSERT the settlement (its trigger marks the plan version used: no extra statement)
#      -- settlement_post_fee (wasla/ledger/tests/test_posting.py lists the same, with the slug
#      -- read there because no caller brings it) --
#  15  SELECT pg_advisory_xact_lock: the tenant's ledger hash-chain lock
#  16  SELECT the ledger transaction with this idempotency key (none) and the chain head
#  17  WITH accounts upserted and locked with their new balances, the transaction and its two
#      entries inserted: one statement
#  18  UPDATE the event to processed
#  19  COMMIT
PROCESS_STATEMENTS = 19

# webhook_receive of one verified Tap delivery (signature checked in Python, nothing fetched),
# in the tenant scope the webhook URL named. Counted inside the test's transaction, where the
# view's atomic block is a savepoint; in production the same block is BEGIN … COMMIT, so the
# count is the same:
#   1  set_config (the tenant, for the transaction; in production right after BEGIN)
#   2  SAVEPOINT (BEGIN in production)
#   3  INSERT the event … RETURNING id (the unique index drops duplicates)
#   4  RELEASE SAVEPOINT (COMMIT in production)
#      processing is queued on commit (a Celery task): not part of the ingest
INGEST_STATEMENTS = 4

PAST_PAYMENTS = [0, 1, 50]


def _past_paid_payments(config: PaymentGatewayConfig, count: int) -> None:
    """Earlier paid payments of the same tenant, confirmed through the real transition code."""
    for _ in range(count):
        attempt = make_attempt(config)
        payment_apply_result(
            attempt_id=attempt.id,
            result=PaymentResult(
                status=PaymentStatus.PAID,
                provider_reference=f"chg_past{uuid.uuid4().hex}",
                amount=attempt.amount,
                currency=attempt.currency,
            ),
        )


def _statements(ctx: CaptureQueriesContext) -> str:
    return "\n".join(f"{i}. {q['sql'][:160]}" for i, q in enumerate(ctx.captured_queries, 1))


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("past", PAST_PAYMENTS)
def test_processing_one_tap_confirmation_takes_a_fixed_number_of_statements(
    sandbox, tenant, tap_config, past
):
    _past_paid_payments(tap_config, past)
    httpx.post(f"{sandbox}/sandbox/tap/_control/", json={"webhook": "drop"}).raise_for_status()
    attempt = payment_checkout(
        tenant=tenant,
        order_id=make_order(tenant).id,
        provider="tap",
        method="mada",
        return_url="https://shop.example/thanks",
        client_key=uuid.uuid4().hex,
    )
    pay_on_hosted_page(attempt.redirect_url, "succeed")  # captured at Tap; the webhook is ours
    body = httpx.get(
        f"{sandbox}/sandbox/tap/v2/charges/{attempt.provider_reference}",
        headers={"Authorization": f"Bearer {tap_config.secret_key}"},
    ).content
    event = PaymentOrchestrator().parse_webhook(tap_config, WebhookRequest(body=body, headers={}))
    stored = WebhookEvent.objects.create(
        tenant=tenant,
        gateway_config=tap_config,
        provider="tap",
        event_id=event.event_id,
        event_type=event.event_type,
        body=body.decode(),
        signature_valid=True,
    )

    # As the Celery task runs it: in the event's tenant scope (the tenant comes with the message).
    with CaptureQueriesContext(connection) as ctx, tenant_context(tenant.pk):
        outcome = webhook_event_process(event_pk=stored.pk)

    assert outcome == WebhookEvent.Status.PROCESSED
    assert len(ctx) == PROCESS_STATEMENTS, _statements(ctx)
    assert PaymentAttempt.objects.get(pk=attempt.pk).status == "paid"
    assert SettlementRecord.objects.filter(tenant=tenant).count() == past + 1


def _tap_charge(attempt: PaymentAttempt) -> dict[str, object]:
    """A captured Tap charge as Tap posts it to the webhook URL."""
    return {
        "id": attempt.provider_reference,
        "object": "charge",
        "live_mode": False,
        "amount": attempt.amount.quantize(Decimal("0.01")),
        "currency": attempt.currency,
        "status": "CAPTURED",
        "threeDSecure": True,
        "reference": {
            "track": "tck_TS01A0420231234Zr5Y0909389",
            "payment": "0909231234093893016",
            "gateway": "123456789",
            "transaction": str(attempt.id),
            "order": attempt.order.reference,
        },
        "transaction": {"created": "1700000000000", "url": ""},
        "response": {"code": "000", "message": "Captured"},
        "source": {"object": "token", "id": "src_sa.mada"},
        "metadata": {"udf1": str(attempt.id)},
    }


@pytest.mark.django_db
@pytest.mark.parametrize("past", PAST_PAYMENTS)
def test_ingesting_one_tap_webhook_takes_a_fixed_number_of_statements(tenant, tap_config, past):
    _past_paid_payments(tap_config, past)
    attempt = make_attempt(tap_config)
    attempt = payment_apply_result(
        attempt_id=attempt.id,
        result=PaymentResult(status=PaymentStatus.PENDING, provider_reference="chg_TS0123456789"),
    )
    charge = _tap_charge(attempt)
    body = dumps(charge)
    headers = {"hashstring": hashstring(charge, tap_config.secret_key)}

    # As the webhook view runs it: in the tenant scope its URL named.
    with CaptureQueriesContext(connection) as ctx, tenant_context(tenant.pk):
        delivery = webhook_receive(config=tap_config, body=body, headers=headers)

    assert (delivery.receipt, delivery.detail) == (Receipt.ACCEPTED, "")
    assert len(ctx) == INGEST_STATEMENTS, _statements(ctx)
    assert WebhookEvent.objects.filter(status="received", signature_valid=True).count() == 1
