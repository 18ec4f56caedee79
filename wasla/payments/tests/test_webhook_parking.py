"""Webhook events that overtake what they refer to are parked (retried later, with backoff) and
ignored after the last try, or applied once what they refer to has arrived."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import httpx
import pytest
from django.utils import timezone

from wasla.orders.models import Order
from wasla.payments.models import RefundRecord, WebhookEvent
from wasla.payments.webhooks.processing import webhook_event_process
from wasla.payments.webhooks.sweep import webhook_events_sweep
from wasla.settlement.models import SettlementRecord

from .webhook_deliveries import (
    assert_due_in,
    post_tap,
    tap_paid_at_sandbox,
    tap_refund,
)

# --- Parking --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_event_about_an_unknown_payment_is_parked_then_ignored(
    tap_config, retries, django_capture_on_commit_callbacks
):
    since = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        response = post_tap(tap_config, tap_refund("chg_TSnowhere0001"))
    assert response.json() == {"status": "accepted"}
    event = WebhookEvent.objects.get()
    assert (event.status, event.attempts) == ("received", 1)
    assert event.error == "not ready: payment chg_TSnowhere0001 is not paid here yet"
    assert_due_in(event, since, 10)
    # Not due yet: the sweeper leaves it parked.
    assert webhook_events_sweep(inline=True) == []

    assert webhook_event_process(event_pk=event.pk) == "received"
    assert webhook_event_process(event_pk=event.pk) == "ignored"
    event.refresh_from_db()
    assert event.error == (
        "gave up after 3 attempts: not ready: payment chg_TSnowhere0001 is not paid here yet"
    )
    assert not RefundRecord.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_refund_webhook_before_its_payment_is_parked_and_applied_after_it(
    sandbox, tenant, tap_config
):
    attempt = tap_paid_at_sandbox(sandbox, tenant, webhook="hold")
    assert attempt.status == "pending"  # the payment's webhook is held
    httpx.post(
        f"{sandbox}/sandbox/tap/_control/dashboard_refund",
        json={"payment": attempt.provider_reference, "amount": "30.00"},
    ).raise_for_status()

    # Delivered newest first: the refund overtakes the payment.
    flushed = httpx.post(
        f"{sandbox}/sandbox/tap/_control/flush", json={"order": "reverse"}, timeout=60
    )
    flushed.raise_for_status()
    assert flushed.json()["sent"] == 2

    refund_event = WebhookEvent.objects.get(event_type="refund.refunded")
    assert (refund_event.status, refund_event.attempts) == ("received", 1)
    assert refund_event.error.startswith("not ready:")
    assert refund_event.next_attempt_at > timezone.now()
    payment_event = WebhookEvent.objects.get(event_type="charge.captured")
    assert payment_event.status == "processed"
    attempt.refresh_from_db()
    assert (attempt.status, attempt.refunded_amount) == ("paid", Decimal("0"))
    assert webhook_events_sweep() == []  # still parked

    # Its time comes: the sweeper re-drives it and the refund is recorded once.
    WebhookEvent.objects.filter(pk=refund_event.pk).update(
        next_attempt_at=timezone.now() - timedelta(seconds=1)
    )
    assert webhook_events_sweep() == [refund_event.pk]
    refund_event.refresh_from_db()
    assert (refund_event.status, refund_event.attempts) == ("processed", 2)
    attempt.refresh_from_db()
    assert (attempt.status, attempt.refunded_amount) == ("partially_refunded", Decimal("30.00"))
    assert RefundRecord.objects.get().source == "provider"
    assert Order.objects.get(pk=attempt.order_id).status == "partially_refunded"
    assert SettlementRecord.objects.filter(order_id=attempt.order_id).count() == 1
    assert webhook_events_sweep() == []
