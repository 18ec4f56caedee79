"""Exactly once through crashes: hundreds of Tap payments confirmed by signed webhooks that are
delivered from several threads, duplicated and out of order, while a gunicorn worker and a
Celery worker are SIGKILLed at each crash point of chaos/faults.py and PostgreSQL is restarted in
immediate mode. Like Tap, the provider sends again whatever got no 2xx, until it does.

Afterwards (the sweeper having drained what the crashes left behind), every order has exactly one
paid attempt, one settlement and one fee posting, `verify_ledger` passes, and no verified event is
left `received`, `queued` or `failed`.

The deliveries go in waves, one per fault: the fault is armed, the wave delivered, and the wave
ends once every delivery in it was acknowledged and the fault has gone off.
"""

from __future__ import annotations

import re
import threading
import time
import uuid
from dataclasses import dataclass

import pytest

from chaos import chaos_full, report
from chaos.deliveries import (
    SETUP_COMMAND,
    Provider,
    answers_total,
    audit,
    gateways_from_output,
    payments_create,
    stack_python,
    tap_deliveries,
    tap_knob,
)
from chaos.faults import Faults

PAYMENTS = 500 if chaos_full() else 60
TENANTS = 2
FIRE_TIMEOUT = 90  # seconds for an armed point to be reached once its wave is under way
DRAIN_TIMEOUT = 240  # seconds for the sweeper and the workers to finish everything


@dataclass(frozen=True)
class Fault:
    name: str
    role: str = ""  # a crash point (role, point) ...
    point: str = ""
    restart_postgres: bool = False  # ... or an immediate-mode PostgreSQL restart
    kill_worker: bool = False  # ... or the whole Celery worker SIGKILLed, then started again


FAULTS = [
    Fault("gunicorn worker: inbox INSERT run, not committed", "web", "before_commit"),
    Fault("gunicorn worker: inbox row committed, not queued", "web", "after_inbox_insert"),
    Fault("gunicorn worker: committed and queued, 2xx not sent", "web", "after_commit"),
    Fault("celery worker: try counted, effect not run", "worker", "after_claim"),
    Fault("celery worker: effect run, not committed", "worker", "before_commit"),
    Fault("postgresql: restart -m immediate", restart_postgres=True),
    Fault("celery worker: effect committed, message not acknowledged", "worker", "after_commit"),
    Fault("celery worker: the whole worker SIGKILLed (a lost host)", kill_worker=True),
    Fault("none (a clean wave)"),
]


@pytest.mark.usefixtures("tap_knobs_restored")
def test_every_acknowledged_webhook_has_its_effect_exactly_once(chaos_stack, chaos_faults: Faults):
    stack = chaos_stack
    run = uuid.uuid4().hex[:8]
    gateways = gateways_from_output(
        stack_python(stack, SETUP_COMMAND.format(count=TENANTS, run=run))
    )
    tap_knob(stack.sandbox_url, webhook="drop")  # the suite is the only webhook sender
    began = time.monotonic()
    payments = payments_create(stack.base_url, gateways, PAYMENTS, run=run)
    deliveries = tap_deliveries(stack.tap_url, payments)
    report(
        f"kills: {len(payments)} Tap payments pending over {TENANTS} tenants"
        f" ({time.monotonic() - began:.1f} s), {len(deliveries)} signed deliveries"
        " (2 per payment, a stale INITIATED copy for every 5th, shuffled)"
    )

    provider = Provider(threads=6, deadline=DRAIN_TIMEOUT)
    size = -(-len(deliveries) // len(FAULTS))
    waves = [deliveries[i : i + size] for i in range(0, len(deliveries), size)]
    assert len(waves) == len(FAULTS)
    for fault, wave in zip(FAULTS, waves, strict=True):
        fired_before = len(chaos_faults.fired())
        restarter = None
        if fault.role:
            chaos_faults.arm(fault.role, fault.point)
        elif fault.restart_postgres:
            restarter = _soon(_restart_postgres, stack)
        elif fault.kill_worker:
            restarter = _soon(_kill_whole_worker, stack)
        unacknowledged = provider.deliver(wave)
        assert not unacknowledged, [d.label for d in unacknowledged]
        if fault.role:
            fired = chaos_faults.wait_fired(fired_before + 1, FIRE_TIMEOUT)
            assert fired, f"{fault.name}: never reached\n{stack.logs()}"
            shot = chaos_faults.fired()[-1]
            _revive_celery_if_dead(stack)
            what = str(shot)
        elif restarter is not None:
            restarter.join(60)
            what = restarter.outcome  # type: ignore[attr-defined]
        else:
            what = "nothing killed"
        answers = answers_total(wave)
        report(
            f"fault {fault.name}: {what}; wave of {len(wave)} deliveries took"
            f" {sum(d.tries for d in wave)} tries, answers {dict(sorted(answers.items()))}"
        )

    result = _wait_drained(stack, run)
    _check_swept(stack, chaos_faults)
    verify = stack.verify_ledger()
    report(
        f"kills totals: {result.orders} orders, effects (status, paid attempts, settlements,"
        f" fee postings) {dict(result.per_order)}; inbox {dict(result.events)};"
        f" {provider.sent} POSTs for {len(deliveries)} deliveries; verify_ledger:"
        f" {(verify.stdout + verify.stderr).strip()[-200:]}"
    )
    assert result.orders == PAYMENTS
    assert not result.not_once, result.not_once[:10]
    assert result.per_order == {("paid", 1, 1, 1): PAYMENTS}
    assert set(result.events) <= {"processed", "ignored"}, result.events
    # Every acknowledged delivery is in the inbox: one event per charge and status sent.
    stale = sum(1 for d in deliveries if d.label.endswith("initiated"))
    assert sum(result.events.values()) == PAYMENTS + stale
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert len(chaos_faults.fired()) == sum(1 for fault in FAULTS if fault.role)
    assert chaos_faults.armed() == []


def _restart_postgres(stack) -> str:  # type: ignore[no-untyped-def]
    took = stack.cluster.restart(mode="immediate")
    return f"PostgreSQL restarted in immediate mode, back after {took:.1f} s"


def _kill_whole_worker(stack) -> str:  # type: ignore[no-untyped-def]
    """SIGKILL the worker's process group (main process and pool): its unacknowledged messages
    come back from Redis once their visibility timeout is over. Then started again, as its
    supervisor would."""
    pids = stack.kill_group("worker")
    stack.restart("worker")
    return f"SIGKILL celery worker and its pool {pids}, started again as {stack.pid('worker')}"


def _soon(action, stack) -> threading.Thread:  # type: ignore[no-untyped-def]
    """Run `action` just as the wave starts, from another thread; its line in `outcome`."""

    def run() -> None:
        time.sleep(0.1)
        thread.outcome = action(stack)  # type: ignore[attr-defined]

    thread = threading.Thread(target=run, daemon=True)
    thread.outcome = f"{action.__name__} did not finish"  # type: ignore[attr-defined]
    thread.start()
    return thread


def _revive_celery_if_dead(stack) -> None:  # type: ignore[no-untyped-def]
    """A solo-pool worker dies whole with its task; a supervisor would start it again."""
    time.sleep(0.5)
    if not stack.alive("worker"):
        stack.restart("worker")


def _check_swept(stack, faults: Faults) -> None:  # type: ignore[no-untyped-def]
    """The event whose gunicorn worker died between its commit and its queueing was queued by
    nobody (the provider's redelivery found it stored: a duplicate): the sweeper took it."""
    import psycopg

    (shot,) = [s for s in faults.fired() if s.point == "after_inbox_insert"]
    match = re.search(r"\((\d+),", shot.detail)
    assert match, shot.detail
    with psycopg.connect(stack.audit_url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT status, attempts FROM payments_webhookevent WHERE id = %s", [match[1]]
        ).fetchone()
    assert row is not None
    assert row[0] in ("processed", "ignored"), row
    report(f"event {match[1]}, never queued by its dead gunicorn worker: swept, {row[0]}")


def _wait_drained(stack, run: str):  # type: ignore[no-untyped-def]
    """Until every order has its effects and no event waits: beat's sweeper does it; a manual
    sweep (as staff would run) only if beat makes no progress for a while."""
    deadline = time.monotonic() + DRAIN_TIMEOUT
    result = audit(stack.audit_url, run)
    while not result.drained and time.monotonic() < deadline:
        time.sleep(1)
        result = audit(stack.audit_url, run)
    if not result.drained:
        pytest.fail(
            f"not drained after {DRAIN_TIMEOUT} s: {result.events} {result.not_once[:5]}\n"
            f"{stack.logs()}"
        )
    return result
