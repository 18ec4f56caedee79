"""PostgreSQL row-level security for every tenant-owned table, applied by `migrate`.

Roles (cluster-wide, created once by `manage.py db_roles_setup`, idempotent):
- the migration role owns the tables (postgres in tests; a dedicated owner in production);
- `WASLA_DB_APP_ROLE` (`wasla_app`): LOGIN, not superuser, not BYPASSRLS, owns nothing; the
  application connects as it;
- `WASLA_DB_PLATFORM_ROLE` (`wasla_platform`): NOLOGIN, BYPASSRLS, granted to the app role, so
  `platform_access` can take it for one transaction (`set_config('role', ..., true)`).

After every `migrate` (post_migrate, run by the owner) `rls_apply` brings the database to the
state below, whatever was there before:
- every concrete `TenantOwned` model's table, found by iterating the installed models (a model
  added later is covered by the next migrate): ENABLE and FORCE ROW LEVEL SECURITY and one
  policy, `tenant_id = current tenant` for reads and writes;
- `tenants_tenant` itself, keyed on `id`: the tenant directory holds legal names, VAT numbers
  and addresses, and a merchant has no business listing the others; creating a tenant is a
  platform act anyway;
- narrow SECURITY DEFINER lookups, owned by the platform role, for the entry points that must
  learn the tenant before any scope exists (API token, webhook URL, return page, storefront
  slug): each takes an unguessable or public key and returns a tenant id, nothing else;
- grants: DML on tables, use of sequences, execute on the lookups; nothing more.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import connections, models, transaction
from django.db.backends.base.base import BaseDatabaseWrapper

from .models import Tenant, TenantOwned

POLICY_NAME = "wasla_tenant_isolation"
CURRENT_TENANT_SQL = "NULLIF(current_setting('wasla.tenant_id', true), '')::bigint"


def tenant_owned_models() -> list[type[models.Model]]:
    """Every concrete tenant-owned model installed, in a stable order."""
    found = [
        model
        for model in apps.get_models()
        if issubclass(model, TenantOwned) and model._meta.managed and not model._meta.proxy
    ]
    return sorted(found, key=lambda model: model._meta.db_table)


def rls_tables() -> list[tuple[str, str]]:
    """(table, column holding the tenant id) of every table under row-level security."""
    tables = [(Tenant._meta.db_table, "id")]
    for model in tenant_owned_models():
        field = model._meta.get_field("tenant")
        assert isinstance(field, models.ForeignKey)
        tables.append((model._meta.db_table, field.column))
    return tables


def _lookup_functions(connection: BaseDatabaseWrapper, schema: str) -> dict[str, str]:
    """name(signature) -> body of each SECURITY DEFINER lookup; schema-qualified tables.

    Table names come from the models, never from input (hence the S608 exemptions)."""

    def table(label: str) -> str:
        return f"{schema}.{_q(connection, apps.get_model(label)._meta.db_table)}"

    return {
        "wasla_tenant_for_api_token(p_digest text)": (
            f"SELECT tenant_id FROM {table('tenants.ApiToken')}"  # noqa: S608
            " WHERE digest = p_digest AND revoked_at IS NULL"
        ),
        "wasla_tenant_for_webhook(p_provider text, p_token uuid)": (
            f"SELECT tenant_id FROM {table('payments.PaymentGatewayConfig')}"  # noqa: S608
            " WHERE provider = p_provider AND webhook_token = p_token"
        ),
        "wasla_tenant_for_payment_attempt(p_attempt uuid)": (
            f"SELECT tenant_id FROM {table('payments.PaymentAttempt')}"  # noqa: S608
            " WHERE id = p_attempt"
        ),
        "wasla_tenant_for_user(p_user bigint)": (
            f"SELECT tenant_id FROM {table('tenants.TenantMember')}"  # noqa: S608
            " WHERE user_id = p_user"
        ),
        "wasla_tenant_for_slug(p_slug text)": (
            f"SELECT id FROM {table('tenants.Tenant')}"  # noqa: S608
            " WHERE slug = p_slug AND is_active"
        ),
        # The public directory of stores on the landing page: the slug and the shop name of
        # each active tenant with something on sale (no legal names, VAT or addresses).
        "wasla_public_stores()": (
            f"SELECT t.slug::text, t.name::text FROM {table('tenants.Tenant')} t"  # noqa: S608
            f" WHERE t.is_active AND EXISTS (SELECT 1 FROM {table('storefront.Product')} p"
            " WHERE p.tenant_id = t.id AND p.is_active) ORDER BY t.name, t.slug"
        ),
    }


# What a lookup returns when it is not a tenant id.
LOOKUP_RETURNS = {"wasla_public_stores()": "TABLE(store_slug text, store_name text)"}


def _q(connection: BaseDatabaseWrapper, name: str) -> str:
    return connection.ops.quote_name(name)


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def roles_ensure(cursor: Any, *, app_password: str | None = None) -> None:
    """Create the app and platform roles if missing and (re)state their attributes.

    Needs a superuser (only one grants BYPASSRLS). Roles are cluster-wide and another
    database's test run may create them at the same moment: a duplicate is not an error.
    `cursor` may be on any database of the cluster.
    """
    app, platform = settings.WASLA_DB_APP_ROLE, settings.WASLA_DB_PLATFORM_ROLE
    for role, attributes in ((platform, "NOLOGIN BYPASSRLS"), (app, "LOGIN")):
        cursor.execute(
            "DO $$ BEGIN"
            f" IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = {_literal(role)}) THEN"
            f" CREATE ROLE {_ident(role)} {attributes}; END IF;"
            " EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$"
        )
    cursor.execute(
        f"ALTER ROLE {_ident(app)} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE INHERIT"
    )
    cursor.execute(f"ALTER ROLE {_ident(platform)} NOLOGIN BYPASSRLS NOSUPERUSER")
    cursor.execute(f"GRANT {_ident(platform)} TO {_ident(app)}")
    if app_password:
        cursor.execute(f"ALTER ROLE {_ident(app)} PASSWORD %s", [app_password])


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def roles_exist(connection: BaseDatabaseWrapper) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_roles WHERE rolname IN (%s, %s)",
            [settings.WASLA_DB_APP_ROLE, settings.WASLA_DB_PLATFORM_ROLE],
        )
        return bool(cursor.fetchone()[0] == 2)


def rls_apply(connection: BaseDatabaseWrapper) -> None:
    """Policies, lookups and grants, idempotent; run as the owner of the tables."""
    if not roles_exist(connection):
        raise RuntimeError(
            f"roles {settings.WASLA_DB_APP_ROLE}/{settings.WASLA_DB_PLATFORM_ROLE} are missing:"
            " run `manage.py db_roles_setup` as a superuser first"
        )
    existing = set(connection.introspection.table_names())
    qa, qp = (
        _q(connection, settings.WASLA_DB_APP_ROLE),
        _q(connection, settings.WASLA_DB_PLATFORM_ROLE),
    )
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        cursor.execute("SELECT current_schema()")
        schema = _q(connection, cursor.fetchone()[0])
        for table, column in rls_tables():
            if table not in existing:
                continue  # a partial migrate; the next full one covers it
            qt = f"{schema}.{_q(connection, table)}"
            check = f"{_q(connection, column)} = {CURRENT_TENANT_SQL}"
            cursor.execute(f"ALTER TABLE {qt} ENABLE ROW LEVEL SECURITY")
            cursor.execute(f"ALTER TABLE {qt} FORCE ROW LEVEL SECURITY")
            cursor.execute(f"DROP POLICY IF EXISTS {POLICY_NAME} ON {qt}")
            cursor.execute(
                f"CREATE POLICY {POLICY_NAME} ON {qt} USING ({check}) WITH CHECK ({check})"
            )
        cursor.execute(f"GRANT USAGE ON SCHEMA {schema} TO {qa}, {qp}")
        for kind, privileges in (
            ("TABLES", "SELECT, INSERT, UPDATE, DELETE"),
            ("SEQUENCES", "USAGE, SELECT, UPDATE"),
        ):
            cursor.execute(f"GRANT {privileges} ON ALL {kind} IN SCHEMA {schema} TO {qa}, {qp}")
            cursor.execute(
                f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema}"
                f" GRANT {privileges} ON {kind} TO {qa}, {qp}"
            )
        missing = [
            f"{schema}.{_q(connection, model._meta.db_table)}"
            for model in apps.get_models()
            if model._meta.db_table not in existing
        ]
        for signature, body in _lookup_functions(connection, schema).items():
            if any(table in body for table in missing):
                continue  # a partial migrate: a table of this lookup is not there yet
            function = f"{schema}.{signature}"
            cursor.execute(
                f"CREATE OR REPLACE FUNCTION {function}"
                f" RETURNS {LOOKUP_RETURNS.get(signature, 'bigint')}"
                " LANGUAGE sql STABLE SECURITY DEFINER"
                f" SET search_path = pg_catalog, {schema} AS $fn$ {body} $fn$"
            )
            cursor.execute(f"ALTER FUNCTION {function} OWNER TO {qp}")
            cursor.execute(f"REVOKE ALL ON FUNCTION {function} FROM PUBLIC")
            cursor.execute(f"GRANT EXECUTE ON FUNCTION {function} TO {qa}")


def rls_missing(connection: BaseDatabaseWrapper) -> list[str]:
    """Tables that should be under row-level security and are not fully (empty: all good)."""
    missing = []
    with connection.cursor() as cursor:
        for table, column in rls_tables():
            cursor.execute(
                "SELECT c.relrowsecurity, c.relforcerowsecurity,"
                " (SELECT count(*) FROM pg_policies p WHERE p.schemaname = n.nspname"
                "  AND p.tablename = c.relname AND p.policyname = %s AND p.cmd = 'ALL'"
                "  AND p.qual LIKE %s AND p.with_check LIKE %s)"
                " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                " WHERE c.relname = %s AND n.nspname = current_schema()",
                [POLICY_NAME, f"%{column}%wasla.tenant_id%", f"%{column}%wasla.tenant_id%", table],
            )
            row = cursor.fetchone()
            if row is None or not (row[0] and row[1] and row[2] == 1):
                missing.append(table)
    return missing


def apply_after_migrate(*, using: str, **kwargs: Any) -> None:
    """post_migrate: apply RLS as the owner; a no-op on SQLite and for the app role itself
    (pytest-django's flush re-sends post_migrate on the app role's connection)."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT session_user")
        if cursor.fetchone()[0] == settings.WASLA_DB_APP_ROLE:
            return
    rls_apply(connection)
