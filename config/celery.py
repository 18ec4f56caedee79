"""The Celery app: configured from Django's CELERY_* settings, tasks found in each app's tasks.py
(and the modules listed in CELERY_IMPORTS), periodic tasks registered here for beat.

Beat (`celery -A config beat`) runs:
- `payments.webhooks_sweep` every WASLA_WEBHOOK_SWEEP_INTERVAL_SECONDS (30): re-drives webhook
  events left `received` (a broker that was down, a worker that died, a retry that is due);
- `payments.reconcile` every WASLA_RECONCILE_INTERVAL_SECONDS (300): re-fetches payments left
  pending from their provider;
- `zatca.sweep` every WASLA_ZATCA_SWEEP_INTERVAL_SECONDS (300): stamps the ZATCA documents left
  waiting and re-drives the clearances no worker holds (a dead worker's expired lease);
- `invoicing.generate_previous_month` at 03:00 on the 1st of each month (CELERY_TIMEZONE, i.e.
  Asia/Riyadh): the previous month's invoices, once that month has ended there;
- `invoicing.issue_credit_notes` daily at 04:00 (Asia/Riyadh): credit notes for the refunds
  made after invoicing;
- `invoicing.collect_invoices` daily at 05:00 (Asia/Riyadh): issued invoices charged on the
  merchants' saved cards on the dunning schedule;
- `dashboard.rollup_refresh` every WASLA_DASHBOARD_ROLLUP_INTERVAL_SECONDS (300) over the last
  few days, and nightly at 02:30 over FULL_DAYS (a refund of an older payment lands there): the
  daily roll-ups the staff dashboard's charts read;
- `dashboard.reconcile_snapshot` daily at 06:00: the reconciliation findings the dashboard shows;
- `api.purge_personal_data` daily at 03:30: shoppers' personal data older than
  WASLA_PERSONAL_DATA_RETENTION_DAYS anonymised (PDPL; README "Personal data (PDPL)").
Each entry expires after one interval, so sweeps queued while no worker ran do not pile up.
"""

import os
from typing import Any

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")

# Our fix-up in place of Celery's: it keeps database connections for CONN_MAX_AGE between tasks.
app = Celery("wasla", fixups=["config.celery_django:fixup"])
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_configure.connect
def _register_periodic_tasks(sender: Celery, **kwargs: Any) -> None:
    # Runs once Django's settings are loaded, so the intervals can come from them.
    from django.conf import settings

    periodic = {
        "webhooks-sweep": (
            "payments.webhooks_sweep",
            float(settings.WASLA_WEBHOOK_SWEEP_INTERVAL_SECONDS),
        ),
        "payments-reconcile": (
            "payments.reconcile",
            float(settings.WASLA_RECONCILE_INTERVAL_SECONDS),
        ),
        "zatca-sweep": ("zatca.sweep", float(settings.WASLA_ZATCA_SWEEP_INTERVAL_SECONDS)),
        "dashboard-rollups": (
            "dashboard.rollup_refresh",
            float(settings.WASLA_DASHBOARD_ROLLUP_INTERVAL_SECONDS),
        ),
    }
    for name, (task, every) in periodic.items():
        sender.add_periodic_task(
            every, sender.signature(task, options={"expires": every}), name=name
        )
    sender.add_periodic_task(
        crontab(minute=0, hour=3, day_of_month=1),
        sender.signature("invoicing.generate_previous_month"),
        name="invoicing-monthly",
    )
    sender.add_periodic_task(
        crontab(minute=0, hour=4),
        sender.signature("invoicing.issue_credit_notes"),
        name="invoicing-credit-notes",
    )
    sender.add_periodic_task(
        crontab(minute=0, hour=5),
        sender.signature("invoicing.collect_invoices"),
        name="invoicing-collect",
    )
    from wasla.dashboard.rollups import FULL_DAYS

    sender.add_periodic_task(
        crontab(minute=30, hour=2),
        sender.signature("dashboard.rollup_refresh", kwargs={"days": FULL_DAYS}),
        name="dashboard-rollups-full",
    )
    sender.add_periodic_task(
        crontab(minute=0, hour=6),
        sender.signature("dashboard.reconcile_snapshot"),
        name="dashboard-reconcile",
    )
    sender.add_periodic_task(
        crontab(minute=30, hour=3),
        sender.signature("api.purge_personal_data"),
        name="personal-data-purge",
    )
