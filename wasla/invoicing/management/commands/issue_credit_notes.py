"""Issue the credit notes of refunds made after invoicing (the daily beat task does the same).

Exit status 0 when every one was issued (or there were none), 1 when any failed.
"""

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from wasla.common.money import format_amount
from wasla.invoicing.credit_notes import CreditNotesIncomplete, credit_notes_issue
from wasla.invoicing.models import CreditNote


class Command(BaseCommand):
    help = "Issue credit notes for refunds of payments already invoiced."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true", help="print the report as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        failures: list[str] = []
        try:
            notes = credit_notes_issue(now=timezone.now())
        except CreditNotesIncomplete as error:
            notes, failures = error.issued, error.failures
        rows = [self._row(note) for note in notes]
        if options["json"]:
            body = {"credit_notes": rows, "failures": failures}
            self.stdout.write(json.dumps(body, indent=2, ensure_ascii=False))
        else:
            for row in rows:
                self.stdout.write(
                    f"{row['number']} on {row['invoice']}: {row['total']} {row['currency']}"
                )
            if not rows:
                self.stdout.write("no credit note to issue")
        if failures:
            raise CommandError("credit notes failed: " + "; ".join(failures), returncode=1)

    @staticmethod
    def _row(note: CreditNote) -> dict[str, str]:
        return {
            "number": note.display_number,
            "invoice": note.invoice.display_number,
            "currency": note.currency,
            "total": format_amount(note.total, note.currency),
        }
