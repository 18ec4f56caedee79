"""PostgreSQL backend that hands the current tenant scope to the database (row-level security).

Every tenant-owned table has a policy on `current_setting('wasla.tenant_id')`, and the platform
path is the `wasla_platform` role (BYPASSRLS). Both are transaction-local settings
(`set_config(..., true)`), so they can never leak into the next transaction on a pooled
connection. Before the first statement of each transaction, and again when the scope changed
since, the connection runs ONE statement:

    SELECT set_config('wasla.tenant_id', '<id or empty>', true), set_config('role', '<role>', true)

A statement run in autocommit mode (outside `atomic`) with a scope set becomes its own short
transaction: BEGIN, the set_config, the statement, COMMIT, on the raw connection so the
statement's own cursor and results are untouched. With no scope nothing is set, and the tenant
tables look empty. Server-side cursors (`.iterator()`) need nothing more: in autocommit mode
Django declares them WITH HOLD, so their rows are taken, filtered, at that COMMIT. The extra
statements are written to `connection.queries` like Django's own
BEGIN/COMMIT, so statement counts (CaptureQueriesContext) see every round trip.

The scope comes from the source the tenants app registers (`wasla.common.db.scope`), so this
backend imports nothing of the apps above it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import Any

from django.conf import settings
from django.db.backends.postgresql import base

from wasla.common.db.scope import database_scope_current

SYNC_SQL = "SELECT set_config('wasla.tenant_id', %s, true), set_config('role', %s, true)"

# What a fresh transaction has: no tenant, the session's own (login) role.
_DEFAULTS = ("", "none")
# After a savepoint rollback the settings are whatever they were at the savepoint.
_UNKNOWN = ("?", "?")


def _wanted() -> tuple[str, str]:
    scope = database_scope_current()
    if scope is None:
        return _DEFAULTS
    if scope.is_platform:
        return "", settings.WASLA_DB_PLATFORM_ROLE
    return str(scope.tenant_id), "none"


class DatabaseWrapper(base.DatabaseWrapper):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._scope_applied = _DEFAULTS
        # Outermost wrapper: runs before any wrapper added with `connection.execute_wrapper()`.
        self.execute_wrappers.insert(0, self._scope_execute)

    # --- keeping track of what the current transaction has -----------------------------------

    def get_new_connection(self, conn_params: dict[str, Any]) -> Any:
        self._scope_applied = _DEFAULTS
        return super().get_new_connection(conn_params)

    def _commit(self) -> None:
        try:
            super()._commit()  # type: ignore[misc]  # private in the stubs
        finally:
            self._scope_applied = _DEFAULTS

    def _rollback(self) -> None:
        try:
            super()._rollback()  # type: ignore[misc]  # private in the stubs
        finally:
            self._scope_applied = _DEFAULTS

    def _savepoint_rollback(self, sid: str) -> None:
        try:
            super()._savepoint_rollback(sid)  # type: ignore[misc]  # private in the stubs
        finally:
            self._scope_applied = _UNKNOWN

    def _set_autocommit(self, autocommit: bool) -> None:
        super()._set_autocommit(autocommit)  # type: ignore[misc]  # private in the stubs
        self._scope_applied = _DEFAULTS

    def _close(self) -> None:
        try:
            super()._close()  # type: ignore[misc]  # private in the stubs
        finally:
            self._scope_applied = _DEFAULTS

    # --- applying the scope ------------------------------------------------------------------

    @contextmanager
    def _logged(self, sql: str) -> Iterator[None]:
        """Record one of our own statements in `queries` as Django records BEGIN/COMMIT."""
        start = time.monotonic()
        try:
            yield
        finally:
            if self.queries_logged:
                self.queries_log.append({"sql": sql, "time": f"{time.monotonic() - start:.3f}"})

    def _raw(self, sql: str, params: tuple[str, ...] | None = None) -> None:
        shown = sql if params is None else sql % tuple(f"'{p}'" for p in params)
        with self._logged(shown), self.connection.cursor() as cursor:
            cursor.execute(sql, params)

    def _scope_execute(
        self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any
    ) -> Any:
        wanted = _wanted()
        if self.needs_rollback:
            # A broken atomic block: let Django raise its TransactionManagementError.
            return execute(sql, params, many, context)
        if not self.get_autocommit():
            # Inside a transaction (psycopg opens it with the first statement, this one).
            if wanted != self._scope_applied:
                with self.wrap_database_errors:
                    self._raw(SYNC_SQL, wanted)
                self._scope_applied = wanted
            return execute(sql, params, many, context)
        if wanted == _DEFAULTS:
            return execute(sql, params, many, context)
        with self.wrap_database_errors:
            self._raw("BEGIN")
            try:
                self._raw(SYNC_SQL, wanted)
            except BaseException:
                self._raw_rollback()
                raise
        try:
            result = execute(sql, params, many, context)
        except BaseException:
            self._raw_rollback()
            raise
        with self.wrap_database_errors:
            self._raw("COMMIT")
        return result

    def _raw_rollback(self) -> None:
        # When the connection itself is gone the server has rolled back already; the error
        # being raised is the one that matters.
        with suppress(Exception):
            self._raw("ROLLBACK")
