"""PUT /api/v1/gateways/<provider>/: connect a provider account; secrets are write-only."""

import json

import pytest

from testsupport.factories import api_client_for
from wasla.payments.models import PaymentGatewayConfig

pytestmark = pytest.mark.django_db(transaction=True)


def put(api, provider: str, body: dict, key: str):
    return api.put(
        f"/api/v1/gateways/{provider}/",
        json.dumps(body),
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY=key,
    )


def test_connect_stripe_registers_the_webhook_and_never_shows_secrets(
    sandbox, tenant, other_tenant
):
    api = api_client_for(tenant)
    secret = "sk_test_gatewayapi_0123456789"
    response = put(
        api, "stripe", {"mode": "sandbox", "public_key": "pk_test_x", "secret_key": secret}, "g1"
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert secret not in response.content.decode()
    assert body["secret_key"] == "••••6789"
    assert body["webhook_secret"].startswith("••••")  # registered with the sandbox
    assert body["webhook_url"].endswith("/")
    config = PaymentGatewayConfig.objects.get(tenant=tenant, provider="stripe")
    assert config.webhook_secret.startswith("whsec_")

    # A blank secret keeps the stored one; other fields update.
    again = put(
        api, "stripe", {"mode": "sandbox", "public_key": "pk_test_y", "is_active": False}, "g2"
    )
    assert again.status_code == 200
    config.refresh_from_db()
    assert (config.secret_key, config.public_key, config.is_active) == (secret, "pk_test_y", False)

    listed = api.get("/api/v1/gateways/stripe/").json()
    assert [g["public_key"] for g in listed] == ["pk_test_y"]
    assert secret not in json.dumps(listed)
    assert api_client_for(other_tenant).get("/api/v1/gateways/stripe/").json() == []


def test_bad_gateway_input(sandbox, tenant):
    api = api_client_for(tenant)
    assert put(api, "nope", {"mode": "sandbox"}, "b1").status_code == 422
    assert put(api, "tap", {"mode": "staging"}, "b2").status_code == 400
    assert put(api, "tap", {"mode": "sandbox", "secret_key": 12}, "b3").status_code == 400
    assert not PaymentGatewayConfig.objects.exists()
