"""Whose data the current code may see: one tenant, or the platform through an audited path.

The scope lives in a context variable, so it follows the request, task or job that set it and
never leaks into another thread. On PostgreSQL the database enforces it again (row-level
security): the connection applies the scope inside each transaction before its first query
(`wasla.common.db.postgresql`).

- `tenant_context(tenant_id)`: a task, job step or view working for one tenant.
- `platform_access(reason=..., actor=...)`: staff and platform jobs that must see every tenant;
  each entry writes a `PlatformAccessLog` row.
- `request_scope()`: an HTTP request starts with no scope, whatever surrounds it, and gets one
  from its entry point (`scope_enter_for_request`, e.g. after the API token names the tenant);
  the outer scope comes back when the request ends.
- no scope at all: tenant-owned tables look empty.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Scope:
    tenant_id: int | None = None
    platform_reason: str | None = None
    actor: str = "system"

    @property
    def is_platform(self) -> bool:
        return self.platform_reason is not None


_scope: ContextVar[Scope | None] = ContextVar("wasla_scope", default=None)
_in_request: ContextVar[bool] = ContextVar("wasla_in_request_scope", default=False)


def current_scope() -> Scope | None:
    return _scope.get()


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
    """See every tenant's rows, for staff and platform jobs only; each entry is audited.

    The audit row is written with the platform scope already set, on the caller's connection:
    inside a transaction it commits (or rolls back) with the work it audits.
    """
    if not reason:
        raise ValueError("platform access needs a reason")
    from .models import PlatformAccessLog

    scope = Scope(platform_reason=reason, actor=actor)
    token = _scope.set(scope)
    try:
        PlatformAccessLog.objects.create(reason=reason[:200], actor=actor[:150])
        # stdlib logging (stderr), never stdout: commands print JSON there (seed_demo --json).
        logger.info("platform access by %s: %s", actor, reason)
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


@contextmanager
def request_scope() -> Iterator[None]:
    """One HTTP request: no scope until its entry point sets one; the outer one back after."""
    token = _scope.set(None)
    marker = _in_request.set(True)
    try:
        yield
    finally:
        _in_request.reset(marker)
        _scope.reset(token)


def scope_enter_for_request(scope: Scope) -> None:
    """Give the rest of the current request `scope` (the tenant its API token names).

    Only inside `request_scope()`, which takes it back when the request ends: set anywhere
    else it would outlive its caller.
    """
    if not _in_request.get():
        raise RuntimeError("scope_enter_for_request outside request_scope()")
    _scope.set(scope)
