"""Collection-by-card test helpers: Wasla's own Stripe account on the sandbox (its billing webhook
registered there), a card saved the way a merchant saves it (the card API, then the sandbox's
setup page over HTTP), an issued invoice, signed billing webhook deliveries, and the dunning
calendar of that invoice."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urljoin

import httpx
import stripe
from django.conf import settings
from rest_framework.test import APIClient

from wasla.invoicing.models import Invoice
from wasla.tenants.models import Tenant

from .invoicing import make_invoiceable_tenant, paid_payment_at, riyadh, run_month

VISA = "4242424242424242"  # saves, charges
DECLINES_CHARGES = "4000000000000341"  # saves, every charge declined
AUTH_REQUIRED = "4000002760003184"  # 3-D Secure to save and on every charge
RETURN_URL = "https://merchant.example/billing"
WEBHOOK_PATH = "/webhooks/billing/stripe/"
ISSUED = riyadh(2026, 2, 1)  # when `issued_invoice` issues (the run after January)


def platform_client() -> stripe.StripeClient:
    """Wasla's own Stripe account, as the tests see it (the official client)."""
    return stripe.StripeClient(
        settings.WASLA_BILLING_STRIPE_SECRET_KEY,
        base_addresses={"api": settings.WASLA_BILLING_STRIPE_API_BASE},
    )


def billing_on_sandbox(base: str, test_settings: Any) -> str:
    """Point billing at the sandbox on `base` and register the billing webhook there; the
    endpoint's signing secret becomes the setting (and is returned)."""
    test_settings.WASLA_BILLING_STRIPE_API_BASE = f"{base}/sandbox/stripe"
    endpoint = platform_client().v1.webhook_endpoints.create(
        params={"url": f"{base}{WEBHOOK_PATH}", "enabled_events": ["*"]}
    )
    test_settings.WASLA_BILLING_STRIPE_WEBHOOK_SECRET = endpoint.secret
    return str(endpoint.secret)


def sandbox_knobs(base: str, **knobs: Any) -> None:
    httpx.post(f"{base}/sandbox/stripe/_control/", json=knobs).raise_for_status()


def card_setup_url(api: APIClient) -> str:
    response = api.post(
        "/api/v1/billing/card/setup/",
        {"return_url": RETURN_URL},
        format="json",
        HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()),
    )
    assert response.status_code == 201, response.content
    return str(response.json()["checkout_url"])


def card_saved(api: APIClient, number: str) -> None:
    """Save `number` as the merchant does: the card API's Checkout page, then the card chosen
    on the sandbox's setup page (and its 3-D Secure step when the card asks for one). The
    sandbox waits for our webhook before it redirects, so the card is stored on return."""
    with httpx.Client(timeout=30, trust_env=False, follow_redirects=False) as browser:
        setup_url = card_setup_url(api)
        answer = browser.post(setup_url, data={"outcome": number})
        assert answer.status_code == 302, answer.text
        if "/3ds/" in answer.headers["location"]:
            threeds = urljoin(setup_url, answer.headers["location"])
            answer = browser.post(threeds, data={"outcome": "succeed"})
            assert answer.status_code == 302, answer.text
        assert answer.headers["location"].startswith(RETURN_URL)


def issued_invoice(tenant: Tenant | None = None) -> Invoice:
    """January's invoice of one payment (1.00 SAR fee + VAT = 1.15 SAR), issued at `ISSUED`."""
    tenant = tenant or make_invoiceable_tenant()
    paid_payment_at(tenant, riyadh(2026, 1, 10))
    invoice = run_month(tenant, 2026, 1)
    assert invoice is not None
    assert invoice.issued_at == ISSUED
    return invoice


def day(n: int, hour: int = 9) -> datetime:
    """`n` days after the invoice was issued, at `hour` (Riyadh)."""
    return ISSUED + timedelta(days=n, hours=hour)


def signed(body: bytes, secret: str | None = None, timestamp: int | None = None) -> str:
    """A Stripe-Signature header for `body`, made as Stripe makes it."""
    key = secret if secret is not None else settings.WASLA_BILLING_STRIPE_WEBHOOK_SECRET
    t = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(key.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def deliver(base: str, body: bytes, signature: str | None = None, **headers: str) -> httpx.Response:
    """POST a billing webhook delivery to the live server, signed unless told otherwise."""
    sent = {"Content-Type": "application/json", **headers}
    sent["Stripe-Signature"] = signed(body) if signature is None else signature
    if not sent["Stripe-Signature"]:
        del sent["Stripe-Signature"]
    return httpx.post(f"{base}{WEBHOOK_PATH}", content=body, headers=sent, timeout=30)


def event_body(event_type: str, obj: dict[str, Any], event_id: str = "evt_test_1") -> bytes:
    return json.dumps(
        {"id": event_id, "object": "event", "type": event_type, "data": {"object": obj}}
    ).encode()
