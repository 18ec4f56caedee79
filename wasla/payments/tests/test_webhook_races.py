"""The duplicate-delivery race for Stripe and PayPal (Tap's is in test_tap_webhooks): 30
concurrent deliveries of one valid webhook, threads behind a barrier, each with its own
database connection → one paid transition, one settlement. Repeated."""

from __future__ import annotations

import json
import uuid

import httpx
import pytest
import stripe
from django.test import Client
from django.urls import reverse

from sandbox.paypal_sim.signing import certificate_path, sign_headers
from sandbox.stripe_sim.signing import stripe_signature_header
from testsupport.factories import make_order
from testsupport.threads import in_threads
from wasla.payments.gateways import gateway_config_connect
from wasla.payments.models import PaymentGatewayConfig, WebhookEvent
from wasla.payments.services import payment_checkout
from wasla.settlement.models import SettlementRecord

from .hosted import pay_on_hosted_page

pytestmark = pytest.mark.django_db(transaction=True)


def _paid_without_webhook(sandbox, tenant, provider: str, method: str):
    config = gateway_config_connect(
        tenant=tenant,
        provider=provider,
        mode=PaymentGatewayConfig.Mode.SANDBOX,
        public_key=f"{provider}-public",
        secret_key=f"sk_test_{uuid.uuid4().hex}",
    )
    httpx.post(
        f"{sandbox}/sandbox/{provider}/_control/", json={"webhook": "drop"}
    ).raise_for_status()
    order = make_order(tenant)
    attempt = payment_checkout(
        tenant=tenant,
        order_id=order.id,
        provider=provider,
        method=method,
        return_url="",
        client_key=uuid.uuid4().hex,
    )
    # Approve on the hosted page but never come back (the return would fetch the truth).
    pay_on_hosted_page(attempt.redirect_url, "succeed", return_to_merchant=False)
    return config, attempt


def _stripe_delivery(sandbox, config, attempt) -> tuple[bytes, dict[str, str]]:
    client = stripe.StripeClient(
        config.secret_key, base_addresses={"api": f"{sandbox}/sandbox/stripe"}
    )
    session = client.v1.checkout.sessions.retrieve(attempt.provider_reference).to_dict()
    body = json.dumps(
        {
            "id": "evt_" + uuid.uuid4().hex,
            "object": "event",
            "api_version": stripe.api_version,
            "created": 1,
            "data": {"object": session},
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "type": "checkout.session.completed",
        }
    ).encode()
    return body, {"HTTP_STRIPE_SIGNATURE": stripe_signature_header(body, config.webhook_secret)}


def _paypal_delivery(sandbox, config, attempt) -> tuple[bytes, dict[str, str]]:
    order = httpx.get(
        f"{sandbox}/sandbox/paypal/v2/checkout/orders/{attempt.provider_reference}",
        headers={"Authorization": f"Bearer {_paypal_token(sandbox, config)}"},
    ).json()
    body = json.dumps(
        {
            "id": "WH-" + uuid.uuid4().hex.upper(),
            "event_version": "1.0",
            "create_time": order["create_time"],
            "resource_type": "checkout-order",
            "resource_version": "2.0",
            "event_type": "CHECKOUT.ORDER.APPROVED",
            "summary": "An order has been approved by buyer",
            "resource": order,
            "links": [],
        }
    ).encode()
    headers = sign_headers(body, config.webhook_secret, sandbox + certificate_path())
    return body, {
        "HTTP_" + k.upper().replace("-", "_"): v for k, v in headers.items() if k != "Content-Type"
    }


def _paypal_token(sandbox, config) -> str:
    response = httpx.post(
        f"{sandbox}/sandbox/paypal/v1/oauth2/token",
        auth=(config.public_key, config.secret_key),
        data={"grant_type": "client_credentials"},
    )
    return response.json()["access_token"]


CASES = {
    "stripe": ("card", _stripe_delivery),
    "paypal": ("paypal", _paypal_delivery),
}


@pytest.mark.parametrize("repeat", range(20))  # as the Tap race: at least 20 times
@pytest.mark.parametrize("provider", list(CASES))
def test_thirty_concurrent_deliveries_pay_once(sandbox, tenant, provider, repeat):
    method, delivery = CASES[provider]
    config, attempt = _paid_without_webhook(sandbox, tenant, provider, method)
    attempt.refresh_from_db()
    assert attempt.status == "pending"
    body, headers = delivery(sandbox, config, attempt)
    url = reverse("webhook", kwargs={"provider": provider, "token": config.webhook_token})

    statuses = in_threads(
        30,
        lambda i: Client().post(url, body, content_type="application/json", **headers).status_code,
    )

    assert statuses == [200] * 30
    attempt.refresh_from_db()
    assert attempt.status == "paid"
    assert SettlementRecord.objects.filter(order_id=attempt.order_id).count() == 1
    verified = WebhookEvent.objects.filter(signature_valid=True)
    assert verified.count() == 1
    assert verified.get().status == "processed"
