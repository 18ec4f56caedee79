"""Staff replay of failed and ignored webhook events from the admin: a fresh retry budget, the
history kept, rejected deliveries never replayed, the change permission required."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from testsupport.staff import staff_login
from wasla.payments.models import WebhookEvent
from wasla.payments.webhooks.processing import webhook_event_process
from wasla.settlement.models import SettlementRecord

from .celery_broker import free_port
from .webhook_deliveries import (
    plan_event,
    post_tap,
    sandbox_charge,
    tap_paid_at_sandbox,
)

# --- Replay ---------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_staff_replay_a_failed_event_once_the_provider_is_back(
    sandbox, tenant, tap_config, retries, settings
):
    attempt = tap_paid_at_sandbox(sandbox, tenant)
    assert attempt.status == "pending"
    body = sandbox_charge(sandbox, tap_config, attempt.provider_reference)
    reachable = settings.WASLA_PROVIDER_BASE_URLS
    settings.WASLA_PROVIDER_BASE_URLS = {
        **reachable,
        "tap": {"sandbox": f"http://127.0.0.1:{free_port()}", "live": "https://api.tap.company"},
    }
    post_tap(tap_config, body)
    event = WebhookEvent.objects.get(signature_valid=True)
    for _ in range(2):
        webhook_event_process(event_pk=event.pk)
    event.refresh_from_db()
    assert (event.status, event.attempts) == ("failed", 3)
    forged = Client().post(
        reverse("webhook", kwargs={"provider": "tap", "token": tap_config.webhook_token}),
        body,
        content_type="application/json",
        HTTP_HASHSTRING="0" * 64,
    )
    assert forged.status_code == 401
    rejected = WebhookEvent.objects.get(status="rejected")

    settings.WASLA_PROVIDER_BASE_URLS = reachable
    staff = get_user_model().objects.create_superuser("ops", "ops@example.com", "pw-" + "x" * 12)
    admin = Client()
    staff_login(admin, staff)
    admin.cookies["wasla_language"] = "en"  # the admin speaks Arabic unless asked otherwise
    changelist = reverse("admin:payments_webhookevent_changelist")
    listing = admin.get(changelist)
    assert listing.status_code == 200
    page = listing.content.decode()
    assert "Next attempt at" in page
    assert "gave up after 3 attempts" in page

    response = admin.post(
        changelist,
        {"action": "replay", "_selected_action": [event.pk, rejected.pk], "index": 0},
        follow=True,
    )

    assert response.status_code == 200
    page = response.content.decode()
    assert "Replaying 1 event." in page
    assert "1 event not replayed" in page
    event.refresh_from_db()
    assert (event.status, event.attempts, event.attempts_at_replay) == ("processed", 4, 3)
    assert event.error == ""
    replay = event.error_history[-1]
    assert replay["outcome"] == "replayed by ops"
    assert replay["error"].startswith("was failed: gave up after 3 attempts")
    attempt.refresh_from_db()
    assert attempt.status == "paid"
    assert SettlementRecord.objects.filter(order_id=attempt.order_id).count() == 1
    rejected.refresh_from_db()
    assert rejected.status == "rejected"


@pytest.mark.django_db
def test_replay_needs_the_change_permission(stripe_config):
    event = plan_event(stripe_config, status="failed", error="boom")
    viewer = get_user_model().objects.create_user("viewer", password="pw-" + "x" * 12)
    viewer.is_staff = True
    viewer.save()
    from django.contrib.auth.models import Permission

    viewer.user_permissions.add(Permission.objects.get(codename="view_webhookevent"))
    client = Client()
    staff_login(client, viewer)
    changelist = reverse("admin:payments_webhookevent_changelist")
    assert client.get(changelist).status_code == 200
    client.post(changelist, {"action": "replay", "_selected_action": [event.pk], "index": 0})
    event.refresh_from_db()
    assert event.status == "failed"
