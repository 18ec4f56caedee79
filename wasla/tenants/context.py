"""Whose data the current code may see: one tenant, or the platform through an audited path.

The scope lives in a context variable, so it follows the request, task or job that set it and
never leaks into another thread. On PostgreSQL the database enforces it again (row-level
security): the connection applies the scope inside each transaction before its first query.

- `tenant_context(tenant_id)`: a request or task working for one tenant.
- `platform_access(reason=..., actor=...)`: staff and platform jobs that must see every tenant;
  each entry is audited.
- no scope at all: tenant-owned tables look empty.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

import structlog

logger = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Scope:
    tenant_id: int | None = None
    platform_reason: str | None = None
    actor: str = "system"

    @property
    def is_platform(self) -> bool:
        return self.platform_reason is not None


_scope: ContextVar[Scope | None] = ContextVar("wasla_scope", default=None)


def current_scope() -> Scope | None:
    return _scope.get()


def current_tenant_id() -> int | None:
    scope = _scope.get()
    return scope.tenant_id if scope is not None else None


@contextmanager
def tenant_context(tenant_id: int) -> Iterator[Scope]:
    """Work for one tenant until the block ends (nests: the previous scope comes back)."""
    scope = Scope(tenant_id=int(tenant_id))
    token = _scope.set(scope)
    try:
        yield scope
    finally:
        _scope.reset(token)


@contextmanager
def platform_access(*, reason: str, actor: str = "system") -> Iterator[Scope]:
    """See every tenant's rows, for staff and platform jobs only; each entry is audited."""
    if not reason:
        raise ValueError("platform access needs a reason")
    scope = Scope(platform_reason=reason, actor=actor)
    logger.info("platform_access", reason=reason, actor=actor)
    token = _scope.set(scope)
    try:
        yield scope
    finally:
        _scope.reset(token)


@contextmanager
def no_scope() -> Iterator[None]:
    """Drop any scope for the block (tenant-owned tables look empty on PostgreSQL)."""
    token = _scope.set(None)
    try:
        yield
    finally:
        _scope.reset(token)
