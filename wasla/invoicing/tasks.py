"""Celery tasks of invoicing: the monthly run, on the 1st of each month (beat, Asia/Riyadh)."""

from __future__ import annotations

import logging

from celery import shared_task
from django.utils import timezone

from .run import invoices_generate_all
from .services import RIYADH

logger = logging.getLogger(__name__)


@shared_task(name="invoicing.generate_previous_month", ignore_result=True)
def generate_previous_month() -> int:
    """Invoice every tenant for the calendar month (Asia/Riyadh) before today; returns the
    number of tenants that failed (each is logged; the command can re-run them)."""
    now = timezone.now()
    today = now.astimezone(RIYADH)
    year, month = (today.year, today.month - 1) if today.month > 1 else (today.year - 1, 12)
    results = invoices_generate_all(year=year, month=month, now=now)
    failed = [r for r in results if r.outcome == "failed"]
    for result in failed:
        logger.error("monthly invoicing failed: %s", result.as_dict())
    return len(failed)
