"""Bring the staff dashboard up to date now: its daily roll-ups over `--days` Riyadh days and the
reconciliation snapshot — what Celery beat does on its schedule (config/celery.py), for the demo
(which has no beat) and for staff after a backfill."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand
from django.utils import timezone

from wasla.dashboard.rollups import FULL_DAYS, rollup_refresh
from wasla.dashboard.tasks import dashboard_reconcile_snapshot


class Command(BaseCommand):
    help = "Rebuild the dashboard's roll-ups (default: every day it shows) and its findings."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--days", type=int, default=FULL_DAYS)

    def handle(self, *args: Any, **options: Any) -> None:
        since = timezone.localdate() - dt.timedelta(days=max(0, options["days"] - 1))
        run = rollup_refresh(since=since, actor="dashboard_refresh")
        findings = dashboard_reconcile_snapshot(actor="dashboard_refresh")
        self.stdout.write(
            f"dashboard roll-ups from {run.since} rebuilt in {run.seconds} s;"
            f" reconciliation: {findings} finding(s)"
        )
