"""Webhook retries scheduled in the inbox table: backoff that doubles, is capped and jittered;
an unreachable provider retried then failed; an unexpected error kept with its traceback; a
worker that never reports back using up the budget; the try counted and committed before the
provider is called, with no row locked during the call."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.utils import timezone

from testsupport.threads import in_threads
from wasla.payments.models import WebhookEvent
from wasla.payments.orchestrator import PaymentOrchestrator
from wasla.payments.webhooks.processing import webhook_event_process
from wasla.payments.webhooks.retry import WebhookRetryPolicy
from wasla.settlement.models import SettlementRecord
from wasla.tenants.context import tenant_context

from .webhook_deliveries import (
    assert_due_in,
    plan_event,
    post_tap,
    sandbox_charge,
    tap_attempt,
    tap_charge,
    tap_paid_at_sandbox,
)

# --- Backoff --------------------------------------------------------------------------------


def test_backoff_doubles_is_capped_and_jittered():
    policy = WebhookRetryPolicy(
        max_attempts=8,
        max_unexpected_attempts=3,
        base_delay=30,
        max_delay=600,
        jitter=0.2,
        stale_after=120,
        lease=300,
        sweep_batch=100,
    )
    for attempt, nominal in [(1, 30), (2, 60), (3, 120), (4, 240), (5, 480)]:
        delays = {policy.delay(attempt).total_seconds() for _ in range(50)}
        assert all(nominal * 0.8 <= d <= nominal * 1.2 for d in delays), (attempt, delays)
        assert len(delays) > 1  # spread, not in lockstep
    assert all(policy.delay(n).total_seconds() <= 600 for n in (6, 10, 1000))
    assert policy.delay(1000).total_seconds() >= 600 * 0.8
    still = WebhookRetryPolicy(**{**policy.__dict__, "jitter": 0.0})
    assert [still.delay(n).total_seconds() for n in (1, 2, 3)] == [30, 60, 120]


@pytest.mark.django_db
def test_unreachable_provider_is_retried_with_backoff_then_failed(
    tap_config, retries, tap_down, django_capture_on_commit_callbacks
):
    attempt = tap_attempt(tap_config, "chg_TSunreachable01")
    since = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        response = post_tap(tap_config, tap_charge("chg_TSunreachable01", attempt_id=attempt.id))
    assert response.status_code == 200
    assert response.json() == {"status": "accepted"}
    event = WebhookEvent.objects.get()
    assert (event.status, event.attempts) == ("received", 1)
    assert event.error.startswith("provider unreachable")
    assert_due_in(event, since, 10)

    since = timezone.now()
    assert webhook_event_process(event_pk=event.pk) == "received"
    event.refresh_from_db()
    assert event.attempts == 2
    assert_due_in(event, since, 20)

    assert webhook_event_process(event_pk=event.pk) == "failed"
    event.refresh_from_db()
    assert (event.status, event.attempts, event.next_attempt_at) == ("failed", 3, None)
    assert event.error.startswith("gave up after 3 attempts: provider unreachable")
    assert event.processed_at is not None
    outcomes = [entry["outcome"] for entry in event.error_history]
    assert outcomes[:2] == [o for o in outcomes[:2] if o.startswith("retry at ")]
    assert outcomes[2] == "failed"
    assert len(outcomes) == 3
    attempt.refresh_from_db()
    assert attempt.status == "pending"  # nothing moved
    assert not SettlementRecord.objects.exists()
    # Done is done: processing it again changes nothing.
    assert webhook_event_process(event_pk=event.pk) == "failed"
    assert WebhookEvent.objects.get().attempts == 3


@pytest.mark.django_db
def test_an_unexpected_error_keeps_its_traceback_and_fails_after_a_few_tries(
    tap_config, retries, django_capture_on_commit_callbacks
):
    # Not a Tap charge id: the provider refuses to fetch it (a ProviderError, not an outage).
    attempt = tap_attempt(tap_config, "TSnot_a_charge")
    with django_capture_on_commit_callbacks(execute=True):
        post_tap(tap_config, tap_charge("TSnot_a_charge", attempt_id=attempt.id))
    event = WebhookEvent.objects.get()
    assert (event.status, event.attempts) == ("received", 1)
    assert event.error.startswith("ProviderError")
    assert "Traceback" in event.error
    assert event.next_attempt_at > timezone.now()
    assert webhook_event_process(event_pk=event.pk) == "failed"
    event.refresh_from_db()
    assert event.error.startswith("gave up after 2 attempts: ProviderError")
    assert "Traceback" in event.error_history[-1]["error"]


@pytest.mark.django_db
def test_a_worker_that_never_reports_back_uses_up_the_budget(stripe_config, retries):
    event = plan_event(stripe_config, attempts=3)  # three tries started, none finished
    assert webhook_event_process(event_pk=event.pk) == "failed"
    event.refresh_from_db()
    assert (event.attempts, event.error) == (4, "no outcome after 3 attempts")


@pytest.mark.django_db(transaction=True)
def test_the_try_is_committed_and_no_row_is_locked_while_the_provider_is_called(
    sandbox, tenant, tap_config, monkeypatch, close_thread_connections
):
    # No row lock is held across an outbound call, and the try counted before it (a worker
    # that dies during the call still used it up). Another connection looks, mid-call.
    attempt = tap_paid_at_sandbox(sandbox, tenant)
    body = sandbox_charge(sandbox, tap_config, attempt.provider_reference)
    seen: list = []
    verify = PaymentOrchestrator.verify_payment

    def look() -> tuple[int, bool]:
        with tenant_context(tenant.pk), transaction.atomic():
            event = WebhookEvent.objects.select_for_update(nowait=True).get(provider="tap")
            return event.attempts, event.next_attempt_at > timezone.now()

    def look_then_verify(self, config, reference):
        seen.extend(in_threads(1, lambda i: look()))
        return verify(self, config, reference)

    monkeypatch.setattr(PaymentOrchestrator, "verify_payment", look_then_verify)
    response = post_tap(tap_config, body)

    assert response.status_code == 200
    assert seen == [(1, True)]  # committed: one try, leased; NOWAIT found no lock
    event = WebhookEvent.objects.get(provider="tap")
    assert (event.status, event.attempts) == ("processed", 1)
    attempt.refresh_from_db()
    assert attempt.status == "paid"
