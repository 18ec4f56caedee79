"""Issue the monthly invoices of a month that has ended, for every active tenant or one.

Exit status 0 when no tenant failed (issued, already invoiced, nothing to bill or skipped for an
incomplete tax profile are all outcomes, listed in the report), 1 when any failed.
"""

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from wasla.invoicing.run import TenantRunResult, invoices_generate_all
from wasla.invoicing.services import InvoicingError


class Command(BaseCommand):
    help = "Issue the monthly invoices for a calendar month (Asia/Riyadh) that has ended."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--year", type=int, required=True)
        parser.add_argument("--month", type=int, required=True, choices=range(1, 13))
        parser.add_argument("--tenant", help="only this tenant (slug)")
        parser.add_argument("--json", action="store_true", help="print the report as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        year, month = options["year"], options["month"]
        try:
            results = invoices_generate_all(
                year=year, month=month, now=timezone.now(), tenant_slug=options["tenant"]
            )
        except (InvoicingError, LookupError) as error:
            raise CommandError(str(error)) from error
        if options["json"]:
            body = {"year": year, "month": month, "tenants": [r.as_dict() for r in results]}
            self.stdout.write(json.dumps(body, indent=2, ensure_ascii=False))
        else:
            for result in results:
                self.stdout.write(self._line(result))
        failed = [r.tenant for r in results if r.outcome == "failed"]
        if failed:
            raise CommandError(f"invoicing failed for {', '.join(failed)}", returncode=1)

    @staticmethod
    def _line(result: TenantRunResult) -> str:
        if result.outcome in ("issued", "already_invoiced"):
            documents = ", ".join(
                f"{i['number']} ({i['total']} {i['currency']})" for i in result.invoices
            )
            return f"{result.tenant}: {result.outcome.replace('_', ' ')} {documents}"
        if result.outcome == "skipped":
            return f"{result.tenant}: skipped, tax profile: {'; '.join(result.problems)}"
        if result.outcome == "failed":
            return f"{result.tenant}: failed: {result.error}"
        return f"{result.tenant}: nothing to invoice"
