"""Stripe webhooks: the official signature helper against correctly and incorrectly signed
bodies, and every real Stripe object sample mapped by the provider (unknown types stored and
ignored, never a 500)."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from decimal import Decimal

import pytest
from django.db import transaction
from django.test import Client
from django.urls import reverse

from testsupport.factories import make_attempt, make_stripe_config
from wasla.payments.events import PaymentDisputed, subscribe, unsubscribe
from wasla.payments.models import PaymentAttempt, PaymentDispute, PaymentGatewayConfig, WebhookEvent
from wasla.payments.orchestrator import PaymentOrchestrator
from wasla.payments.providers.base import (
    EventKind,
    PaymentResult,
    PaymentStatus,
    ProviderEvent,
    WebhookPayloadUnreadable,
    WebhookRequest,
)
from wasla.payments.providers.stripe import WEBHOOK_EVENTS
from wasla.payments.services import payment_apply_result

from .fixtures import FIXTURES, stripe_object

SECRET = "whsec_test_3b1f0e6c2d"


def sign(payload: bytes, secret: str = SECRET, timestamp: int | None = None) -> str:
    t = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{t}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def envelope(event_type: str, obj: dict, event_id: str = "evt_test_1") -> bytes:
    return json.dumps(
        {
            "id": event_id,
            "object": "event",
            "api_version": "2026-06-24.dahlia",
            "created": 1,
            "data": {"object": obj},
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "type": event_type,
        }
    ).encode()


@pytest.fixture
def stripe_config(tenant) -> PaymentGatewayConfig:
    return make_stripe_config(tenant, secret_key="sk_test_stripe123", webhook_secret=SECRET)


@pytest.fixture
def provider(stripe_config):
    return PaymentOrchestrator().provider(stripe_config)


def _req(body: bytes, header: str | None) -> WebhookRequest:
    return WebhookRequest(body=body, headers={"stripe-signature": header} if header else {})


@pytest.mark.django_db
def test_signature_checks(provider):
    body = envelope("checkout.session.completed", stripe_object("checkout_session"))
    assert provider.validate_webhook(_req(body, sign(body)))
    assert not provider.validate_webhook(_req(body.replace(b"unpaid", b"paid"), sign(body)))
    assert not provider.validate_webhook(_req(body, sign(body, secret="whsec_wrong")))
    assert not provider.validate_webhook(_req(body, sign(body, timestamp=int(time.time()) - 301)))
    assert not provider.validate_webhook(_req(body, None))
    assert not provider.validate_webhook(_req(body, "t=1,v0=abc"))
    assert not provider.validate_webhook(_req(body, "garbage"))
    good = sign(body)
    t, v1 = good.split(",")
    bad_v1 = "v1=" + "0" * 64
    # Several v1 values (Stripe rolls secrets): one matching is enough, none is not.
    assert provider.validate_webhook(_req(body, f"{t},{bad_v1},{v1}"))
    assert not provider.validate_webhook(_req(body, f"{t},{bad_v1},v1={'1' * 64}"))


@pytest.mark.django_db
def test_every_stripe_sample_object_is_mapped(provider):
    cases = {
        "checkout_session": ("checkout.session.completed", EventKind.PAYMENT),
        "payment_intent": ("payment_intent.payment_failed", EventKind.PAYMENT),
        "charge": ("charge.refunded", EventKind.OTHER),  # a summary; refund.* carry refunds
        "refund": ("refund.updated", EventKind.REFUND),
        "dispute": ("charge.dispute.created", EventKind.DISPUTE),
    }
    for name, (event_type, kind) in cases.items():
        obj = stripe_object(name)
        event = provider.parse_webhook(_req(envelope(event_type, obj), None))
        assert (event.event_type, event.kind) == (event_type, kind), name
    session = provider.parse_webhook(
        _req(envelope("checkout.session.completed", stripe_object("checkout_session")), None)
    )
    assert session.provider_reference.startswith("cs_test_")
    assert session.status == PaymentStatus.PENDING  # open / unpaid
    intent = provider.parse_webhook(
        _req(envelope("payment_intent.payment_failed", stripe_object("payment_intent")), None)
    )
    assert (intent.status, intent.amount, intent.currency) == (
        PaymentStatus.FAILED,
        Decimal("10.99"),
        "USD",
    )
    dispute = provider.parse_webhook(
        _req(envelope("charge.dispute.created", stripe_object("dispute")), None)
    )
    assert (dispute.provider_reference, dispute.amount) == (
        "dp_1Pgc71B7WZ01zgkWMevJiAUx",
        Decimal("10.00"),
    )
    plan = provider.parse_webhook(_req(json.dumps(stripe_object("event")).encode(), None))
    assert (plan.kind, plan.event_type) == (EventKind.OTHER, "plan.created")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "event_type", "status"),
    [
        ("event", None, "ignored"),  # plan.created: stored, ignored
        # No attempt of ours (yet): parked, retried with backoff, ignored after the last try.
        ("checkout_session", "checkout.session.completed", "received"),
        ("payment_intent", "payment_intent.payment_failed", "received"),
        ("charge", "charge.refunded", "ignored"),
        ("refund", "refund.updated", "received"),
        ("dispute", "charge.dispute.created", "processed"),  # recorded for staff
    ],
)
def test_samples_through_the_webhook_view(
    stripe_config, django_capture_on_commit_callbacks, name, event_type, status
):
    obj = stripe_object(name)
    body = (
        json.dumps(obj).encode() if event_type is None else envelope(event_type, obj, f"evt_{name}")
    )
    url = reverse("webhook", kwargs={"provider": "stripe", "token": stripe_config.webhook_token})
    with django_capture_on_commit_callbacks(execute=True):
        response = Client().post(
            url, body, content_type="application/json", HTTP_STRIPE_SIGNATURE=sign(body)
        )
    assert response.status_code == 200, response.content
    event = WebhookEvent.objects.get()
    assert (event.signature_valid, event.status) == (True, status), event.error
    if status == "received":
        assert event.error.startswith("not ready:")
        assert event.next_attempt_at is not None
    again = Client().post(
        url, body, content_type="application/json", HTTP_STRIPE_SIGNATURE=sign(body)
    )
    assert again.json() == {"status": "duplicate"}


@pytest.mark.django_db
def test_dispute_is_recorded_for_staff(stripe_config, django_capture_on_commit_callbacks):
    body = envelope("charge.dispute.created", stripe_object("dispute"), "evt_dispute")
    url = reverse("webhook", kwargs={"provider": "stripe", "token": stripe_config.webhook_token})
    with django_capture_on_commit_callbacks(execute=True):
        Client().post(url, body, content_type="application/json", HTTP_STRIPE_SIGNATURE=sign(body))
    dispute = PaymentDispute.objects.get()
    assert (dispute.tenant_id, dispute.status) == (
        stripe_config.tenant_id,
        "warning_needs_response",
    )


def _paid_stripe_attempt(config: PaymentGatewayConfig, intent: str) -> PaymentAttempt:
    """A Stripe attempt paid through the real transition code, its PaymentIntent recorded."""
    attempt = make_attempt(config)
    return payment_apply_result(
        attempt_id=attempt.id,
        result=PaymentResult(
            status=PaymentStatus.PAID,
            provider_reference=f"cs_test_{attempt.id.hex}",
            amount=attempt.amount,
            currency=attempt.currency,
            payment_reference=intent,
        ),
    )


@pytest.mark.django_db
def test_a_dispute_is_linked_to_the_attempt_whose_payment_it_disputes(
    stripe_config, django_capture_on_commit_callbacks
):
    other = _paid_stripe_attempt(stripe_config, "pi_3OtherPayment000000001")
    attempt = _paid_stripe_attempt(stripe_config, "pi_3DisputedPayment00001")
    assert attempt.status == PaymentAttempt.Status.PAID
    obj = {**stripe_object("dispute"), "payment_intent": attempt.provider_payment_reference}
    body = envelope("charge.dispute.created", obj, "evt_dispute_linked")
    url = reverse("webhook", kwargs={"provider": "stripe", "token": stripe_config.webhook_token})
    with django_capture_on_commit_callbacks(execute=True):
        response = Client().post(
            url, body, content_type="application/json", HTTP_STRIPE_SIGNATURE=sign(body)
        )
    assert response.status_code == 200, response.content
    assert WebhookEvent.objects.get().status == WebhookEvent.Status.PROCESSED
    dispute = PaymentDispute.objects.get()
    assert dispute.payment_attempt_id == attempt.id != other.id
    assert dispute.payment_reference == attempt.provider_payment_reference
    # A dispute records news; it does not move the payment.
    attempt.refresh_from_db()
    assert attempt.status == PaymentAttempt.Status.PAID


@pytest.mark.django_db
def test_a_dispute_about_a_payment_we_do_not_know_is_recorded_unlinked(
    stripe_config, django_capture_on_commit_callbacks
):
    _paid_stripe_attempt(stripe_config, "pi_3SomeOtherPayment00001")
    obj = {**stripe_object("dispute"), "payment_intent": "pi_3NotOursAtAll000000001"}
    body = envelope("charge.dispute.created", obj, "evt_dispute_unlinked")
    url = reverse("webhook", kwargs={"provider": "stripe", "token": stripe_config.webhook_token})
    with django_capture_on_commit_callbacks(execute=True):
        Client().post(url, body, content_type="application/json", HTTP_STRIPE_SIGNATURE=sign(body))
    dispute = PaymentDispute.objects.get()
    assert (dispute.payment_attempt_id, dispute.payment_reference) == (
        None,
        "pi_3NotOursAtAll000000001",
    )


@pytest.mark.django_db
@pytest.mark.parametrize("header", ["stale", "wrong_secret", "tampered", "missing"])
def test_bad_stripe_signatures_are_rejected_and_logged(stripe_config, header, caplog):
    body = envelope("checkout.session.completed", stripe_object("checkout_session"))
    signature = {
        "stale": sign(body, timestamp=int(time.time()) - 600),
        "wrong_secret": sign(body, secret="whsec_other"),
        "tampered": sign(body + b" "),
        "missing": None,
    }[header]
    extra = {"HTTP_STRIPE_SIGNATURE": signature} if signature else {}
    url = reverse("webhook", kwargs={"provider": "stripe", "token": stripe_config.webhook_token})
    response = Client().post(url, body, content_type="application/json", **extra)
    assert response.status_code == 401
    assert WebhookEvent.objects.get().status == "rejected"
    assert "webhook rejected" in caplog.text


def _all_resources() -> dict[str, dict]:
    """Every sample object of Stripe's OpenAPI fixture set (176 resources)."""
    return json.loads((FIXTURES / "stripe" / "fixtures3.json").read_text())["resources"]


@pytest.mark.django_db
def test_every_stripe_resource_under_every_handled_type_maps_or_is_refused_cleanly(provider):
    """Stripe's whole fixture set, each object under each event type we act on: the mapping
    code returns an event or refuses the body as unreadable, never another exception (which
    the view would turn into a 500)."""
    resources = _all_resources()
    assert len(resources) > 100
    mapped = 0
    for name, obj in resources.items():
        for event_type in sorted(WEBHOOK_EVENTS):
            body = envelope(event_type, obj, f"evt_{name}")
            try:
                event = provider.parse_webhook(_req(body, None))
            except WebhookPayloadUnreadable:
                continue
            assert isinstance(event, ProviderEvent), (name, event_type)
            mapped += 1
    assert mapped > 0


@pytest.mark.django_db
def test_every_stripe_resource_as_an_unknown_event_is_stored_and_ignored(
    stripe_config, django_capture_on_commit_callbacks
):
    url = reverse("webhook", kwargs={"provider": "stripe", "token": stripe_config.webhook_token})
    resources = _all_resources()
    with django_capture_on_commit_callbacks(execute=True):
        for name, obj in resources.items():
            body = envelope(f"{name}.wasla_unknown", obj, f"evt_{name}")
            response = Client().post(
                url, body, content_type="application/json", HTTP_STRIPE_SIGNATURE=sign(body)
            )
            assert response.status_code == 200, (name, response.content)
    events = WebhookEvent.objects.filter(signature_valid=True)
    assert events.count() == len(resources)
    assert set(events.values_list("status", flat=True)) == {"ignored"}


@pytest.mark.django_db
def test_a_recorded_dispute_is_announced_to_subscribers_in_its_transaction(
    stripe_config, django_capture_on_commit_callbacks
):
    attempt = _paid_stripe_attempt(stripe_config, "pi_3AnnouncedDispute0001")
    heard: list[tuple[PaymentDisputed, bool]] = []

    def listener(event: PaymentDisputed) -> None:
        heard.append((event, transaction.get_connection().in_atomic_block))

    obj = {**stripe_object("dispute"), "payment_intent": attempt.provider_payment_reference}
    body = envelope("charge.dispute.created", obj, "evt_dispute_announced")
    url = reverse("webhook", kwargs={"provider": "stripe", "token": stripe_config.webhook_token})
    subscribe(PaymentDisputed, listener)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            Client().post(
                url, body, content_type="application/json", HTTP_STRIPE_SIGNATURE=sign(body)
            )
    finally:
        unsubscribe(PaymentDisputed, listener)
    dispute = PaymentDispute.objects.get()
    [(event, inside_transaction)] = heard
    assert inside_transaction
    assert (event.dispute_id, event.attempt_id, event.order_id) == (
        dispute.pk,
        attempt.id,
        attempt.order_id,
    )
    assert (event.tenant_id, event.provider, event.provider_reference) == (
        stripe_config.tenant_id,
        "stripe",
        dispute.provider_reference,
    )
    assert (event.amount, event.currency, event.status) == (
        dispute.amount,
        dispute.currency,
        dispute.status,
    )
