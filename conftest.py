"""Shared fixtures: tenants, API clients, gateway configs, and the sandbox on a live server."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from decimal import Decimal

import pytest
from django.db import connections
from rest_framework.test import APIClient

from wasla.orders.models import Order
from wasla.payments.models import PaymentGatewayConfig
from wasla.tenants.models import Tenant
from wasla.tenants.services import api_token_create


def make_tenant(slug: str | None = None) -> Tenant:
    slug = slug or "t-" + secrets.token_hex(4)
    return Tenant.objects.create(name=slug.title(), slug=slug)


def make_tap_config(tenant: Tenant, **overrides: object) -> PaymentGatewayConfig:
    fields: dict[str, object] = {
        "provider": "tap",
        "mode": PaymentGatewayConfig.Mode.SANDBOX,
        "public_key": "pk_test_" + secrets.token_hex(8),
        "secret_key": "sk_test_" + secrets.token_hex(16),
        **overrides,
    }
    return PaymentGatewayConfig.objects.create(tenant=tenant, **fields)


def make_order(tenant: Tenant, amount: str = "100.00", **overrides: object) -> Order:
    fields: dict[str, object] = {
        "reference": "ORD-" + secrets.token_hex(4),
        "amount": Decimal(amount),
        "customer_phone": "+966557877988",
        "customer_email": "buyer@example.com",
        **overrides,
    }
    return Order.objects.create(tenant=tenant, **fields)


def api_client_for(tenant: Tenant) -> APIClient:
    _, plaintext = api_token_create(tenant=tenant, name="test")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {plaintext}")
    return client


@pytest.fixture
def tenant(db: None) -> Tenant:
    return make_tenant()


@pytest.fixture
def other_tenant(db: None) -> Tenant:
    return make_tenant()


@pytest.fixture
def api(tenant: Tenant) -> APIClient:
    return api_client_for(tenant)


@pytest.fixture
def tap_config(tenant: Tenant) -> PaymentGatewayConfig:
    return make_tap_config(tenant)


@pytest.fixture
def sandbox(live_server, settings) -> str:  # type: ignore[no-untyped-def]
    """Point the product at the sandbox on the live server; returns the server's base URL."""
    base = live_server.url
    settings.WASLA_PUBLIC_BASE_URL = base
    settings.WASLA_SANDBOX_BASE_URL = base
    settings.WASLA_PROVIDER_BASE_URLS = {
        **settings.WASLA_PROVIDER_BASE_URLS,
        "tap": {"sandbox": f"{base}/sandbox/tap", "live": "https://api.tap.company"},
        "stripe": {"sandbox": f"{base}/sandbox/stripe", "live": "https://api.stripe.com"},
        "paypal": {"sandbox": f"{base}/sandbox/paypal", "live": "https://api-m.paypal.com"},
    }
    settings.ALLOWED_HOSTS = ["*"]
    return base


@pytest.fixture
def close_thread_connections() -> Iterator[None]:
    """Race tests open a connection per thread; close them so the test database can be dropped."""
    yield
    connections.close_all()
