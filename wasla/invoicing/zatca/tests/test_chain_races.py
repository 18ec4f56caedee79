"""The chain under races and crashes, with real threads and a real process: 20 concurrent
stampings give 20 consecutive ICVs and one unbroken PIH chain; a process killed while it waits
for the unit's lock, or right after its stamp committed, leaves no gap and no duplicate, and the
sweep re-run stamps the rest once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
from django.db import connection, transaction

from fatoora.hashing import FIRST_PIH
from testsupport.invoicing import make_invoiceable_tenant, paid_payment_at, riyadh, run_month
from testsupport.threads import in_threads
from testsupport.zatca_chain import STAMPED_AT, make_active_egs
from wasla.invoicing.zatca.models import EgsUnit, ZatcaDocument
from wasla.invoicing.zatca.stamping import zatca_document_stamp, zatca_stamp_pending
from wasla.tenants.context import platform_access


def _waiting_documents(count: int) -> list[ZatcaDocument]:
    """`count` issued invoices (no unit active yet, so their documents wait)."""
    for n in range(count):
        tenant = make_invoiceable_tenant(f"chain-{n}")
        paid_payment_at(tenant, riyadh(2026, 1, 10), f"{100 + n}.00")
        run_month(tenant, 2026, 1)
    return list(ZatcaDocument.objects.order_by("id"))


def _assert_one_unbroken_chain(expected: int) -> None:
    stamped = list(ZatcaDocument.objects.filter(icv__isnull=False).order_by("icv"))
    assert [d.icv for d in stamped] == list(range(1, expected + 1))
    assert [d.pih for d in stamped] == [FIRST_PIH] + [d.invoice_hash for d in stamped[:-1]]
    unit = EgsUnit.objects.get()
    assert (unit.last_icv, unit.last_hash) == (expected, stamped[-1].invoice_hash)


@pytest.mark.parametrize("round_", range(2))
@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_stampings_make_one_chain(round_):
    documents = _waiting_documents(20)
    make_active_egs()

    def stamp(i: int) -> int | None:
        with platform_access(reason="race test: stamping"):
            return zatca_document_stamp(document=documents[i], now=STAMPED_AT).icv

    icvs = in_threads(20, stamp)

    assert sorted(icvs) == list(range(1, 21)), icvs
    _assert_one_unbroken_chain(20)


_WORKER = """
import django, sys, time
django.setup()
from django.utils import timezone
from wasla.tenants.context import platform_access
from wasla.invoicing.zatca.models import ZatcaDocument
from wasla.invoicing.zatca.stamping import zatca_document_stamp
with platform_access(reason="crash test worker"):
    document = ZatcaDocument.objects.get(pk=int(sys.argv[1]))
    print("stamping", flush=True)
    stamped = zatca_document_stamp(document=document, now=timezone.now())
    print(f"stamped {stamped.icv}", flush=True)
    time.sleep(120)  # where the clearance call would be: the test kills the process here
"""


def _worker(document_id: int) -> subprocess.Popen[str]:
    settings = connection.settings_dict
    url = f"postgres://{settings['USER']}@{settings['HOST']}:{settings['PORT']}/{settings['NAME']}"
    return subprocess.Popen(
        [sys.executable, "-c", _WORKER, str(document_id)],
        env={**os.environ, "DATABASE_URL": url},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _waiting_for_a_lock(worker: subprocess.Popen[str], timeout: float = 30.0) -> None:
    """Until the worker waits for the transaction that holds the unit's row (the caller's)."""
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            # A backend waiting for this transaction (the one holding the unit's row); pg_locks,
            # not pg_stat_activity: the app role sees every lock, not other roles' waits.
            cursor.execute(
                "SELECT count(*) FROM pg_locks WHERE NOT granted AND locktype = 'transactionid'"
                " AND transactionid::text = pg_current_xact_id()::text"
            )
            if cursor.fetchone()[0]:
                return
            time.sleep(0.05)
    worker.kill()
    raise AssertionError(f"the worker never waited for the unit's lock: {worker.communicate()}")


@pytest.mark.django_db(transaction=True)
def test_a_process_killed_after_its_stamp_committed_leaves_no_gap_and_no_duplicate():
    documents = _waiting_documents(3)
    make_active_egs()
    worker = _worker(documents[0].pk)
    try:
        assert worker.stdout is not None
        while (line := worker.stdout.readline()) and not line.startswith("stamped"):
            pass
        assert line.strip() == "stamped 1", worker.stderr.read() if worker.stderr else ""
        os.kill(worker.pid, signal.SIGKILL)
    finally:
        worker.kill()
        worker.wait()
    assert worker.returncode == -signal.SIGKILL
    _assert_one_unbroken_chain(1)

    outcomes = zatca_stamp_pending(now=STAMPED_AT)  # the sweep, re-run after the crash

    assert [o.document_id for o in outcomes] == [documents[1].pk, documents[2].pk]
    _assert_one_unbroken_chain(3)
    assert ZatcaDocument.objects.get(pk=documents[0].pk).icv == 1


@pytest.mark.django_db(transaction=True)
def test_a_process_killed_before_its_stamp_committed_leaves_nothing_behind():
    """The worker is killed while it waits for the unit's lock (held here): its transaction
    dies with it, no ICV is used, and the sweep stamps every document from ICV 1."""
    documents = _waiting_documents(2)
    unit = make_active_egs()
    worker = None
    try:
        with transaction.atomic():
            EgsUnit.objects.select_for_update().get(pk=unit.pk)
            worker = _worker(documents[0].pk)
            _waiting_for_a_lock(worker)
            os.kill(worker.pid, signal.SIGKILL)
            worker.wait()
    finally:
        if worker is not None:
            worker.kill()
            worker.wait()
    assert worker.returncode == -signal.SIGKILL
    assert EgsUnit.objects.get().last_icv == 0

    zatca_stamp_pending(now=STAMPED_AT)

    _assert_one_unbroken_chain(2)
    assert [d.pk for d in ZatcaDocument.objects.order_by("icv")] == [d.pk for d in documents]
