"""Row-level security, proven by raw SQL as the application role, for every tenant-owned model.

The models are found by iterating the installed apps (`tenant_owned_models`): a model added
later is covered, or fails here, without anyone editing a list.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
import pytest
from django.conf import settings
from django.db import connection, models
from django.test.utils import CaptureQueriesContext

from testsupport.factories import (
    api_client_for,
    make_attempt,
    make_order,
    make_tap_config,
    make_tenant,
)
from testsupport.staff import staff_login
from wasla.orders.models import Order
from wasla.tenants.context import no_scope, platform_access, tenant_context
from wasla.tenants.models import ApiToken, PlatformAccessLog, Tenant
from wasla.tenants.rls import rls_missing, rls_tables, tenant_owned_models

from .rows import build_row

MODELS = tenant_owned_models()
APP_ROLE = settings.WASLA_DB_APP_ROLE
PLATFORM_ROLE = settings.WASLA_DB_PLATFORM_ROLE


def _label(model: type[models.Model]) -> str:
    return model._meta.label


@contextmanager
def raw_as(tenant_id: int | None) -> Iterator[psycopg.Cursor[Any]]:
    """A raw cursor on the test's connection, Django's scope handling bypassed, with exactly
    the setting the application would send for `tenant_id` (None: nothing set)."""
    connection.ensure_connection()
    raw = connection.connection
    with raw.cursor() as cursor:
        cursor.execute("SELECT session_user")
        assert cursor.fetchone()[0] == APP_ROLE  # the app role itself, not the owner
        cursor.execute(
            "SELECT set_config('wasla.tenant_id', %s, true), set_config('role', 'none', true)",
            ["" if tenant_id is None else str(tenant_id)],
        )
        try:
            yield cursor
        finally:
            # Back to what the connection last applied (the test's platform scope).
            cursor.execute(
                "SELECT set_config('wasla.tenant_id', '', true), set_config('role', %s, true)",
                [PLATFORM_ROLE],
            )


def _failing(cursor: psycopg.Cursor[Any], sql: str, params: list[Any]) -> str:
    """Run a statement that must fail; return the error (the transaction stays usable)."""
    cursor.execute("SAVEPOINT rls_probe")
    try:
        cursor.execute(sql, params)
    except psycopg.Error as exc:
        cursor.execute("ROLLBACK TO SAVEPOINT rls_probe")
        return str(exc)
    cursor.execute("RELEASE SAVEPOINT rls_probe")
    raise AssertionError(f"{sql} succeeded")


def test_the_tenant_owned_models_are_found_by_iterating_the_apps():
    labels = {_label(m) for m in MODELS}
    # The ones this suite knows of; any other one is covered by the same tests.
    assert {
        "tenants.ApiToken",
        "orders.Order",
        "payments.PaymentAttempt",
        "payments.WebhookEvent",
        "settlement.SettlementRecord",
        "api.IdempotencyRecord",
        "storefront.Product",
    } <= labels


@pytest.mark.django_db
def test_every_tenant_table_has_forced_row_level_security_and_the_policy():
    tables = {table for table, _ in rls_tables()}
    assert tables == {Tenant._meta.db_table} | {m._meta.db_table for m in MODELS}
    assert rls_missing(connection) == []


@pytest.mark.django_db
def test_the_app_role_is_not_superuser_does_not_bypass_rls_and_owns_nothing():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT rolsuper, rolbypassrls, rolcanlogin FROM pg_roles WHERE rolname = %s",
            [APP_ROLE],
        )
        assert cursor.fetchone() == (False, False, True)
        cursor.execute(
            "SELECT rolbypassrls, rolcanlogin FROM pg_roles WHERE rolname = %s", [PLATFORM_ROLE]
        )
        assert cursor.fetchone() == (True, False)
        cursor.execute(
            "SELECT count(*) FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner"
            " WHERE r.rolname IN (%s, %s)",
            [APP_ROLE, PLATFORM_ROLE],
        )
        assert cursor.fetchone()[0] == 0
        cursor.execute("SELECT session_user")
        assert cursor.fetchone()[0] == APP_ROLE


@pytest.mark.django_db
@pytest.mark.parametrize("model", MODELS, ids=_label)
def test_a_tenant_sees_and_writes_none_of_another_tenants_rows(model):
    a, b = make_tenant(), make_tenant()
    row_a, row_b = build_row(model, a), build_row(model, b)
    table = connection.ops.quote_name(model._meta.db_table)
    pk = connection.ops.quote_name(model._meta.pk.column)
    tenant = connection.ops.quote_name(model._meta.get_field("tenant").column)

    with raw_as(a.pk) as cursor:
        cursor.execute(f"SELECT {pk}, {tenant} FROM {table}")
        rows = cursor.fetchall()
        assert (row_a.pk, a.pk) in rows
        assert {t for _, t in rows} == {a.pk}, "another tenant's rows are visible"
        cursor.execute(f"SELECT count(*) FROM {table} WHERE {pk} = %s", [row_b.pk])
        assert cursor.fetchone()[0] == 0
        cursor.execute(f"UPDATE {table} SET {tenant} = {tenant} WHERE {pk} = %s", [row_b.pk])
        assert cursor.rowcount == 0
        cursor.execute(f"DELETE FROM {table} WHERE {pk} = %s", [row_b.pk])
        assert cursor.rowcount == 0
        # Moving its own row to B is refused: by WITH CHECK, or first by a table's own
        # BEFORE UPDATE trigger (append-only tables refuse every UPDATE).
        _failing(cursor, f"UPDATE {table} SET {tenant} = %s WHERE {pk} = %s", [b.pk, row_a.pk])
        # Writing a row as B is refused by WITH CHECK, before any unique index is consulted.
        columns = [f.column for f in model._meta.concrete_fields if not f.primary_key]
        copied = ", ".join(
            "%s" if c == model._meta.get_field("tenant").column else connection.ops.quote_name(c)
            for c in columns
        )
        names = ", ".join(connection.ops.quote_name(c) for c in columns)
        error = _failing(
            cursor,
            f"INSERT INTO {table} ({names}) SELECT {copied} FROM {table} WHERE {pk} = %s",
            [b.pk, row_a.pk],
        )
        assert "row-level security" in error, error

    with raw_as(None) as cursor:
        cursor.execute(f"SELECT count(*) FROM {table}")
        assert cursor.fetchone()[0] == 0, "rows visible with no tenant set"

    with raw_as(b.pk) as cursor:
        cursor.execute(f"SELECT {pk} FROM {table}")
        assert row_b.pk in {r[0] for r in cursor.fetchall()}


@pytest.mark.django_db
def test_the_tenant_directory_shows_a_tenant_only_itself():
    a, b = make_tenant(), make_tenant()
    with raw_as(a.pk) as cursor:
        cursor.execute("SELECT id FROM tenants_tenant")
        assert cursor.fetchall() == [(a.pk,)]
    with raw_as(None) as cursor:
        cursor.execute("SELECT count(*) FROM tenants_tenant")
        assert cursor.fetchone()[0] == 0
    assert b.pk != a.pk


@pytest.mark.django_db(transaction=True)
def test_a_fresh_app_role_connection_sees_nothing_without_a_tenant_and_only_its_own_with_one():
    a, b = make_tenant(), make_tenant()
    make_order(a)
    make_order(b)
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    with psycopg.connect(**params) as fresh, fresh.cursor() as cursor:
        cursor.execute("SELECT session_user, current_user")
        assert cursor.fetchone() == (APP_ROLE, APP_ROLE)
        cursor.execute("SELECT count(*) FROM orders_order")
        assert cursor.fetchone()[0] == 0
        cursor.execute("SELECT set_config('wasla.tenant_id', %s, true)", [str(a.pk)])
        cursor.execute("SELECT DISTINCT tenant_id FROM orders_order")
        assert cursor.fetchall() == [(a.pk,)]
        fresh.rollback()
        # Transaction-local: the next transaction starts with no tenant again.
        cursor.execute("SELECT count(*) FROM orders_order")
        assert cursor.fetchone()[0] == 0


@pytest.mark.django_db
def test_the_orm_follows_the_scope():
    a, b = make_tenant(), make_tenant()
    make_order(a)
    make_order(b)
    with no_scope():
        assert Order.objects.count() == 0
        assert Tenant.objects.count() == 0
    with tenant_context(a.pk):
        assert set(Order.objects.values_list("tenant_id", flat=True)) == {a.pk}
        with no_scope():
            assert not Order.objects.exists()
        assert Order.objects.exists()
    assert {a.pk, b.pk} <= set(Order.objects.values_list("tenant_id", flat=True))


@pytest.mark.django_db
def test_platform_access_sees_every_tenant_and_leaves_an_audit_row():
    a, b = make_tenant(), make_tenant()
    make_order(a)
    make_order(b)
    before = PlatformAccessLog.objects.count()
    with no_scope(), platform_access(reason="monthly invoicing", actor="ops@wasla") as scope:
        assert scope.is_platform
        assert {a.pk, b.pk} <= set(Order.objects.values_list("tenant_id", flat=True))
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_user")
            assert cursor.fetchone()[0] == PLATFORM_ROLE
    assert PlatformAccessLog.objects.count() == before + 1
    entry = PlatformAccessLog.objects.order_by("-pk").first()
    assert (entry.reason, entry.actor) == ("monthly invoicing", "ops@wasla")


@pytest.mark.django_db(transaction=True)
def test_the_scope_is_applied_per_transaction_and_in_autocommit():
    from django.db import transaction

    a = make_tenant()

    def settings_now() -> tuple[str | None, str]:
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_setting('wasla.tenant_id', true), current_user")
            return cursor.fetchone()

    with tenant_context(a.pk):
        assert settings_now() == (str(a.pk), APP_ROLE)  # autocommit: its own transaction
        with transaction.atomic():
            assert settings_now() == (str(a.pk), APP_ROLE)
            with platform_access(reason="scope change inside a transaction"):
                assert settings_now() == ("", PLATFORM_ROLE)
            assert settings_now() == (str(a.pk), APP_ROLE)
            try:
                with transaction.atomic():
                    with no_scope():
                        assert settings_now()[0] in ("", None)
                    raise RuntimeError("roll the savepoint back")
            except RuntimeError:
                pass
            assert settings_now() == (str(a.pk), APP_ROLE)
    with no_scope():
        assert settings_now()[0] in ("", None)  # nothing left on the connection
        with CaptureQueriesContext(connection) as ctx:
            Order.objects.count()
        assert len(ctx) == 1  # no scope, nothing to send


@pytest.mark.django_db
def test_an_api_request_for_tenant_a_never_sees_tenant_b(tenant, other_tenant):
    config_b = make_tap_config(other_tenant)
    for _ in range(3):
        make_attempt(config_b)
    own = make_order(tenant)
    api = api_client_for(tenant)
    with CaptureQueriesContext(connection) as ctx:
        orders = api.get("/api/v1/orders/").json()["results"]
        payments = api.get("/api/v1/payments/").json()["results"]
    assert [o["id"] for o in orders] == [str(own.id)]
    assert payments == []
    synced = [q["sql"] for q in ctx.captured_queries if "set_config('wasla.tenant_id'" in q["sql"]]
    # The request worked in tenant A's database scope, never the platform's.
    assert any(f"'{tenant.pk}'" in sql for sql in synced), synced
    assert not any(PLATFORM_ROLE in sql for sql in synced), synced
    # Looked up through the narrow SECURITY DEFINER function, not by reading every token.
    assert ApiToken.objects.filter(tenant=tenant).exists()


@pytest.mark.django_db
def test_staff_in_the_admin_see_every_tenant_through_the_audited_platform_path(client):
    from django.contrib.auth import get_user_model

    a, b = make_tenant(), make_tenant()
    make_tap_config(a)
    make_tap_config(b)
    staff = get_user_model().objects.create_user("ops", password="x", is_staff=True)
    staff.is_superuser = True
    staff.save()
    staff_login(client, staff)
    before = PlatformAccessLog.objects.filter(actor="ops").count()

    with no_scope():  # the request's own scope, not the test's
        page = client.get("/admin/payments/paymentgatewayconfig/")

    assert page.status_code == 200
    assert a.slug in page.text
    assert b.slug in page.text
    entries = PlatformAccessLog.objects.filter(actor="ops")
    assert entries.count() == before + 1
    assert entries.get().reason == "admin GET /admin/payments/paymentgatewayconfig/"


@pytest.mark.django_db
def test_a_request_never_inherits_the_scope_around_it(client):
    """The test thread is in a platform scope; a storefront request for an unknown slug must
    not see anything through it."""
    a = make_tenant()
    assert client.get(f"/store/{a.slug}/").status_code == 200
    assert client.get("/store/no-such-store/").status_code == 404
