"""Factories for the rows tests build: tenants, gateway configs, orders, payment attempts,
refunds, and API clients authenticated as a tenant.

Plain keyword-argument functions: each creates exactly one row (an attempt without an order
also creates its order) with the defaults most tests need; a test that depends on a field
passes it as an override, and every override goes into the row as given. They write with the
ORM like the tests did by hand, so statement counts do not change.
"""

from __future__ import annotations

import secrets
from decimal import Decimal

from rest_framework.test import APIClient

from wasla.orders.models import Order
from wasla.payments.models import PaymentAttempt, PaymentGatewayConfig, RefundRecord
from wasla.tenants.models import Tenant
from wasla.tenants.services import api_token_create

__all__ = [
    "METHOD_OF",
    "api_client_for",
    "make_attempt",
    "make_cod_config",
    "make_gateway_config",
    "make_order",
    "make_paypal_config",
    "make_refund",
    "make_stripe_config",
    "make_tap_config",
    "make_tenant",
]


def make_tenant(slug: str | None = None, **overrides: object) -> Tenant:
    """A tenant named after its slug (a random `t-…` one by default)."""
    slug = slug or "t-" + secrets.token_hex(4)
    fields: dict[str, object] = {"name": slug.title(), **overrides}
    return Tenant.objects.create(slug=slug, **fields)


def _sandbox_secrets(provider: str) -> dict[str, object]:
    """The keys a sandbox gateway of `provider` has when a test does not care which."""
    if provider == "tap":
        return {
            "public_key": "pk_test_" + secrets.token_hex(8),
            "secret_key": "sk_test_" + secrets.token_hex(16),
        }
    if provider == "stripe":
        return {
            "secret_key": "sk_test_" + secrets.token_hex(16),
            "webhook_secret": "whsec_" + secrets.token_hex(16),
        }
    if provider == "paypal":
        return {
            "public_key": "client-" + secrets.token_hex(4),
            "secret_key": "secret-" + secrets.token_hex(16),
        }
    return {}  # cash on delivery and plug-in providers: no keys


def make_gateway_config(
    tenant: Tenant, provider: str = "tap", **overrides: object
) -> PaymentGatewayConfig:
    """A sandbox gateway of `provider` with keys of the provider's shape (Tap: public and
    secret key; Stripe: secret key and webhook secret; PayPal: client id and secret; COD and
    plug-ins: none). Overrides replace any of them, `mode` included."""
    fields: dict[str, object] = {
        "mode": PaymentGatewayConfig.Mode.SANDBOX,
        **_sandbox_secrets(provider),
        **overrides,
    }
    return PaymentGatewayConfig.objects.create(tenant=tenant, provider=provider, **fields)


def make_tap_config(tenant: Tenant, **overrides: object) -> PaymentGatewayConfig:
    return make_gateway_config(tenant, "tap", **overrides)


def make_stripe_config(tenant: Tenant, **overrides: object) -> PaymentGatewayConfig:
    return make_gateway_config(tenant, "stripe", **overrides)


def make_paypal_config(tenant: Tenant, **overrides: object) -> PaymentGatewayConfig:
    return make_gateway_config(tenant, "paypal", **overrides)


def make_cod_config(tenant: Tenant, **overrides: object) -> PaymentGatewayConfig:
    return make_gateway_config(tenant, "cod", **overrides)


def make_order(tenant: Tenant, amount: str = "100.00", **overrides: object) -> Order:
    """A pending order of `amount` SAR with a random reference and a customer to notify."""
    fields: dict[str, object] = {
        "reference": "ORD-" + secrets.token_hex(4),
        "amount": Decimal(amount),
        "customer_phone": "+966557877988",
        "customer_email": "buyer@example.com",
        **overrides,
    }
    return Order.objects.create(tenant=tenant, **fields)


METHOD_OF = {"cod": "cod", "stripe": "card", "paypal": "paypal"}  # Tap (and the rest): mada


def make_attempt(
    config: PaymentGatewayConfig, order: Order | None = None, **overrides: object
) -> PaymentAttempt:
    """An attempt to pay `order` (a new 100.00 one by default) through `config`, as a checkout
    creates it: `created`, the order's amount and currency, a unique idempotency key."""
    order = order or make_order(config.tenant)
    fields: dict[str, object] = {
        "method": METHOD_OF.get(config.provider, "mada"),
        "amount": order.amount,
        "currency": order.currency,
        "idempotency_key": f"{config.tenant_id}:{secrets.token_hex(16)}",
        **overrides,
    }
    return PaymentAttempt.objects.create(
        tenant_id=config.tenant_id,
        order=order,
        gateway_config=config,
        provider=config.provider,
        **fields,
    )


def make_refund(attempt: PaymentAttempt, amount: str, **overrides: object) -> RefundRecord:
    """A `pending` refund of `amount` of `attempt`, in its currency, as a refund request
    creates it before the provider is asked."""
    fields: dict[str, object] = {
        "provider": attempt.provider,
        "amount": Decimal(amount),
        "currency": attempt.currency,
        "idempotency_key": secrets.token_hex(16),
        **overrides,
    }
    return RefundRecord.objects.create(
        tenant_id=attempt.tenant_id,
        payment_attempt=attempt,
        **fields,
    )


def api_client_for(tenant: Tenant) -> APIClient:
    """A DRF test client that authenticates as `tenant` with a fresh API token."""
    _, plaintext = api_token_create(tenant=tenant, name="test")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {plaintext}")
    return client
