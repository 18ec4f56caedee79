"""Deliver recorded events to the account's webhook endpoints, signed like Stripe signs them.

Delivery happens only after the state change is committed: at once, or `delay_seconds` later
from a background thread. A failing or unreachable receiver is logged, never raised: the
customer must still get back to the merchant. The fault knobs can drop, duplicate, mis-sign,
back-date, delay or hold deliveries; `flush` sends the held ones, in order or reversed.
"""

from __future__ import annotations

import json
import logging
import secrets
import time
from typing import Final

import httpx
from django.db.models import F

from sandbox.faults import run_later
from sandbox.stripe_sim.keys import secret_decrypt
from sandbox.stripe_sim.knobs import KNOBS, knobs_get
from sandbox.stripe_sim.models import (
    StripeEvent,
    StripeHeldEvent,
    StripeSandboxKnobs,
    StripeWebhookEndpoint,
)
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


def _event_send(*, event_id: str, mode: str, now: int) -> int:
    """POST one event to each endpoint it was recorded for; returns the deliveries attempted."""
    event = StripeEvent.objects.get(pk=event_id)
    endpoints = StripeWebhookEndpoint.objects.filter(
        pk__in=event.endpoint_ids, status=StripeWebhookEndpoint.Status.ENABLED
    ).order_by("created_at", "id")
    return sum(_deliver_to(event, endpoint, mode, now) for endpoint in endpoints)


def _events_send(*, event_ids: list[str], mode: str, now: int | None = None) -> int:
    """Send events in order, signed at `now` (or when each goes out); a problem with one is
    logged and never stops the others."""
    attempted = 0
    for event_id in event_ids:
        try:
            sent_at = int(time.time()) if now is None else now
            attempted += _event_send(event_id=event_id, mode=mode, now=sent_at)
        except Exception:
            logger.exception("stripe sandbox event %s could not be delivered", event_id)
    return attempted


def events_deliver(*, event_ids: list[str], now: int) -> None:
    """Deliver events in order, as the fault knobs say; never raises for a delivery problem.

    Delayed events go out together from one background thread, so their order is kept, and are
    signed when they leave. Held events wait for `flush`.
    """
    if not event_ids:
        return
    knobs = knobs_get()
    mode = knobs.webhook
    if mode == Knob.DROP:
        logger.info("stripe sandbox events %s not delivered (webhook=drop)", event_ids)
        return
    if mode == Knob.HOLD:
        StripeHeldEvent.objects.bulk_create(
            [StripeHeldEvent(event_id=event_id) for event_id in event_ids]
        )
        logger.info("stripe sandbox events %s held until a flush", event_ids)
        return
    if knobs.delay_seconds > 0:
        pending = list(event_ids)
        run_later(
            delay_seconds=knobs.delay_seconds,
            label=pending[0],
            work=lambda: _events_send(event_ids=pending, mode=mode),
        )
        return
    _events_send(event_ids=event_ids, mode=mode, now=now)


def flush(order: str = "forward", duplicate: bool = False) -> int:
    """Deliver every event the "hold" knob kept back, in the order they happened ("forward") or
    reversed, each twice when `duplicate`, signed now; returns how many POSTs were made.

    The held rows are claimed first (`KnobStore.held_claim`), so concurrent flushes never
    deliver one twice.
    """
    event_ids = [row.event_id for row in KNOBS.held_claim(order)]
    return _events_send(event_ids=event_ids, mode=Knob.DUPLICATE if duplicate else Knob.SEND)
