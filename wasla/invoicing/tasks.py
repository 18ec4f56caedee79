"""Celery tasks of invoicing: the monthly run, on the 1st of each month, the credit notes of
refunds after invoicing and the collection of invoices by card, daily (beat, Asia/Riyadh)."""

from __future__ import annotations

import logging

from celery import shared_task
from django.utils import timezone

from .collection import invoices_collect
from .credit_notes import CreditNotesIncomplete, credit_notes_issue
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


@shared_task(name="invoicing.issue_credit_notes", ignore_result=True)
def issue_credit_notes() -> int:
    """Issue the credit notes of refunds made after invoicing; returns how many were issued
    (a failure is logged per invoice and retried by the next run)."""
    try:
        return len(credit_notes_issue(now=timezone.now()))
    except CreditNotesIncomplete as error:
        logger.error("credit notes failed: %s", error.failures)
        return len(error.issued)


@shared_task(name="invoicing.collect_invoices", ignore_result=True)
def collect_invoices() -> int:
    """Charge the invoices whose next try is due; returns how many tries could not be made
    (each is logged and made again by the next run, with the same idempotency key)."""
    results = invoices_collect(now=timezone.now())
    errors = [result for result in results if result.outcome == "error"]
    for result in errors:
        logger.error("invoice collection failed: %s", result.as_dict())
    return len(errors)
