"""Shared fixtures: the row-level security set-up, tenants, API clients, gateway configs, and
the sandbox on a live server. Functions tests call directly live in `testsupport/`."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.conf import settings
from django.db import connections
from django.test import Client
from rest_framework.test import APIClient

from testsupport.database import APP_PASSWORD, OWNERS
from testsupport.factories import api_client_for, make_tap_config, make_tenant
from wasla.payments.models import PaymentGatewayConfig
from wasla.tenants.context import platform_access
from wasla.tenants.models import Tenant
from wasla.tenants.rls import roles_ensure

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


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: None, django_db_blocker) -> Iterator[None]:  # type: ignore[no-untyped-def]
    owners = OWNERS  # database_owner() answers from it
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
    settings.WASLA_BILLING_STRIPE_API_BASE = f"{base}/sandbox/stripe"  # Wasla's own account
    settings.WASLA_ZATCA_BASE_URL = f"{base}/sandbox/zatca/e-invoicing/developer-portal"
    settings.ALLOWED_HOSTS = ["*"]
    return base


@pytest.fixture
def close_thread_connections() -> Iterator[None]:
    """Race tests open a connection per thread; close them so the test database can be dropped."""
    yield
    connections.close_all()


# --- Staff sign in with a second factor (issue 13): pytest-django's `admin_client` is its
# superuser signed in with a verified TOTP device, as the admin site requires.
@pytest.fixture
def admin_client(db: None, admin_user) -> Client:  # type: ignore[no-untyped-def]
    from testsupport.staff import staff_client

    return staff_client(admin_user)
