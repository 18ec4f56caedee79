"""Webhook events that would move a payment backwards (a "pending" or an expiry after "paid")
change nothing and end ignored as stale."""

from __future__ import annotations

import json
import uuid

import pytest

from sandbox.stripe_sim.signing import stripe_signature_header
from wasla.orders.models import Order
from wasla.payments.models import WebhookEvent
from wasla.payments.providers.tap import loads
from wasla.settlement.models import SettlementRecord

from .webhook_deliveries import (
    post_stripe,
    post_tap,
    sandbox_charge,
    stripe_paid_delivery,
    tap_paid_at_sandbox,
)

# --- Never backwards ------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_pending_tap_event_after_paid_is_stale_and_changes_nothing(sandbox, tenant, tap_config):
    attempt = tap_paid_at_sandbox(sandbox, tenant, webhook="send")
    assert attempt.status == "paid"
    paid_at = attempt.paid_at
    charge = loads(sandbox_charge(sandbox, tap_config, attempt.provider_reference))
    charge["status"] = "INITIATED"

    response = post_tap(tap_config, charge)

    assert response.status_code == 200
    stale = WebhookEvent.objects.get(event_type="charge.initiated")
    assert stale.status == "ignored"
    assert stale.error == "stale: the payment is paid; the event says pending"
    attempt.refresh_from_db()
    assert (attempt.status, attempt.paid_at) == ("paid", paid_at)
    assert Order.objects.get(pk=attempt.order_id).status == "paid"
    assert SettlementRecord.objects.filter(order_id=attempt.order_id).count() == 1


@pytest.mark.django_db
def test_an_expired_session_after_paid_is_stale(stripe_config, django_capture_on_commit_callbacks):
    attempt, body, signature = stripe_paid_delivery(stripe_config)
    with django_capture_on_commit_callbacks(execute=True):
        assert post_stripe(stripe_config, body, signature).status_code == 200
    attempt.refresh_from_db()
    assert attempt.status == "paid"
    expired = json.loads(body)
    expired.update(id="evt_" + uuid.uuid4().hex, type="checkout.session.expired")
    expired["data"]["object"].update(status="expired", payment_status="unpaid")
    again = json.dumps(expired).encode()
    with django_capture_on_commit_callbacks(execute=True):
        post_stripe(
            stripe_config, again, stripe_signature_header(again, stripe_config.webhook_secret)
        )
    event = WebhookEvent.objects.get(event_type="checkout.session.expired")
    assert (event.status, event.error) == (
        "ignored",
        "stale: the payment is paid; the event says cancelled",
    )
    attempt.refresh_from_db()
    assert attempt.status == "paid"
    assert SettlementRecord.objects.filter(payment_attempt=attempt).count() == 1
