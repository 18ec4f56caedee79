"""What the database backend needs to know of the current tenant scope, and who tells it.

Scopes (which tenant the running code works for, or the audited platform path) belong to
`wasla.tenants`; the backend below them only needs two facts per statement. So the backend asks
a source registered at start-up (`TenantsConfig.ready()` registers the tenants' own
`current_scope`) instead of importing the tenants app. With no source registered the backend
sets nothing, and tenant tables read as empty: the safe side.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol


class DatabaseScope(Protocol):
    """A tenant (`tenant_id`) or the platform path (`is_platform`)."""

    @property
    def tenant_id(self) -> int | None: ...

    @property
    def is_platform(self) -> bool: ...


ScopeSource = Callable[[], DatabaseScope | None]


def _no_scope() -> DatabaseScope | None:
    return None


_source: ScopeSource = _no_scope


def database_scope_source_set(source: ScopeSource) -> None:
    """Tell the backend where the current scope comes from (once, at start-up)."""
    global _source
    _source = source


def database_scope_current() -> DatabaseScope | None:
    return _source()
