"""Reconcile stale payment attempts with their providers, then report settlement differences and
the differences of the checks other apps registered (settlement/reconcile_checks.py; invoicing
adds its books: invoices, credit notes, merchant credit and the ledger).

Exit status: 0 when the run went through, whatever it resolved (provider errors for single
attempts are in the report and are retried by the next run); 1 when settlement or books
differences exist, because those need a person.

It lives in the settlement app because it reports on settlements, which payments knows nothing
of; the pending attempts it resolves first are the payment app's business.
"""

import json
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from wasla.payments.reconciliation import ReconcileReport, reconcile_pending
from wasla.settlement.reconcile_checks import BooksDifference, reconcile_checks_run
from wasla.settlement.reconciliation import SettlementDifference, reconcile_settlements


class Command(BaseCommand):
    help = (
        "Re-fetch payment attempts left created/pending from their provider and apply the real "
        "outcome; then list differences between attempts, orders and settlements."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--older-than-minutes",
            type=int,
            default=None,
            help="only attempts older than this (default: WASLA_RECONCILE_PENDING_AFTER_MINUTES)",
        )
        parser.add_argument("--json", action="store_true", help="print the report as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        minutes = options["older_than_minutes"]
        if minutes is None:
            minutes = settings.WASLA_RECONCILE_PENDING_AFTER_MINUTES
        if minutes < 0:
            raise CommandError("--older-than-minutes cannot be negative")
        report = reconcile_pending(older_than=timedelta(minutes=minutes))
        differences = reconcile_settlements()
        books = reconcile_checks_run()
        if options["json"]:
            body = {
                "pending": report.as_dict(),
                "settlement_differences": [d.as_dict() for d in differences],
                "books_differences": [d.as_dict() for d in books],
            }
            self.stdout.write(json.dumps(body, indent=2))
        else:
            self._write_text(report, differences)
            self._write_books(books)
        if differences or books:
            raise CommandError(
                f"{len(differences)} settlement and {len(books)} books difference(s) found",
                returncode=1,
            )

    def _write_books(self, books: list[BooksDifference]) -> None:
        self.stdout.write(f"Books differences: {len(books)}")
        for d in books:
            self.stdout.write(
                f"  {d.check}/{d.kind}: tenant={d.tenant_id} {d.currency}: expected "
                f"{d.expected}, actual {d.actual} ({d.detail})"
            )

    def _write_text(self, report: ReconcileReport, differences: list[SettlementDifference]) -> None:
        s = report.summary()
        minutes = report.older_than.total_seconds() / 60
        self.stdout.write(
            f"Attempts open for more than {minutes:g} min: {s['checked']} checked, "
            f"{s['resolved']} resolved, {s['still_open']} still open, {s['errors']} error(s), "
            f"{s['skipped_offline']} cash on delivery skipped"
        )
        for a in report.attempts:
            label = "error" if a.error else ("resolved" if a.resolved else "open")
            line = (
                f"  {label:<8} {a.attempt_id} {a.provider:<7} {a.before} -> {a.after} ({a.action})"
            )
            if a.error:
                line += f": {a.error}"
            self.stdout.write(line)
        self.stdout.write(f"Settlement differences: {len(differences)}")
        for d in differences:
            ids = " ".join(
                f"{name}={value}"
                for name, value in (
                    ("tenant", d.tenant_id),
                    ("order", d.order_id),
                    ("attempt", d.attempt_id),
                    ("settlement", d.settlement_id),
                )
                if value is not None
            )
            self.stdout.write(f"  {d.kind}: {ids}: {d.detail}")
