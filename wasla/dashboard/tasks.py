"""The dashboard's tasks (found by Celery's autodiscovery): the reconciliation snapshot and the
refresh of the charts' daily roll-ups (rollups.py).

Beat: `dashboard.rollup_refresh` every few minutes (the last RECENT_DAYS days) and nightly with
`days=FULL_DAYS`; `dashboard.reconcile_snapshot` daily.

The reconciliation snapshot the dashboard shows: the checks run here, not in a page.

`manage.py reconcile` and the settlement app's periodic task report differences to a person
and store nothing. At a million payments the checks take seconds, too long for a page, so this
task runs the same checks (schedule it in Celery beat next to `settlement.reconcile_settlements`,
or press the dashboard's button) and keeps counts per kind and a few examples in the cache.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

from celery import shared_task
from django.core.cache import cache
from django.utils import timezone

from wasla.settlement.reconcile_checks import reconcile_checks_run
from wasla.settlement.reconciliation import reconcile_settlements
from wasla.tenants.context import platform_access

from .rollups import RECENT_DAYS, rollup_refresh
from .selectors import RECONCILE_CACHE_KEY

EXAMPLES = 10
KEEP_SECONDS = 7 * 24 * 3600


def dashboard_reconcile_snapshot(*, actor: str = "system") -> int:
    """Run the settlement and books checks; store counts per kind and the first examples."""
    with platform_access(reason="dashboard reconciliation snapshot", actor=actor):
        settlement = reconcile_settlements()
        books = reconcile_checks_run()
    snapshot = {
        "ran_at": timezone.now().isoformat(),
        "settlement": dict(Counter(d.kind for d in settlement)),
        "books": dict(Counter(f"{d.check}/{d.kind}" for d in books)),
        "examples": [
            {"kind": d.kind, "tenant_id": d.tenant_id, "detail": d.detail}
            for d in settlement[:EXAMPLES]
        ]
        + [
            {"kind": f"{d.check}/{d.kind}", "tenant_id": d.tenant_id, "detail": d.detail}
            for d in books[:EXAMPLES]
        ],
    }
    cache.set(RECONCILE_CACHE_KEY, snapshot, timeout=KEEP_SECONDS)
    return len(settlement) + len(books)


@shared_task(name="dashboard.reconcile_snapshot")
def dashboard_reconcile_snapshot_task(actor: str = "system") -> int:
    return dashboard_reconcile_snapshot(actor=actor)


@shared_task(name="dashboard.rollup_refresh")
def rollup_refresh_task(days: int = RECENT_DAYS, actor: str = "system") -> str:
    """Rebuild the roll-ups of the last `days` Riyadh days (today included)."""
    since = timezone.localdate() - dt.timedelta(days=max(0, days - 1))
    run = rollup_refresh(since=since, actor=actor)
    return f"{run.since} in {run.seconds} s"
