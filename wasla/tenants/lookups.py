"""The tenant behind a key an entry point holds before any scope exists.

On PostgreSQL each is one call to a SECURITY DEFINER function (`wasla.tenants.rls`), so the app
role learns a tenant id and nothing else, and no platform scope (and no audit row) is needed
per request. Elsewhere (the SQLite demo, no row-level security) a plain query does the same.
"""

from __future__ import annotations

import uuid

from django.apps import apps
from django.db import connection


def _call(function: str, *args: str | int | uuid.UUID) -> int | None:
    with connection.cursor() as cursor:
        placeholders = ", ".join(["%s"] * len(args))
        cursor.execute(f"SELECT {function}({placeholders})", list(args))
        row = cursor.fetchone()
    return None if row is None or row[0] is None else int(row[0])


def _rls() -> bool:
    return connection.vendor == "postgresql"


def tenant_id_for_api_token(*, digest: str) -> int | None:
    """The tenant of a live (not revoked) token, by its digest."""
    if _rls():
        return _call("wasla_tenant_for_api_token", digest)
    model = apps.get_model("tenants", "ApiToken")
    found = model.objects.filter(digest=digest, revoked_at__isnull=True).values_list(
        "tenant_id", flat=True
    )
    return found.first()


def tenant_id_for_webhook(*, provider: str, token: uuid.UUID) -> int | None:
    """The tenant of the gateway config a webhook URL names."""
    if _rls():
        return _call("wasla_tenant_for_webhook", provider, token)
    model = apps.get_model("payments", "PaymentGatewayConfig")
    found = model.objects.filter(provider=provider, webhook_token=token)
    return found.values_list("tenant_id", flat=True).first()


def tenant_id_for_payment_attempt(*, attempt_id: uuid.UUID) -> int | None:
    """The tenant of a payment attempt, for the customer's return page."""
    if _rls():
        return _call("wasla_tenant_for_payment_attempt", attempt_id)
    model = apps.get_model("payments", "PaymentAttempt")
    return model.objects.filter(pk=attempt_id).values_list("tenant_id", flat=True).first()


def tenant_id_for_slug(*, slug: str) -> int | None:
    """The active tenant whose public storefront is at `slug`."""
    if _rls():
        return _call("wasla_tenant_for_slug", slug)
    model = apps.get_model("tenants", "Tenant")
    return model.objects.filter(slug=slug, is_active=True).values_list("id", flat=True).first()


def tenant_id_for_user(*, user_id: int) -> int | None:
    """The tenant a merchant login belongs to (its `TenantMember` row), for the portal."""
    if _rls():
        return _call("wasla_tenant_for_user", int(user_id))
    model = apps.get_model("tenants", "TenantMember")
    return model.objects.filter(user_id=user_id).values_list("tenant_id", flat=True).first()


def public_stores() -> list[tuple[str, str]]:
    """(slug, name) of every active tenant with a product on sale, by name: the landing page's
    list of stores, read before (and without) any tenant scope."""
    if _rls():
        with connection.cursor() as cursor:
            cursor.execute("SELECT store_slug, store_name FROM wasla_public_stores()")
            return [(str(slug), str(name)) for slug, name in cursor.fetchall()]
    tenant = apps.get_model("tenants", "Tenant")
    product = apps.get_model("storefront", "Product")
    selling = product.objects.filter(is_active=True).values("tenant_id")
    return list(
        tenant.objects.filter(is_active=True, pk__in=selling)
        .order_by("name", "slug")
        .values_list("slug", "name")
    )
