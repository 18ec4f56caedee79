"""The kill test's second half: a worker SIGKILLed after its stamp committed — with the lease
taken but the request not yet sent, or while ZATCA holds the request unanswered — and then the
sweep: every document is cleared, the killed one exactly once at ZATCA, and the chain has no
gap."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from io import StringIO
from typing import Any

import httpx
import pytest
from django.core.management import call_command
from django.db import connection

from sandbox.zatca_sim.models import ZatcaSubmission
from testsupport.invoicing import make_invoiceable_tenant, paid_payment_at, riyadh, run_month
from testsupport.zatca_egs import DEMO_OTP
from wasla.invoicing.zatca.models import EgsUnit, ZatcaDocument
from wasla.invoicing.zatca.tasks import zatca_sweep_task

_WORKER = """
import django, sys, time
django.setup()
from django.utils import timezone
from wasla.invoicing.zatca import client as zatca_client_module
if sys.argv[2] == "before-send":
    # The lease is committed; the process dies before its request leaves (held here forever).
    def held(self, **kwargs):
        print("leased", flush=True)
        time.sleep(600)
    zatca_client_module.ZatcaClient.clearance = held
from wasla.tenants.context import platform_access
from wasla.invoicing.zatca.models import ZatcaDocument
from wasla.invoicing.zatca.stamping import zatca_document_stamp
from wasla.invoicing.zatca.clearance import zatca_document_clear
with platform_access(reason="crash test worker"):
    document = ZatcaDocument.objects.get(pk=int(sys.argv[1]))
    stamped = zatca_document_stamp(document=document, now=timezone.now())
    print(f"stamped {stamped.icv}", flush=True)
    zatca_document_clear(document_id=stamped.pk, now=timezone.now())  # killed in here
    print("answered", flush=True)
"""


def _worker(document_id: int, base_url: str, timing: str) -> subprocess.Popen[str]:
    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "WASLA_ZATCA_BASE_URL": base_url,
        "WASLA_ZATCA_TIMEOUT_SECONDS": "60",
    }
    return subprocess.Popen(
        [sys.executable, "-c", _WORKER, str(document_id), timing],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _until_submitting(document_id: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ZatcaDocument.objects.filter(pk=document_id, attempts=1).exists():
            time.sleep(2.5)  # past the local checks: the request is held by the simulator
            return
        time.sleep(0.05)
    raise AssertionError("the worker never took the clearance lease")


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("timing", ["before-send", "awaiting-answer"])
def test_a_worker_killed_while_submitting_then_the_sweep_clears_each_document_once(
    live_server: Any, settings: Any, timing: str
) -> None:
    sim = f"{live_server.url}/sandbox/zatca"
    base_url = f"{sim}/e-invoicing/developer-portal"
    settings.WASLA_ZATCA_BASE_URL = base_url
    call_command("zatca_onboard", "--otp", DEMO_OTP, "--json", stdout=StringIO())
    # Documents issued while the unit is stepped down wait, unstamped, for the worker.
    EgsUnit.objects.update(state=EgsUnit.State.COMPLIANCE)
    for n in range(3):
        tenant = make_invoiceable_tenant(f"crash-{n}")
        paid_payment_at(tenant, riyadh(2026, 1, 10), f"{100 + n}.00")
        run_month(tenant, 2026, 1)
    EgsUnit.objects.update(state=EgsUnit.State.ACTIVE)
    documents = list(ZatcaDocument.objects.order_by("id"))
    if timing == "awaiting-answer":  # ZATCA holds the first request it gets, unanswered
        knobs = {"api": "timeout", "timeout_seconds": 5, "api_fail_count": 1}
        assert httpx.post(f"{sim}/_control/", json=knobs, trust_env=False).status_code == 200

    worker = _worker(documents[0].pk, base_url, timing)
    try:
        assert worker.stdout is not None
        line = worker.stdout.readline()
        assert line.strip() == "stamped 1", worker.stderr.read() if worker.stderr else ""
        if timing == "before-send":
            assert worker.stdout.readline().strip() == "leased"
            assert ZatcaSubmission.objects.filter(uuid=str(documents[0].uuid)).count() == 0
        else:
            _until_submitting(documents[0].pk)
        os.kill(worker.pid, signal.SIGKILL)
    finally:
        worker.kill()
        worker.wait()
    assert worker.returncode == -signal.SIGKILL
    killed = ZatcaDocument.objects.get(pk=documents[0].pk)
    assert (killed.status, killed.attempts, killed.submitted_at is not None) == (
        "pending",
        1,
        True,
    )

    settings.WASLA_ZATCA_CLEARANCE_LEASE_SECONDS = 0  # the dead worker's lease has expired
    zatca_sweep_task()

    cleared = list(ZatcaDocument.objects.order_by("icv"))
    assert [(d.icv, d.status) for d in cleared] == [(1, "cleared"), (2, "cleared"), (3, "cleared")]
    assert ZatcaDocument.objects.get(pk=documents[0].pk).attempts == 2
    for document in cleared:
        assert ZatcaSubmission.objects.filter(uuid=str(document.uuid)).count() == 1
    time.sleep(3)  # the simulator has finished the killed worker's held request: still once
    assert ZatcaSubmission.objects.filter(uuid=str(documents[0].uuid)).count() == 1
