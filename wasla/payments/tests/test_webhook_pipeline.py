"""The webhook pipeline around the inbox: retries with backoff scheduled in the table, parking
of events that overtake what they refer to, give-up after the last attempt, staff replay, the
sweeper (two at once never take the same event), ingestion with the broker down, and events
that would move a payment backwards. Real PostgreSQL, real Redis, the sandbox over real HTTP;
Celery is reconfigured to publish for real where the broker matters."""

from __future__ import annotations

import base64
import json
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
import redis
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from config.celery import app as celery_app
from conftest import make_order
from sandbox.stripe_sim.signing import stripe_signature_header
from sandbox.tap_sim.signing import tap_hashstring
from wasla.orders.models import Order
from wasla.payments.models import PaymentAttempt, PaymentGatewayConfig, RefundRecord, WebhookEvent
from wasla.payments.orchestrator import PaymentOrchestrator
from wasla.payments.providers.tap import dumps, loads
from wasla.payments.services import payment_checkout
from wasla.payments.tasks import process_webhook_event
from wasla.payments.webhooks import (
    WebhookRetryPolicy,
    webhook_event_process,
    webhook_events_sweep,
)
from wasla.settlement.models import SettlementRecord
from wasla.tenants.context import platform_access, tenant_context

from .fixtures import stripe_object
from .hosted import pay_on_hosted_page
from .test_tap_webhooks import _in_threads

# --- Helpers shared with test_worker_crash -------------------------------------------------


def free_port() -> int:
    """A local port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _forget_broker_connections() -> None:
    celery_app._pool = None
    celery_app.__dict__.pop("amqp", None)  # producer pool, queues and router, rebuilt on use


@contextmanager
def celery_publishing(broker_url: str, *, queue: str) -> Iterator[None]:
    """Make the project's Celery app publish for real (not eager) to `broker_url`, queue
    `queue`, for the duration. Celery reads CELERY_BROKER_URL from the environment before its
    own configuration, so that is where the URL goes."""
    conf = celery_app.conf
    saved_conf = {key: conf[key] for key in ("task_always_eager", "task_default_queue")}
    saved_env = os.environ.get("CELERY_BROKER_URL")
    os.environ["CELERY_BROKER_URL"] = broker_url
    conf.update(task_always_eager=False, task_default_queue=queue)
    _forget_broker_connections()
    try:
        yield
    finally:
        if saved_env is None:
            os.environ.pop("CELERY_BROKER_URL", None)
        else:
            os.environ["CELERY_BROKER_URL"] = saved_env
        conf.update(saved_conf)
        _forget_broker_connections()


@contextmanager
def own_queue(broker_url: str) -> Iterator[str]:
    """A queue of our own on the test broker, deleted afterwards."""
    name = f"wasla-test-{uuid.uuid4().hex[:10]}"
    try:
        yield name
    finally:
        client = redis.Redis.from_url(broker_url)
        client.delete(name, *client.keys(f"_kombu.binding*.{name}"))
        client.close()


@pytest.fixture
def broker_queue(settings) -> Iterator[str]:
    with own_queue(settings.CELERY_BROKER_URL) as name:
        yield name


def queued_event_ids(broker_url: str, queue: str) -> list[int]:
    """Take every message off `queue` (as a worker would) and return the event ids they carry."""
    client = redis.Redis.from_url(broker_url)
    ids = []
    while (raw := client.rpop(queue)) is not None:
        message = json.loads(raw)
        assert message["headers"]["task"] == "payments.process_webhook_event"
        args, _kwargs, _embed = json.loads(base64.b64decode(message["body"]))
        ids.append(args[0])
    client.close()
    return ids


# --- Fixtures and builders ------------------------------------------------------------------


@pytest.fixture
def retries(settings) -> WebhookRetryPolicy:
    """Short, predictable retry settings; one provider try per processing."""
    settings.WASLA_WEBHOOK_MAX_ATTEMPTS = 3
    settings.WASLA_WEBHOOK_MAX_UNEXPECTED_ATTEMPTS = 2
    settings.WASLA_WEBHOOK_RETRY_BASE_SECONDS = 10
    settings.WASLA_WEBHOOK_RETRY_MAX_SECONDS = 60
    settings.WASLA_WEBHOOK_RETRY_JITTER = 0.2
    settings.WASLA_PROVIDER_RETRY = {**settings.WASLA_PROVIDER_RETRY, "attempts": 1}
    return WebhookRetryPolicy.from_settings()


@pytest.fixture
def tap_down(settings) -> None:
    """Tap's API answers nothing: connection refused."""
    settings.WASLA_PROVIDER_BASE_URLS = {
        **settings.WASLA_PROVIDER_BASE_URLS,
        "tap": {"sandbox": f"http://127.0.0.1:{free_port()}", "live": "https://api.tap.company"},
    }


def tap_attempt(config: PaymentGatewayConfig, reference: str) -> PaymentAttempt:
    order = make_order(config.tenant)
    return PaymentAttempt.objects.create(
        tenant=config.tenant,
        order=order,
        gateway_config=config,
        provider="tap",
        method="mada",
        amount=order.amount,
        status="pending",
        idempotency_key=uuid.uuid4().hex,
        provider_reference=reference,
    )


def tap_charge(reference: str, *, status: str = "CAPTURED", attempt_id: Any = "") -> dict:
    return {
        "id": reference,
        "object": "charge",
        "amount": Decimal("100.00"),
        "currency": "SAR",
        "status": status,
        "reference": {"transaction": str(attempt_id), "gateway": "", "payment": ""},
        "transaction": {"created": "1700000000000"},
    }


def tap_refund(charge_id: str, *, amount: str = "30.00") -> dict:
    return {
        "id": "re_TS" + uuid.uuid4().hex[:20],
        "object": "refund",
        "amount": Decimal(amount),
        "currency": "SAR",
        "charge_id": charge_id,
        "status": "REFUNDED",
        "created": "1700000000000",
        "reference": {"merchant": ""},
    }


def post_tap(config: PaymentGatewayConfig, obj: dict | bytes) -> Any:
    body = obj if isinstance(obj, bytes) else dumps(obj)
    url = reverse("webhook", kwargs={"provider": "tap", "token": config.webhook_token})
    return Client().post(
        url,
        body,
        content_type="application/json",
        HTTP_HASHSTRING=tap_hashstring(loads(body), config.secret_key),
    )


def assert_due_in(event: WebhookEvent, since, seconds: float, jitter: float = 0.2) -> None:
    assert event.next_attempt_at is not None
    assert since + timedelta(seconds=seconds * (1 - jitter)) <= event.next_attempt_at
    assert event.next_attempt_at <= timezone.now() + timedelta(seconds=seconds * (1 + jitter))


def plan_event(config: PaymentGatewayConfig, **fields: Any) -> WebhookEvent:
    """A verified Stripe `plan.created` in the inbox: processing it is quick and ends ignored."""
    body = {**stripe_object("event"), "id": "evt_" + uuid.uuid4().hex}
    return WebhookEvent.objects.create(
        tenant=config.tenant,
        gateway_config=config,
        provider="stripe",
        event_id=body["id"],
        event_type="plan.created",
        body=json.dumps(body),
        signature_valid=True,
        **fields,
    )


@pytest.fixture
def stripe_config(tenant) -> PaymentGatewayConfig:
    return PaymentGatewayConfig.objects.create(
        tenant=tenant,
        provider="stripe",
        secret_key="sk_test_" + uuid.uuid4().hex,
        webhook_secret="whsec_" + uuid.uuid4().hex,
    )


def stripe_paid_delivery(config: PaymentGatewayConfig) -> tuple[PaymentAttempt, bytes, str]:
    """A pending Stripe attempt and the signed `checkout.session.completed` that pays it."""
    order = make_order(config.tenant)
    session_id = "cs_test_" + uuid.uuid4().hex
    attempt = PaymentAttempt.objects.create(
        tenant=config.tenant,
        order=order,
        gateway_config=config,
        provider="stripe",
        method="card",
        amount=order.amount,
        status="pending",
        idempotency_key=uuid.uuid4().hex,
        provider_reference=session_id,
    )
    session = {
        **stripe_object("checkout_session"),
        "id": session_id,
        "amount_total": 10000,
        "currency": "sar",
        "status": "complete",
        "payment_status": "paid",
        "client_reference_id": str(attempt.id),
        "payment_intent": "pi_" + uuid.uuid4().hex,
    }
    body = json.dumps(
        {
            "id": "evt_" + uuid.uuid4().hex,
            "object": "event",
            "api_version": "2026-06-24.dahlia",
            "created": int(time.time()),
            "data": {"object": session},
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "type": "checkout.session.completed",
        }
    ).encode()
    return attempt, body, stripe_signature_header(body, config.webhook_secret)


def post_stripe(config: PaymentGatewayConfig, body: bytes, signature: str) -> Any:
    url = reverse("webhook", kwargs={"provider": "stripe", "token": config.webhook_token})
    return Client().post(
        url, body, content_type="application/json", HTTP_STRIPE_SIGNATURE=signature
    )


def tap_knob(sandbox: str, **knobs: Any) -> None:
    httpx.post(f"{sandbox}/sandbox/tap/_control/", json=knobs).raise_for_status()


def tap_paid_at_sandbox(sandbox: str, tenant, webhook: str = "drop") -> PaymentAttempt:
    """A Tap attempt paid on the hosted page; its webhook handled per the sandbox knob."""
    tap_knob(sandbox, webhook=webhook)
    order = make_order(tenant)
    attempt = payment_checkout(
        tenant=tenant,
        order_id=order.id,
        provider="tap",
        method="mada",
        return_url="",
        client_key=uuid.uuid4().hex,
    )
    pay_on_hosted_page(attempt.redirect_url, "succeed")
    attempt.refresh_from_db()
    return attempt


def sandbox_charge(sandbox: str, config: PaymentGatewayConfig, reference: str) -> bytes:
    response = httpx.get(
        f"{sandbox}/sandbox/tap/v2/charges/{reference}",
        headers={"Authorization": f"Bearer {config.secret_key}"},
    )
    response.raise_for_status()
    return response.content


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
    assert outcomes[2] == "failed" and len(outcomes) == 3
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
    assert event.error.startswith("ProviderError") and "Traceback" in event.error
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


@pytest.mark.django_db(transaction=True)
def test_the_try_is_committed_and_no_row_is_locked_while_the_provider_is_called(
    sandbox, tenant, tap_config, monkeypatch, close_thread_connections
):
    # SPEC §1.8: no row lock across an outbound call, and the try counted before it (a worker
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
        seen.extend(_in_threads(1, lambda i: look()))
        return verify(self, config, reference)

    monkeypatch.setattr(PaymentOrchestrator, "verify_payment", look_then_verify)
    response = post_tap(tap_config, body)

    assert response.status_code == 200
    assert seen == [(1, True)]  # committed: one try, leased; NOWAIT found no lock
    event = WebhookEvent.objects.get(provider="tap")
    assert (event.status, event.attempts) == ("processed", 1)
    attempt.refresh_from_db()
    assert attempt.status == "paid"


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
    admin.force_login(staff)
    changelist = reverse("admin:payments_webhookevent_changelist")
    listing = admin.get(changelist)
    assert listing.status_code == 200
    page = listing.content.decode()
    assert "Next attempt at" in page and "gave up after 3 attempts" in page

    response = admin.post(
        changelist,
        {"action": "replay", "_selected_action": [event.pk, rejected.pk], "index": 0},
        follow=True,
    )

    assert response.status_code == 200
    page = response.content.decode()
    assert "Replaying 1 event(s)." in page and "1 event(s) not replayed" in page
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
    client.force_login(viewer)
    changelist = reverse("admin:payments_webhookevent_changelist")
    assert client.get(changelist).status_code == 200
    client.post(changelist, {"action": "replay", "_selected_action": [event.pk], "index": 0})
    event.refresh_from_db()
    assert event.status == "failed"


# --- Sweeper --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_sweeper_takes_due_and_stale_events_only(stripe_config, settings, capsys):
    settings.WASLA_WEBHOOK_SWEEP_STALE_SECONDS = 120
    now = timezone.now()
    due = plan_event(stripe_config, next_attempt_at=now - timedelta(seconds=1))
    parked = plan_event(stripe_config, next_attempt_at=now + timedelta(minutes=5))
    stale = plan_event(stripe_config)
    WebhookEvent.objects.filter(pk=stale.pk).update(received_at=now - timedelta(minutes=3))
    fresh = plan_event(stripe_config)
    done = plan_event(stripe_config, status="processed", next_attempt_at=now - timedelta(hours=1))

    call_command("webhooks_sweep", "--inline")

    assert capsys.readouterr().out.strip() == "2 webhook event(s) processed"
    statuses = dict(WebhookEvent.objects.values_list("pk", "status"))
    assert statuses == {
        due.pk: "ignored",
        stale.pk: "ignored",
        parked.pk: "received",
        fresh.pk: "received",
        done.pk: "processed",
    }
    assert webhook_events_sweep(inline=True) == []
    assert webhook_events_sweep(inline=True, stale_after=timedelta(0)) == [fresh.pk]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("repeat", range(3))
def test_two_concurrent_sweepers_never_take_the_same_event(
    stripe_config, settings, close_thread_connections, repeat
):
    settings.WASLA_WEBHOOK_SWEEP_BATCH_SIZE = 4
    past = timezone.now() - timedelta(seconds=1)
    events = [plan_event(stripe_config, next_attempt_at=past).pk for _ in range(40)]

    swept = _in_threads(2, lambda i: webhook_events_sweep())

    first, second = swept
    assert isinstance(first, list) and isinstance(second, list), swept
    assert not set(first) & set(second)
    assert sorted(first + second) == sorted(events)
    assert set(WebhookEvent.objects.values_list("status", flat=True)) == {"ignored"}
    assert set(WebhookEvent.objects.values_list("attempts", flat=True)) == {1}


@pytest.mark.django_db(transaction=True)
def test_the_sweeper_skips_rows_another_sweeper_holds(stripe_config, close_thread_connections):
    past = timezone.now() - timedelta(seconds=1)
    events = [plan_event(stripe_config, next_attempt_at=past).pk for _ in range(8)]
    held = events[:3]
    locked, release = threading.Event(), threading.Event()

    def hold() -> None:
        try:
            # Another sweeper: the platform job, as webhook_events_sweep itself runs.
            with platform_access(reason="a second sweeper"), transaction.atomic():
                list(WebhookEvent.objects.select_for_update().filter(pk__in=held))
                locked.set()
                release.wait(30)
        finally:
            connection.close()

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert locked.wait(10)
        started = time.monotonic()
        assert sorted(webhook_events_sweep()) == events[3:]
        assert time.monotonic() - started < 10  # skipped, never waited for the lock
    finally:
        release.set()
        holder.join()
    assert sorted(webhook_events_sweep()) == held


# --- Broker down ----------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_webhooks_are_accepted_with_redis_down_and_processed_once_it_is_back(
    stripe_config, settings, broker_queue
):
    attempt, body, signature = stripe_paid_delivery(stripe_config)
    with celery_publishing(f"redis://127.0.0.1:{free_port()}/0", queue=broker_queue):
        started = time.monotonic()
        response = post_stripe(stripe_config, body, signature)
        assert time.monotonic() - started < 3
        assert response.status_code == 200
        assert response.json() == {"status": "accepted"}
        event = WebhookEvent.objects.get()
        assert (event.status, event.attempts) == ("received", 0)
        assert event.error.startswith("not queued: OperationalError")
        assert event.next_attempt_at <= timezone.now()
        # The sweeper cannot queue it either: it stays due.
        assert webhook_events_sweep() == []
        event.refresh_from_db()
        assert event.status == "received" and event.next_attempt_at <= timezone.now()
    attempt.refresh_from_db()
    assert attempt.status == "pending"

    broker = settings.CELERY_BROKER_URL
    with celery_publishing(broker, queue=broker_queue):
        assert webhook_events_sweep() == [event.pk]
        assert webhook_events_sweep() == []  # queued: leased, not sent twice
    # What a worker takes off the queue, it runs.
    for event_pk in queued_event_ids(broker, broker_queue):
        process_webhook_event.apply(args=[event_pk])

    event.refresh_from_db()
    assert (event.status, event.attempts) == ("processed", 1)
    attempt.refresh_from_db()
    assert attempt.status == "paid"
    assert SettlementRecord.objects.filter(payment_attempt=attempt).count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_hung_broker_delays_the_answer_by_seconds_not_minutes(stripe_config, broker_queue):
    """A broker that accepts the connection and never answers (failover, a dead NAT entry)."""
    attempt, body, signature = stripe_paid_delivery(stripe_config)
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)
    try:
        url = f"redis://127.0.0.1:{silent.getsockname()[1]}/0"
        with celery_publishing(url, queue=broker_queue):
            started = time.monotonic()
            response = post_stripe(stripe_config, body, signature)
            elapsed = time.monotonic() - started
    finally:
        silent.close()
    assert response.status_code == 200
    assert elapsed < 15
    event = WebhookEvent.objects.get()
    assert event.status == "received" and event.error.startswith("not queued")
    assert webhook_events_sweep(inline=True) == [event.pk]
    attempt.refresh_from_db()
    assert attempt.status == "paid"


def test_beat_runs_the_sweeper_and_reconciliation():
    schedule = {
        entry["task"]: entry["schedule"] for entry in celery_app.conf.beat_schedule.values()
    }
    assert schedule == {"payments.webhooks_sweep": 30.0, "payments.reconcile": 300.0}
    assert "payments.process_webhook_event" in celery_app.tasks
    assert "payments.webhooks_sweep" in celery_app.tasks
