"""Charge the issued invoices whose next collection try is due (the daily beat task does the same).

Exit status 0 unless a try could not be made (Stripe unreachable, an unexpected error): 1.
"""

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from wasla.invoicing import billing_stripe
from wasla.invoicing.collection import invoices_collect


class Command(BaseCommand):
    help = "Charge issued invoices on the merchants' saved cards, on the dunning schedule."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true", help="print the report as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        if not billing_stripe.is_configured():
            raise CommandError("WASLA_BILLING_STRIPE_SECRET_KEY is not set: nothing to charge with")
        results = invoices_collect(now=timezone.now())
        rows = [result.as_dict() for result in results]
        if options["json"]:
            self.stdout.write(json.dumps({"invoices": rows}, indent=2, ensure_ascii=False))
        else:
            for row in rows:
                tried = f" (try {row['try']})" if row["try"] else ""
                detail = f": {row['detail']}" if row["detail"] else ""
                self.stdout.write(f"{row['invoice']}{tried} {row['outcome']}{detail}")
            if not rows:
                self.stdout.write("no invoice to collect")
        errors = [row["invoice"] for row in rows if row["outcome"] == "error"]
        if errors:
            raise CommandError("collection failed for " + ", ".join(errors), returncode=1)
