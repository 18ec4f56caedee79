"""Deliver recorded events to the account's webhook endpoints, signed like Stripe signs them.

Delivery is synchronous and happens only after the state change is committed. A failing or
unreachable receiver is logged, never raised: the customer must still get back to the merchant.
The fault knobs can drop, duplicate, mis-sign or back-date deliveries.
"""

from __future__ import annotations

import json
import logging
import secrets
from typing import Final

import httpx
from django.db.models import F

from sandbox.stripe_sim.keys import secret_decrypt
from sandbox.stripe_sim.knobs import knobs_get
from sandbox.stripe_sim.models import StripeEvent, StripeSandboxKnobs, StripeWebhookEndpoint
from sandbox.stripe_sim.serializers import event_to_dict
from sandbox.stripe_sim.signing import stripe_signature_header

logger = logging.getLogger(__name__)

WEBHOOK_TIMEOUT: Final = httpx.Timeout(30.0, connect=5.0)
STALE_SECONDS: Final = 10 * 60
USER_AGENT: Final = "Stripe/1.0 (+https://stripe.com/docs/webhooks)"

Knob = StripeSandboxKnobs.Webhook


def event_payload(event: StripeEvent) -> bytes:
    """The exact bytes Stripe would POST (pretty-printed JSON, as Stripe sends it)."""
    return json.dumps(event_to_dict(event), indent=2).encode()


def _signing_secret(endpoint: StripeWebhookEndpoint, mode: str) -> str:
    if mode == Knob.BAD_SIGNATURE:
        # Same shape as a real secret, so only the HMAC tells it apart.
        return "whsec_" + secrets.token_urlsafe(24)
    return secret_decrypt(endpoint.secret_encrypted)


def _post(url: str, body: bytes, signature: str) -> bool:
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "Stripe-Signature": signature,
        "User-Agent": USER_AGENT,
        "Accept": "*/*; q=0.5, application/xml",
    }
    try:
        # trust_env=False: the receiver is the URL as registered, never a proxy's guess.
        with httpx.Client(timeout=WEBHOOK_TIMEOUT, trust_env=False) as client:
            response = client.post(url, content=body, headers=headers)
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        logger.warning("stripe sandbox webhook to %s failed: %s", url, exc)
        return False
    if not response.is_success:
        logger.warning("stripe sandbox webhook to %s answered %s", url, response.status_code)
    return response.is_success


def _deliver_to(event: StripeEvent, endpoint: StripeWebhookEndpoint, mode: str, now: int) -> int:
    body = event_payload(event)
    secret = _signing_secret(endpoint, mode)
    timestamp = now - STALE_SECONDS if mode == Knob.STALE_TIMESTAMP else now
    deliveries = 2 if mode == Knob.DUPLICATE else 1
    answers = [
        _post(endpoint.url, body, stripe_signature_header(body, secret, timestamp))
        for _ in range(deliveries)
    ]
    if any(answers):
        StripeEvent.objects.filter(pk=event.pk, pending_webhooks__gt=0).update(
            pending_webhooks=F("pending_webhooks") - 1
        )
    return deliveries


def event_deliver(*, event_id: str, now: int) -> int:
    """POST one event to each endpoint it was recorded for; returns the deliveries attempted."""
    event = StripeEvent.objects.get(pk=event_id)
    mode = knobs_get().webhook
    if mode == Knob.DROP:
        logger.info("stripe sandbox event %s not delivered (webhook=drop)", event_id)
        return 0
    endpoints = StripeWebhookEndpoint.objects.filter(
        pk__in=event.endpoint_ids, status=StripeWebhookEndpoint.Status.ENABLED
    ).order_by("created_at", "id")
    return sum(_deliver_to(event, endpoint, mode, now) for endpoint in endpoints)


def events_deliver(*, event_ids: list[str], now: int) -> None:
    """Deliver events in order; a delivery problem is logged and never reaches the caller."""
    for event_id in event_ids:
        try:
            event_deliver(event_id=event_id, now=now)
        except Exception:
            logger.exception("stripe sandbox event %s could not be delivered", event_id)
