"""Shared fixtures: tenants, API clients, gateway configs, and the sandbox on a live server."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from decimal import Decimal

import pytest
from django.conf import settings
from django.db import connections
from rest_framework.test import APIClient

from wasla.orders.models import Order
from wasla.payments.models import PaymentAttempt, PaymentGatewayConfig
from wasla.tenants.context import platform_access
from wasla.tenants.models import Tenant
from wasla.tenants.rls import roles_ensure
from wasla.tenants.services import api_token_create

# --- Row-level security: the suite runs as the application role ----------------------------
# pytest-django creates and migrates the test database as the owner (postgres), which applies
# the policies and grants (post_migrate); then every connection, in-thread, live-server
# threads and Celery worker processes alike, logs in as the app role, which owns nothing and
# cannot bypass RLS. So every request, task and job below is really filtered by PostgreSQL.


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings: None, django_db_blocker) -> None:  # type: ignore[no-untyped-def]
    """The roles exist before the test database is migrated (they are cluster-wide)."""
    with django_db_blocker.unblock():
        for alias in connections:
            if connections[alias].vendor == "postgresql":
                with connections[alias]._nodb_cursor() as cursor:
                    roles_ensure(cursor, app_password=APP_PASSWORD or None)


_owners: dict[str, str] = {}
# Where the server asks for passwords (not this machine's trust on 127.0.0.1).
APP_PASSWORD = os.environ.get("WASLA_DB_APP_PASSWORD", "")


def database_owner(alias: str = "default") -> str:
    """The role that owns the test database's tables (what migrations ran as)."""
    return _owners.get(alias) or connections[alias].settings_dict["USER"]


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: None, django_db_blocker) -> Iterator[None]:  # type: ignore[no-untyped-def]
    owners = _owners
    passwords: dict[str, str] = {}
    with django_db_blocker.unblock():
        for alias in connections:
            connection = connections[alias]
            if connection.vendor != "postgresql":
                continue
            with connection.cursor() as cursor:
                # Test database only: pytest-django empties tables between transactional
                # tests with TRUNCATE (which RLS does not filter); production never grants it.
                cursor.execute(
                    f"GRANT TRUNCATE ON ALL TABLES IN SCHEMA public TO {settings.WASLA_DB_APP_ROLE}"
                )
            owners[alias] = connection.settings_dict["USER"]
            passwords[alias] = connection.settings_dict["PASSWORD"]
            connection.close()
            # The dict is shared with the connections other threads and processes build.
            connection.settings_dict["USER"] = settings.WASLA_DB_APP_ROLE
            connection.settings_dict["PASSWORD"] = APP_PASSWORD
    yield
    with django_db_blocker.unblock():
        for alias, owner in owners.items():
            connections[alias].close()
            connections[alias].settings_dict["USER"] = owner
            connections[alias].settings_dict["PASSWORD"] = passwords[alias]
    owners.clear()


DB_FIXTURES = {"db", "transactional_db", "live_server", "django_db_reset_sequences"}


@pytest.fixture(autouse=True)
def platform_scope_for_test_code(request: pytest.FixtureRequest) -> Iterator[None]:
    """The test's own thread creates fixtures and checks results across tenants: the audited
    platform path. Whatever it calls as a client (APIClient, live server, Celery workers,
    threads) gets its own scope from the code under test, as in production."""
    uses_db = request.node.get_closest_marker("django_db") is not None or bool(
        DB_FIXTURES & set(request.fixturenames)
    )
    if not uses_db:
        yield
        return
    for name in ("transactional_db", "db"):
        if name in request.fixturenames:
            request.getfixturevalue(name)  # the database first, then the audit row in it
            break
    with platform_access(reason="test set-up and assertions", actor="pytest"):
        yield


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
