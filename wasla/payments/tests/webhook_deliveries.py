"""Webhook deliveries and the attempts they are about, built for the webhook pipeline tests:
Tap charges and refunds signed with the gateway's key, Stripe events signed with its endpoint
secret, events put straight into the inbox, and Tap payments made on the sandbox's hosted page."""

from __future__ import annotations

import json
import time
import uuid
from datetime import timedelta
from decimal import Decimal
from typing import Any

import httpx
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from sandbox.stripe_sim.signing import stripe_signature_header
from sandbox.tap_sim.signing import tap_hashstring
from testsupport.factories import make_attempt, make_order
from wasla.payments.models import PaymentAttempt, PaymentGatewayConfig, WebhookEvent
from wasla.payments.providers.tap import dumps, loads
from wasla.payments.services import payment_checkout

from .fixtures import stripe_object
from .hosted import pay_on_hosted_page


def tap_attempt(config: PaymentGatewayConfig, reference: str) -> PaymentAttempt:
    return make_attempt(
        config, status="pending", idempotency_key=uuid.uuid4().hex, provider_reference=reference
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


def stripe_paid_delivery(config: PaymentGatewayConfig) -> tuple[PaymentAttempt, bytes, str]:
    """A pending Stripe attempt and the signed `checkout.session.completed` that pays it."""
    session_id = "cs_test_" + uuid.uuid4().hex
    attempt = make_attempt(
        config, status="pending", idempotency_key=uuid.uuid4().hex, provider_reference=session_id
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
