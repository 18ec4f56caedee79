"""Write the books as a Beancount or hledger journal, with balance assertions."""

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from wasla.ledger.export import ledger_export_beancount, ledger_export_hledger
from wasla.tenants.context import platform_access

from ._tenant import tenant_id_for

FORMATS = {"beancount": ledger_export_beancount, "hledger": ledger_export_hledger}


class Command(BaseCommand):
    help = "Export the ledger for Beancount (bean-check) or hledger."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--format", choices=sorted(FORMATS), default="beancount")
        parser.add_argument("--tenant", help="only this tenant's books (slug)")
        parser.add_argument("--output", help="write to this file instead of standard output")

    def handle(self, *args: Any, **options: Any) -> None:
        with platform_access(reason="export_ledger"):
            tenant_id = tenant_id_for(options["tenant"])
            journal = FORMATS[options["format"]](tenant_id=tenant_id)
        if options["output"]:
            with open(options["output"], "w", encoding="utf-8") as handle:
                handle.write(journal)
        else:
            self.stdout.write(journal, ending="")
