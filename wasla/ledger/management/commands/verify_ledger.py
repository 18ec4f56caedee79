"""Prove the books are sound: every transaction balances, Σ of all accounts is zero per
currency, every account's balance_after chain ends at its balance, every tenant's hash chain is
intact. Exit status 1 with the first broken row; 0 when everything holds."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from wasla.ledger.verify import ledger_faults
from wasla.tenants.context import platform_access

from ._tenant import tenant_id_for


class Command(BaseCommand):
    help = "Verify the ledger's balances, balance_after chains and hash chains."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant", help="only this tenant's books (slug)")

    def handle(self, *args: Any, **options: Any) -> None:
        with platform_access(reason="verify_ledger"):
            tenant_id = tenant_id_for(options["tenant"])
            fault = next(ledger_faults(tenant_id=tenant_id), None)
        if fault is not None:
            raise CommandError(f"ledger broken: {fault}")
        self.stdout.write("ledger ok")
