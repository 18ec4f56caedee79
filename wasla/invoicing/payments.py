"""Money received on an issued invoice: a bank transfer staff record, or a card charge.

`invoice_payment_record` locks the invoice row, so two recordings on one invoice queue and the
second sees what the first left due; an amount above that is refused, never clipped. Each
payment is one `InvoicePayment` row (unique per invoice, method and reference: the same transfer
recorded twice finds the first) and one ledger posting keyed by the payment. The payment that
leaves nothing due closes the invoice: `paid`, `paid_at = now`, and its settlements `paid`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.db import transaction

from wasla.common.money import MoneyError, format_amount, is_exact
from wasla.tenants.models import Tenant

from .models import Invoice, InvoicePayment
from .paid import invoice_close_if_settled
from .postings import invoice_post_payment
from .services import InvoicingError


class PaymentRefused(InvoicingError):
    """A payment that cannot be recorded on the invoice; nothing was written."""


@dataclass(frozen=True)
class RecordedPayment:
    payment: InvoicePayment
    invoice: Invoice  # as it stands after the recording
    created: bool  # False: this transfer was recorded already, nothing changed


REFERENCE_MAX = InvoicePayment._meta.get_field("reference").max_length or 100


def _refusal(*, invoice: Invoice, amount: Decimal) -> str | None:
    """Why `amount` cannot be paid on the locked `invoice`, or None."""
    label, currency = invoice.display_number or f"draft {invoice.pk}", invoice.currency
    if not isinstance(amount, Decimal) or not amount.is_finite() or amount <= 0:
        return f"the amount must be a positive number, not {amount}"
    try:
        exact = is_exact(amount, currency)
    except MoneyError:  # too large for any amount
        exact = False
    if not exact:
        return f"{amount} is not an exact amount of {currency}"
    if invoice.status != Invoice.Status.ISSUED:
        return f"invoice {label} is {invoice.status}: only an issued invoice takes payments"
    if amount > invoice.amount_due:
        return (
            f"{format_amount(amount, currency)} {currency} is more than the "
            f"{format_amount(invoice.amount_due, currency)} {currency} due on {label}"
        )
    return None


def invoice_payment_record(
    *,
    invoice: Invoice,
    amount: Decimal,
    paid_on: date,
    reference: str,
    method: InvoicePayment.Method,
    actor: str,
    now: datetime,
) -> RecordedPayment:
    """Record `amount` received on `invoice` (see the module docstring). Raises PaymentRefused
    for a non-positive or inexact amount, more than is due, an invoice that is not `issued`, or
    a reference already recorded on it with another amount."""
    reference = reference.strip()
    if not reference:
        raise PaymentRefused("a payment needs its bank or provider reference")
    if "\x00" in reference or len(reference) > REFERENCE_MAX:
        raise PaymentRefused(f"a reference is printable text of at most {REFERENCE_MAX} characters")
    with transaction.atomic():
        locked = Invoice.objects.select_for_update().get(pk=invoice.pk)
        existing = InvoicePayment.objects.filter(
            invoice=locked, method=method, reference=reference
        ).first()
        if existing is not None:
            if existing.amount != amount:
                raise PaymentRefused(
                    f"{method} {reference!r} was recorded on {locked.display_number} already, "
                    f"for {format_amount(existing.amount, locked.currency)} {locked.currency}"
                )
            return RecordedPayment(existing, locked, created=False)
        refusal = _refusal(invoice=locked, amount=amount)
        if refusal is not None:
            raise PaymentRefused(refusal)
        payment = InvoicePayment.objects.create(
            tenant_id=locked.tenant_id,
            invoice=locked,
            amount=amount,
            paid_on=paid_on,
            reference=reference,
            method=method,
            recorded_at=now,
            recorded_by=actor,
        )
        invoice_post_payment(payment=payment, tenant=Tenant.objects.get(pk=locked.tenant_id))
        locked.amount_paid += amount
        locked.amount_due -= amount
        closed = invoice_close_if_settled(invoice=locked, now=now)
        locked.save(update_fields=["amount_paid", "amount_due", *closed])
        return RecordedPayment(payment, locked, created=True)
