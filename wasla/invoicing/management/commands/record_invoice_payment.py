"""Record a bank transfer received on an issued invoice (staff, from the bank statement).

`manage.py record_invoice_payment INV-000001 --amount 115.00 --reference FT2602... [--paid-on
2026-02-03] [--tenant slug]`. Recording the same reference again changes nothing. Exit status 1
with the reason for an unknown invoice, a bad amount, more than is due, or an invoice that is
not issued.
"""

import getpass
import re
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from wasla.common.money import format_amount
from wasla.invoicing.models import Invoice, InvoicePayment
from wasla.invoicing.payments import PaymentRefused, invoice_payment_record
from wasla.invoicing.services import RIYADH
from wasla.tenants.context import platform_access, tenant_context

NUMBER = re.compile(r"(?:INV-)?0*(\d{1,18})", re.IGNORECASE)  # 18 digits fit a bigint


class Command(BaseCommand):
    help = "Record a bank transfer received on an issued invoice."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("number", help="the invoice number, e.g. INV-000001")
        parser.add_argument("--amount", required=True, help="the amount received, e.g. 115.00")
        parser.add_argument("--reference", required=True, help="the bank's transfer reference")
        parser.add_argument(
            "--paid-on", type=date.fromisoformat, help="YYYY-MM-DD (default: today, Riyadh)"
        )
        parser.add_argument("--tenant", help="refuse unless the invoice is this tenant's (slug)")

    def handle(self, *args: Any, **options: Any) -> None:
        now = timezone.now()
        matched = NUMBER.fullmatch(options["number"].strip())
        if matched is None:
            raise CommandError(f"{options['number']!r} is not an invoice number (INV-000001)")
        try:
            amount = Decimal(options["amount"])
        except InvalidOperation:
            raise CommandError(f"{options['amount']!r} is not an amount") from None
        actor = getpass.getuser()
        with platform_access(reason="record an invoice payment", actor=actor):
            invoice = (
                Invoice.objects.select_related("tenant").filter(number=int(matched[1])).first()
            )
        if invoice is None or (options["tenant"] and invoice.tenant.slug != options["tenant"]):
            raise CommandError(f"no invoice {options['number']}")
        try:
            with tenant_context(invoice.tenant_id):
                recorded = invoice_payment_record(
                    invoice=invoice,
                    amount=amount,
                    paid_on=options["paid_on"] or now.astimezone(RIYADH).date(),
                    reference=options["reference"],
                    method=InvoicePayment.Method.BANK_TRANSFER,
                    actor=f"command:{actor}",
                    now=now,
                )
        except PaymentRefused as error:
            raise CommandError(str(error)) from error
        after, currency = recorded.invoice, invoice.currency
        what = "recorded" if recorded.created else "already recorded, nothing changed:"
        self.stdout.write(
            f"{after.display_number}: {what} {format_amount(recorded.payment.amount, currency)} "
            f"{currency} ({recorded.payment.reference}); due "
            f"{format_amount(after.amount_due, currency)} {currency}, {after.status}"
        )
