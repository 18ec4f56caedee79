"""Staff: record cash handed back for a cash-on-delivery payment."""

import uuid
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from wasla.common.problems import Problem
from wasla.payments.models import PaymentAttempt
from wasla.payments.refunds import refund_record_cash
from wasla.tenants.context import platform_access, tenant_context


class Command(BaseCommand):
    help = "Record a cash refund of a cash-on-delivery payment (idempotent per receipt)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("payment", type=uuid.UUID)
        parser.add_argument("--amount", help="decimal amount; default: the rest")
        parser.add_argument("--receipt", required=True, help="receipt number of the cash refund")
        parser.add_argument("--reason", default="cash refund")

    def handle(self, *args: Any, **options: Any) -> None:
        # Staff find the payment across tenants (audited), then act for its tenant only.
        reason = f"record cash refund for payment {options['payment']}"
        with platform_access(reason=reason, actor="manage.py record_cash_refund"):
            tenant_id = (
                PaymentAttempt.objects.filter(pk=options["payment"])
                .values_list("tenant_id", flat=True)
                .first()
            )
        if tenant_id is None:
            raise CommandError("no such payment")
        with tenant_context(tenant_id):
            self._record(options)

    def _record(self, options: dict[str, Any]) -> None:
        attempt = (
            PaymentAttempt.objects.select_related("tenant").filter(pk=options["payment"]).first()
        )
        if attempt is None:
            raise CommandError("no such payment")
        try:
            amount = Decimal(options["amount"]) if options["amount"] else None
        except InvalidOperation:
            raise CommandError("--amount must be a decimal amount") from None
        try:
            refund = refund_record_cash(
                tenant=attempt.tenant,
                attempt_id=attempt.id,
                amount=amount,
                reason=options["reason"],
                receipt=options["receipt"],
            )
        except Problem as exc:
            raise CommandError(exc.detail) from None
        self.stdout.write(f"refund {refund.id}: {refund.amount} {refund.currency} {refund.status}")
