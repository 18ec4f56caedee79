from __future__ import annotations

from django.core.management.base import CommandError

from wasla.tenants.models import Tenant


def tenant_id_for(slug: str | None) -> int | None:
    """The id of the tenant named by `--tenant`, or None for every tenant."""
    if slug is None:
        return None
    tenant_id = Tenant.objects.filter(slug=slug).values_list("id", flat=True).first()
    if tenant_id is None:
        raise CommandError(f"no tenant {slug!r}")
    return tenant_id
