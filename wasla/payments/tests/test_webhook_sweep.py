"""The webhook sweeper: it takes due and stale events only, two sweepers at once never take the
same event nor wait for each other's rows, and beat runs it."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from celery.schedules import crontab
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone

from config.celery import app as celery_app
from testsupport.threads import in_threads
from wasla.dashboard.rollups import FULL_DAYS
from wasla.payments.models import WebhookEvent
from wasla.payments.webhooks.sweep import webhook_events_sweep
from wasla.tenants.context import platform_access

from .webhook_deliveries import (
    plan_event,
)

# --- Sweeper --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_sweeper_takes_due_and_stale_events_only(stripe_config, settings, capsys):
    settings.WASLA_WEBHOOK_SWEEP_STALE_SECONDS = 120
    now = timezone.now()
    due = plan_event(stripe_config, next_attempt_at=now - timedelta(seconds=1))
    parked = plan_event(stripe_config, next_attempt_at=now + timedelta(minutes=5))
    stale = plan_event(stripe_config)
    WebhookEvent.objects.filter(pk=stale.pk).update(received_at=now - timedelta(minutes=3))
    fresh = plan_event(stripe_config)
    done = plan_event(stripe_config, status="processed", next_attempt_at=now - timedelta(hours=1))

    call_command("webhooks_sweep", "--inline")

    assert capsys.readouterr().out.strip() == "2 webhook event(s) processed"
    statuses = dict(WebhookEvent.objects.values_list("pk", "status"))
    assert statuses == {
        due.pk: "ignored",
        stale.pk: "ignored",
        parked.pk: "received",
        fresh.pk: "received",
        done.pk: "processed",
    }
    assert webhook_events_sweep(inline=True) == []
    assert webhook_events_sweep(inline=True, stale_after=timedelta(0)) == [fresh.pk]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("repeat", range(3))
def test_two_concurrent_sweepers_never_take_the_same_event(
    stripe_config, settings, close_thread_connections, repeat
):
    settings.WASLA_WEBHOOK_SWEEP_BATCH_SIZE = 4
    past = timezone.now() - timedelta(seconds=1)
    events = [plan_event(stripe_config, next_attempt_at=past).pk for _ in range(40)]

    swept = in_threads(2, lambda i: webhook_events_sweep())

    first, second = swept
    assert isinstance(first, list), swept
    assert isinstance(second, list), swept
    assert not set(first) & set(second)
    assert sorted(first + second) == sorted(events)
    assert set(WebhookEvent.objects.values_list("status", flat=True)) == {"ignored"}
    assert set(WebhookEvent.objects.values_list("attempts", flat=True)) == {1}


@pytest.mark.django_db(transaction=True)
def test_the_sweeper_skips_rows_another_sweeper_holds(stripe_config, close_thread_connections):
    past = timezone.now() - timedelta(seconds=1)
    events = [plan_event(stripe_config, next_attempt_at=past).pk for _ in range(8)]
    held = events[:3]
    locked, release = threading.Event(), threading.Event()

    def hold() -> None:
        try:
            # Another sweeper: the platform job, as webhook_events_sweep itself runs.
            with platform_access(reason="a second sweeper"), transaction.atomic():
                list(WebhookEvent.objects.select_for_update().filter(pk__in=held))
                locked.set()
                release.wait(30)
        finally:
            connection.close()

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert locked.wait(10)
        started = time.monotonic()
        assert sorted(webhook_events_sweep()) == events[3:]
        assert time.monotonic() - started < 10  # skipped, never waited for the lock
    finally:
        release.set()
        holder.join()
    assert sorted(webhook_events_sweep()) == held


def test_beat_runs_the_sweeper_and_reconciliation():
    entries = celery_app.conf.beat_schedule
    schedule = {
        entry["task"]: entry["schedule"]
        for name, entry in entries.items()
        if not name.startswith("dashboard-")
    }
    assert schedule == {
        "payments.webhooks_sweep": 30.0,
        "payments.reconcile": 300.0,
        # ZATCA: stamp what waits, re-drive the clearances nobody holds.
        "zatca.sweep": 300.0,
        # Monthly invoicing (its own app), 03:00 on the 1st in CELERY_TIMEZONE.
        "invoicing.generate_previous_month": crontab(minute=0, hour=3, day_of_month=1),
        # Credit notes for refunds after invoicing, daily at 04:00.
        "invoicing.issue_credit_notes": crontab(minute=0, hour=4),
        # Invoices charged on the merchants' saved cards, daily at 05:00.
        "invoicing.collect_invoices": crontab(minute=0, hour=5),
        # Shoppers' personal data past the retention period anonymised, daily at 03:30 (PDPL).
        "api.purge_personal_data": crontab(minute=30, hour=3),
    }
    # The staff dashboard's roll-ups: the recent days every 5 minutes, every day nightly; its
    # reconciliation snapshot daily.
    dashboard = {
        name: (entry["task"], entry["schedule"], entry.get("kwargs") or {})
        for name, entry in entries.items()
        if name.startswith("dashboard-")
    }
    assert dashboard == {
        "dashboard-rollups": ("dashboard.rollup_refresh", 300.0, {}),
        "dashboard-rollups-full": (
            "dashboard.rollup_refresh",
            crontab(minute=30, hour=2),
            {"days": FULL_DAYS},
        ),
        "dashboard-reconcile": ("dashboard.reconcile_snapshot", crontab(minute=0, hour=6), {}),
    }
    assert celery_app.conf.timezone == "Asia/Riyadh"
    # What a worker does when it boots: import the configured and autodiscovered task modules
    # (in a test process they are imported only by whichever test happened to need them).
    celery_app.loader.import_default_modules()
    assert "payments.process_webhook_event" in celery_app.tasks
    assert "payments.webhooks_sweep" in celery_app.tasks
    assert "zatca.sweep" in celery_app.tasks
