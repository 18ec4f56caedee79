"""pgbouncer in transaction mode (deploy/pgbouncer.ini) carries the tenant scope safely.

The tenant scope and the platform role are transaction-local (`set_config(..., true)`,
wasla/common/db/postgresql), so a server connection handed from one client to the next carries
nothing over. Proof: a pool of ONE server connection, two threads with their own Django
connections through pgbouncer as the app role, each working for its own tenant, taking turns
transaction by transaction (atomic blocks, autocommit statements in a scope, a platform-role
transaction). Every transaction runs on the same PostgreSQL backend (one pid), and each one
sees only its own tenant's rows, and nothing at all outside a scope.
"""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings
from django.db import connections, transaction

from scripts.stack import ROOT, free_port, pgbouncer_command, pgbouncer_configure
from testsupport.factories import make_order, make_tenant
from wasla.orders.models import Order
from wasla.tenants.context import tenant_context

pytestmark = pytest.mark.django_db(transaction=True)

ALIAS = "pgbouncer"
_THROUGH: dict[str, Any] = {}


def _connect_through_pgbouncer() -> None:
    """This thread's connection under ALIAS: the default database's wrapper (the test allows
    it), with pgbouncer's address and the app role."""
    connection = connections.create_connection("default")
    connection.settings_dict = dict(_THROUGH)
    connections[ALIAS] = connection


ROUNDS = 15
PASSWORD = "pgbouncer-test"  # the client's password at pgbouncer (userlist), not PostgreSQL's


@pytest.fixture
def through_pgbouncer(transactional_db: None, tmp_path) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """pgbouncer with a pool of one server connection before the test database; an alias."""
    default = connections["default"].settings_dict
    port = free_port()
    directory = ROOT / "var" / "stack" / f"pgbouncer-test-{port}"
    ini = pgbouncer_configure(
        directory,
        listen_port=port,
        db_host=default["HOST"] or "127.0.0.1",
        db_port=int(default["PORT"] or 5432),
        db_name=default["NAME"],
        pool_size=1,
        users={settings.WASLA_DB_APP_ROLE: PASSWORD},
    )
    ini.write_text(ini.read_text().replace("reserve_pool_size = 5", "reserve_pool_size = 0"))
    process = subprocess.Popen(pgbouncer_command(ini), stdout=subprocess.DEVNULL)
    through = {
        **default,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "USER": settings.WASLA_DB_APP_ROLE,
        "PASSWORD": PASSWORD,
        "CONN_MAX_AGE": 60,
    }
    _THROUGH.clear()
    _THROUGH.update(through)  # each thread's connection reads it
    try:
        _wait_listening(port, process)
        yield ALIAS
    finally:
        process.terminate()
        process.wait(timeout=10)
        for path in sorted(directory.iterdir()):
            path.unlink()
        directory.rmdir()


def _wait_listening(port: int, process: subprocess.Popen[bytes]) -> None:
    import socket

    for _ in range(100):
        assert process.poll() is None, "pgbouncer exited"
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise AssertionError("pgbouncer did not listen")


def _raw(alias: str, sql: str) -> tuple[Any, ...]:
    with connections[alias].cursor() as cursor:
        cursor.execute(sql)
        row = cursor.fetchone()
    assert row is not None
    return tuple(row)


class Turns:
    """Two threads take turns: each step of one runs only between two steps of the other."""

    def __init__(self) -> None:
        self.condition = threading.Condition()
        self.turn = 0

    def wait(self, me: int) -> None:
        with self.condition:
            assert self.condition.wait_for(lambda: self.turn == me, timeout=30), "turn lost"

    def done(self, me: int) -> None:
        with self.condition:
            self.turn = 1 - me
            self.condition.notify_all()


def test_two_tenants_interleaved_over_one_server_connection_see_only_their_rows(
    through_pgbouncer: str, close_thread_connections: None
):
    alias = through_pgbouncer
    tenants = [make_tenant(), make_tenant()]
    mine = {t.pk: {str(make_order(t).pk) for _ in range(2 + i)} for i, t in enumerate(tenants)}
    turns = Turns()
    seen: list[dict[str, Any]] = []
    errors: list[BaseException] = []

    def work(me: int) -> None:
        tenant = tenants[me]
        _connect_through_pgbouncer()
        try:
            for round_no in range(ROUNDS):
                turns.wait(me)
                # Outside any scope, on whatever the other thread left on the server connection.
                setting, role, visible = _raw(
                    alias,
                    "SELECT current_setting('wasla.tenant_id', true), current_user,"
                    " (SELECT count(*) FROM orders_order)",
                )
                row: dict[str, Any] = {"me": me, "round": round_no, "unscoped": (setting, role)}
                row["unscoped_orders"] = visible
                with tenant_context(tenant.pk):
                    # Autocommit in a scope: the backend wraps it in its own transaction.
                    row["autocommit"] = {
                        str(pk) for pk in Order.objects.using(alias).values_list("pk", flat=True)
                    }
                    with transaction.atomic(using=alias):
                        row["atomic"] = {
                            str(pk)
                            for pk in Order.objects.using(alias).values_list("pk", flat=True)
                        }
                        row["backend"] = _raw(alias, "SELECT pg_backend_pid()")[0]
                if round_no % 3 == 0:
                    # The platform role for one transaction, as platform_access takes it.
                    with transaction.atomic(using=alias):
                        _raw(
                            alias,
                            f"SELECT set_config('role', '{settings.WASLA_DB_PLATFORM_ROLE}', true)",
                        )
                        row["platform_orders"] = _raw(alias, "SELECT count(*) FROM orders_order")[0]
                seen.append(row)
                turns.done(me)
        except BaseException as error:
            errors.append(error)
            turns.done(me)
        finally:
            connections[alias].close()

    threads = [threading.Thread(target=work, args=(me,)) for me in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    assert len(seen) == 2 * ROUNDS
    # Strictly alternating, all on one PostgreSQL backend: the server connection was shared.
    assert [row["me"] for row in seen] == [0, 1] * ROUNDS
    assert len({row["backend"] for row in seen}) == 1
    total = sum(len(ids) for ids in mine.values())
    app_role = settings.WASLA_DB_APP_ROLE
    for row in seen:
        tenant_id = tenants[row["me"]].pk
        assert row["unscoped"] in (("", app_role), (None, app_role)), row
        assert row["unscoped_orders"] == 0, row
        assert row["autocommit"] == mine[tenant_id], row
        assert row["atomic"] == mine[tenant_id], row
        if "platform_orders" in row:
            assert row["platform_orders"] >= total, row
