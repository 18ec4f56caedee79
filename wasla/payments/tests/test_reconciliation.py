"""Reconciliation over real HTTP against the Tap sandbox: attempts whose create call timed out
or whose webhook never came end in the provider's real outcome, exactly once; settlement
differences are reported, never fixed."""

from __future__ import annotations

import json
import time
import uuid
from datetime import timedelta
from decimal import Decimal
from io import StringIO
from typing import Any

import httpx
import pytest
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from testsupport.factories import (
    api_client_for,
    make_attempt,
    make_cod_config,
    make_order,
    make_tap_config,
)
from testsupport.servers import StatusServer
from wasla.common.problems import ProviderUnavailable
from wasla.orders.models import Order
from wasla.payments.models import PaymentAttempt, PaymentGatewayConfig, WebhookEvent
from wasla.payments.orchestrator import PaymentOrchestrator
from wasla.payments.providers.base import PaymentResult, PaymentStatus
from wasla.payments.reconciliation import RECONCILE_LOCK, reconcile_pending, reconcile_task
from wasla.payments.services import payment_apply_result, payment_checkout
from wasla.settlement.models import SettlementRecord
from wasla.settlement.reconciliation import reconcile_settlements

from .hosted import pay_on_hosted_page

FAST_RETRIES = {"attempts": 2, "initial_wait": 0.01, "max_wait": 0.02, "jitter": 0.0}
LATER = timedelta(minutes=16)  # "now" for a run that finds today's attempts stale
AGE = timedelta(minutes=15)


def knobs(base: str, **values: object) -> None:
    httpx.post(f"{base}/sandbox/tap/_control/", json=values).raise_for_status()


def checkout(tenant, order: Order | None = None, method: str = "mada") -> PaymentAttempt:  # type: ignore[no-untyped-def]
    order = order or make_order(tenant)
    return payment_checkout(
        tenant=tenant,
        order_id=order.id,
        provider="tap",
        method=method,
        return_url="https://shop.example/thanks",
        client_key=uuid.uuid4().hex,
    )


def attempt_for(config: PaymentGatewayConfig, order: Order | None = None) -> PaymentAttempt:
    """An attempt as checkout's first transaction leaves it: `created`, nothing sent yet."""
    return make_attempt(config, order)


def snapshot() -> dict[str, object]:
    """Everything reconciliation could change, to prove a second run changes nothing."""
    return {
        "attempts": sorted(
            PaymentAttempt.objects.values_list(
                "id", "status", "provider_reference", "updated_at", "paid_at"
            )
        ),
        "orders": sorted(Order.objects.values_list("id", "status", "paid_at")),
        "settlements": sorted(
            SettlementRecord.objects.values_list("id", "payment_attempt_id", "updated_at")
        ),
    }


@pytest.fixture
def fast(settings):  # type: ignore[no-untyped-def]
    settings.WASLA_PROVIDER_RETRY = FAST_RETRIES


# Pending attempts, over real HTTP --------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("outcome", "status"), [("succeed", "paid"), ("decline", "failed")])
def test_a_checkout_that_timed_out_ends_in_the_providers_real_outcome(
    sandbox, tenant, tap_config, settings, fast, outcome, status
):
    settings.WASLA_PROVIDER_TIMEOUTS = {"connect": 2.0, "read": 0.3}
    knobs(sandbox, webhook="drop", api="timeout", timeout_seconds=1.0, api_fail_count=1)
    order = make_order(tenant)
    sent = time.monotonic()
    with pytest.raises(ProviderUnavailable):
        checkout(tenant, order)
    attempt = PaymentAttempt.objects.get(order=order)
    # Tap got the request and created the charge; we never heard back.
    assert (attempt.status, attempt.provider_reference) == ("pending", None)

    # The customer reaches the hosted page all the same. (The test learns its address by asking
    # Tap again with the attempt's idempotency key, which writes nothing on our side.)
    charge = PaymentOrchestrator().create_payment(attempt)
    pay_on_hosted_page(charge.redirect_url, outcome)
    attempt.refresh_from_db()
    assert attempt.status == "pending"  # no webhook: only reconciliation can tell

    report = reconcile_pending(older_than=AGE, now=timezone.now() + LATER)

    attempt.refresh_from_db()
    assert attempt.status == status
    assert attempt.provider_reference == charge.provider_reference
    assert report.summary() == {
        "checked": 1,
        "resolved": 1,
        "still_open": 0,
        "errors": 0,
        "skipped_offline": 0,
    }
    [line] = report.attempts
    assert (line.attempt_id, line.action, line.before, line.after) == (
        attempt.id,
        "recreated",
        "pending",
        status,
    )
    settlements = SettlementRecord.objects.filter(order=order)
    assert settlements.count() == (1 if status == "paid" else 0)
    if status == "paid":
        assert Order.objects.get(pk=order.pk).status == "paid"
        assert settlements.get().wasla_fee == Decimal("1.00")
    # Let the sandbox finish the request we gave up on before the tables are emptied.
    time.sleep(max(0.0, sent + 1.2 - time.monotonic()))


@pytest.mark.django_db(transaction=True)
def test_a_stale_attempt_whose_webhook_was_dropped_is_paid_once_and_a_rerun_changes_nothing(
    sandbox, tenant, tap_config
):
    knobs(sandbox, webhook="drop")
    attempt = checkout(tenant)
    pay_on_hosted_page(attempt.redirect_url, "succeed")
    assert PaymentAttempt.objects.get(pk=attempt.pk).status == "pending"

    young = reconcile_pending(older_than=AGE)  # not stale yet: left alone
    assert young.attempts == []
    assert PaymentAttempt.objects.get(pk=attempt.pk).status == "pending"

    first = reconcile_pending(older_than=AGE, now=timezone.now() + LATER)
    assert [(a.action, a.after) for a in first.attempts] == [("verified", "paid")]
    attempt.refresh_from_db()
    assert attempt.status == "paid"
    assert attempt.paid_at is not None
    assert SettlementRecord.objects.filter(order=attempt.order).count() == 1
    assert not WebhookEvent.objects.exists()

    before = snapshot()
    second = reconcile_pending(older_than=AGE, now=timezone.now() + LATER)
    assert second.summary()["checked"] == 0
    assert snapshot() == before
    assert reconcile_settlements() == []


@pytest.mark.django_db(transaction=True)
def test_an_attempt_that_never_left_is_created_once_with_its_own_key(sandbox, tenant, tap_config):
    knobs(sandbox, webhook="drop")
    attempt = attempt_for(tap_config)  # e.g. the process died, or the circuit was open

    first = reconcile_pending(older_than=AGE, now=timezone.now() + LATER)
    attempt.refresh_from_db()
    assert attempt.status == "pending"
    assert attempt.provider_reference.startswith("chg_")
    assert [(a.action, a.after, a.resolved) for a in first.attempts] == [
        ("recreated", "pending", False)
    ]
    replay = PaymentOrchestrator().create_payment(attempt)
    assert replay.provider_reference == attempt.provider_reference  # one charge at Tap

    before = snapshot()
    still = reconcile_pending(older_than=AGE, now=timezone.now() + LATER)
    assert [(a.action, a.after) for a in still.attempts] == [("verified", "pending")]
    assert snapshot() == before  # nothing new at Tap: nothing written

    pay_on_hosted_page(attempt.redirect_url, "succeed")
    reconcile_pending(older_than=AGE, now=timezone.now() + LATER)
    attempt.refresh_from_db()
    assert attempt.status == "paid"
    assert SettlementRecord.objects.filter(payment_attempt=attempt).count() == 1


@pytest.mark.django_db(transaction=True)
def test_one_failing_provider_is_reported_and_does_not_stop_the_run(
    sandbox, tenant, other_tenant, settings, fast
):
    down = StatusServer(500)
    try:
        urls = {p: dict(v) for p, v in settings.WASLA_PROVIDER_BASE_URLS.items()}
        urls["tap"]["live"] = down.url
        settings.WASLA_PROVIDER_BASE_URLS = urls
        broken = make_tap_config(
            tenant, mode="live", public_key="", secret_key="sk_live_1", webhook_secret="w"
        )
        stuck = attempt_for(broken)
        payment_apply_result(
            attempt_id=stuck.id,
            result=PaymentResult(status=PaymentStatus.PENDING, provider_reference="chg_LIVE1"),
        )
        make_tap_config(other_tenant)
        knobs(sandbox, webhook="drop")
        paid = checkout(other_tenant)
        pay_on_hosted_page(paid.redirect_url, "succeed")

        report = reconcile_pending(older_than=AGE, now=timezone.now() + LATER)

        assert [(a.attempt_id, a.after) for a in report.attempts] == [
            (stuck.id, "pending"),
            (paid.id, "paid"),
        ]
        [error] = report.errors
        assert error.attempt_id == stuck.id
        assert "answered 500" in error.error
        assert report.summary()["resolved"] == 1
        assert len(down.requests) == 2  # retried once with the same request, then reported
    finally:
        down.close()


@pytest.mark.django_db(transaction=True)
def test_cash_on_delivery_is_never_reconciled(sandbox, tenant):
    cod = make_cod_config(tenant)
    attempt = attempt_for(cod)
    payment_apply_result(
        attempt_id=attempt.id,
        result=PaymentResult(status=PaymentStatus.PENDING, provider_reference="cod_1"),
    )
    report = reconcile_pending(older_than=AGE, now=timezone.now() + LATER)
    assert report.summary()["skipped_offline"] == 1
    assert report.attempts == []
    assert PaymentAttempt.objects.get(pk=attempt.pk).status == "pending"


# Settlement differences ------------------------------------------------------------------------


def _paid(config: PaymentGatewayConfig) -> PaymentAttempt:
    """A payment confirmed through the real transition code (its provider's answer given)."""
    attempt = attempt_for(config)
    return payment_apply_result(
        attempt_id=attempt.id,
        result=PaymentResult(
            status=PaymentStatus.PAID,
            provider_reference=f"chg_{uuid.uuid4().hex}",
            amount=attempt.amount,
            currency=attempt.currency,
        ),
    )


def _sql(statement: str, params: list[object]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


@pytest.mark.django_db
def test_settlement_differences_are_reported_and_nothing_is_fixed(tenant, tap_config):
    attempts = PaymentAttempt._meta.db_table
    orders = Order._meta.db_table
    settlements = SettlementRecord._meta.db_table
    healthy = _paid(tap_config)
    assert reconcile_settlements() == []

    # A paid attempt whose settlement was never written (the constraints allow that row).
    unsettled = attempt_for(tap_config)
    _sql(f"UPDATE {attempts} SET status = 'paid' WHERE id = %s", [unsettled.id])
    _sql(f"UPDATE {orders} SET status = 'paid' WHERE id = %s", [unsettled.order_id])
    # A settlement whose attempt was later flipped to failed by hand.
    flipped = _paid(tap_config)
    _sql(f"UPDATE {attempts} SET status = 'failed' WHERE id = %s", [flipped.id])
    # A settlement whose gross is not what the attempt took.
    wrong = _paid(tap_config)
    _sql(
        f"UPDATE {settlements} SET gross_amount = 90, net_amount = 89"
        " WHERE payment_attempt_id = %s",
        [wrong.id],
    )
    # An order marked paid with no attempt at all.
    orphan = make_order(tenant)
    _sql(f"UPDATE {orders} SET status = 'paid' WHERE id = %s", [orphan.id])
    # A paid attempt whose order was set back to pending.
    reopened = _paid(tap_config)
    _sql(f"UPDATE {orders} SET status = 'pending' WHERE id = %s", [reopened.order_id])
    before = snapshot()

    found = {(d.kind, d.attempt_id, d.order_id) for d in reconcile_settlements()}

    assert found == {
        ("paid_attempt_without_settlement", unsettled.id, unsettled.order_id),
        ("settlement_for_unpaid_attempt", flipped.id, flipped.order_id),
        ("paid_order_without_paid_attempt", None, flipped.order_id),
        ("settlement_does_not_match_attempt", wrong.id, wrong.order_id),
        ("paid_order_without_paid_attempt", None, orphan.id),
        ("paid_attempt_on_unpaid_order", reopened.id, reopened.order_id),
    }
    assert healthy.id not in {attempt_id for _, attempt_id, _ in found}
    assert snapshot() == before

    out = StringIO()
    with pytest.raises(CommandError) as failed:
        call_command("reconcile", "--json", stdout=out)
    assert failed.value.returncode == 1
    body = json.loads(out.getvalue())
    assert len(body["settlement_differences"]) == 6
    assert {d["kind"] for d in body["settlement_differences"]} >= {
        "paid_attempt_without_settlement",
        "settlement_for_unpaid_attempt",
        "paid_order_without_paid_attempt",
    }
    assert snapshot() == before


# The command and the task ----------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_command_resolves_and_prints_a_readable_report(sandbox, tenant, tap_config):
    knobs(sandbox, webhook="drop")
    attempt = checkout(tenant)
    pay_on_hosted_page(attempt.redirect_url, "succeed")
    out = StringIO()

    call_command("reconcile", "--older-than-minutes", "0", stdout=out)  # exit 0: no exception

    text = out.getvalue()
    assert "1 checked, 1 resolved, 0 still open, 0 error(s)" in text
    assert f"resolved {attempt.id} tap     pending -> paid (verified)" in text
    assert "Settlement differences: 0" in text
    assert PaymentAttempt.objects.get(pk=attempt.pk).status == "paid"

    again = StringIO()
    call_command("reconcile", "--older-than-minutes", "0", "--json", stdout=again)
    body = json.loads(again.getvalue())
    assert (body["pending"]["checked"], body["settlement_differences"]) == (0, [])


@pytest.mark.django_db(transaction=True)
def _run(task: Any) -> Any:
    """The eager result of a task queued from this (test) thread. Celery's "never wait inside a
    task" flag is process-wide, so a task running meanwhile in a live-server thread would make
    a plain `.get()` refuse; this thread is no task, so the check does not apply here."""
    return task.delay().get(disable_sync_subtasks=False)


def test_periodic_task_uses_the_configured_age_and_never_runs_twice_at_once(
    sandbox, tenant, tap_config, settings
):
    assert reconcile_task.name == "payments.reconcile"
    knobs(sandbox, webhook="drop")
    attempt = checkout(tenant)
    pay_on_hosted_page(attempt.redirect_url, "succeed")

    settings.WASLA_RECONCILE_PENDING_AFTER_MINUTES = 15
    assert _run(reconcile_task)["checked"] == 0  # younger than 15 minutes
    assert cache.add(RECONCILE_LOCK, 1, timeout=60)  # another worker is mid-run
    try:
        settings.WASLA_RECONCILE_PENDING_AFTER_MINUTES = 0
        assert _run(reconcile_task) == {"skipped": 1}
    finally:
        cache.delete(RECONCILE_LOCK)
    assert _run(reconcile_task)["resolved"] == 1
    assert PaymentAttempt.objects.get(pk=attempt.pk).status == "paid"
    assert api_client_for(tenant).get("/api/v1/settlements/").json()["count"] == 1
