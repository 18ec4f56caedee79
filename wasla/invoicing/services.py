"""Invoicing services: issuing a document, and the monthly invoice of a tenant.

`invoice_generate_for_period` is the monthly run for one tenant and currency. In one
transaction it locks the tenant row (so two runs for a tenant queue, and the second finds the
first's invoice), locks the tenant's pending settlements up to the end of the month, builds the
invoice, marks the settlements `invoiced` and issues it (gap-free number, parties, the merchant's
credit applied, ledger posting). It either commits all of that or nothing. Its statement count
does not depend on the number of settlements.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.db.models import DecimalField, OuterRef, Subquery, Sum, Value
from django.db.models.fields.json import KeyTransform
from django.db.models.functions import Coalesce

from wasla.common.money import round_money
from wasla.settlement.models import SettlementAdjustment, SettlementRecord
from wasla.settlement.selectors import month_bounds
from wasla.tenants.models import Tenant
from wasla.tenants.tax_profile import tenant_tax_profile_problems

from .merchant_credit import merchant_credit_apply
from .models import DocumentSeries, Invoice, InvoiceLine, InvoiceSettlement
from .numbering import document_number_next
from .paid import invoice_close_if_settled
from .parties import buyer_snapshot, seller_snapshot
from .postings import invoice_post_issue
from .seller import seller_profile
from .zatca.stamping import zatca_document_register

RIYADH = ZoneInfo("Asia/Riyadh")
HUNDRED = Decimal(100)
# Settlements made before fee plans carried a VAT rate were all under the standard 15 %.
PRE_ENGINE_VAT_RATE = Decimal("15.00")
FEE_LINE_AR = "رسوم وصلة على المدفوعات"
FEE_LINE_EN = "Wasla payment fees"


class InvoicingError(Exception):
    """A monthly run that cannot go ahead; nothing was written."""


class PeriodNotEnded(InvoicingError):
    pass


class TaxProfileIncomplete(InvoicingError):
    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("tax profile incomplete: " + "; ".join(problems))


@dataclass(frozen=True)
class LineDraft:
    vat_rate: Decimal
    quantity: int
    net_amount: Decimal
    vat_amount: Decimal
    unit_price: Decimal


def period_check(*, year: int, month: int, now: datetime) -> datetime:
    """The end of the month (Asia/Riyadh) if it has passed at `now`; else PeriodNotEnded."""
    if not 1 <= month <= 12 or not 2000 <= year <= 9999:
        raise InvoicingError(f"{year}-{month:02d} is not a month")
    _, end = month_bounds(year=year, month=month)
    if now < end:
        raise PeriodNotEnded(
            f"{year}-{month:02d} ends at {end.isoformat()} (Asia/Riyadh); it cannot be "
            "invoiced before then"
        )
    return end


def invoice_lines_compute(*, fees: list[tuple[Decimal, Decimal]], currency: str) -> list[LineDraft]:
    """One line per VAT rate from (vat_rate, fee) pairs. VAT is computed once per rate, on the
    aggregate net, and rounded once: never the sum of per-payment roundings."""
    by_rate: dict[Decimal, list[Decimal]] = defaultdict(list)
    for rate, fee in fees:
        by_rate[rate].append(fee)
    lines = []
    for rate in sorted(by_rate):
        net = sum(by_rate[rate], Decimal(0))
        quantity = len(by_rate[rate])
        lines.append(
            LineDraft(
                vat_rate=rate,
                quantity=quantity,
                net_amount=round_money(net, currency),
                vat_amount=round_money(net * rate / HUNDRED, currency),
                unit_price=round_money(net / quantity, currency),
            )
        )
    return lines


# What issuing writes, in one UPDATE: all of it is frozen from then on (migration 0007).
ISSUED_FIELDS = [
    *("number", "status", "issued_at", "due_date"),
    *("buyer_snapshot", "seller_snapshot", "amount_credit_applied", "amount_due"),
]


def invoice_issue(*, invoice: Invoice, tenant: Tenant, now: datetime) -> Invoice:
    """Issue a draft invoice: its number, issue time, due date and parties (snapshots), the
    merchant's unused credit applied to what it bills, and its ledger posting. An invoice the
    credit covers whole is `paid` at once, its (already `invoiced`) settlements too.

    Runs inside the caller's transaction, which holds the number until it commits. The
    issuing is one UPDATE, so everything frozen at issue is written before the freeze."""
    if invoice.status != Invoice.Status.DRAFT:
        raise InvoicingError(f"invoice {invoice.pk} is {invoice.status}, not a draft")
    invoice.number = document_number_next(series=DocumentSeries.INVOICE)
    invoice.status = Invoice.Status.ISSUED
    invoice.issued_at = now
    invoice.due_date = (
        (now + timedelta(days=settings.WASLA_INVOICE_DUE_DAYS)).astimezone(RIYADH).date()
    )
    invoice.buyer_snapshot = buyer_snapshot(tenant)
    invoice.seller_snapshot = seller_snapshot()
    applied = merchant_credit_apply(invoice=invoice, up_to=invoice.amount_due, now=now)
    invoice.amount_credit_applied = applied
    invoice.amount_due -= applied
    closed = invoice_close_if_settled(invoice=invoice, now=now)
    invoice.save(update_fields=[*ISSUED_FIELDS, *closed])
    invoice_post_issue(invoice=invoice, tenant=tenant)
    # Its ZATCA record; the stamp and the clearance run after this transaction commits.
    zatca_document_register(invoice=invoice)
    return invoice


Billable = tuple[int, Decimal, Decimal]  # settlement id, VAT rate, fee net of reductions


def _billable(*, tenant: Tenant, currency: str, end: datetime) -> list[Billable]:
    """(settlement id, VAT rate, fee net of reductions) of every pending settlement paid before
    `end`, locked. Two statements: the lock first, then the amounts, so fee reductions a
    concurrent refund committed while we waited for a row are seen (a new snapshot)."""
    ids = list(
        SettlementRecord.objects.filter(
            tenant=tenant,
            currency=currency,
            status=SettlementRecord.Status.PENDING,
            payment_paid_at__lt=end,
        )
        .order_by("pk")
        .select_for_update()
        .values_list("pk", flat=True)
    )
    if not ids:
        return []
    money = DecimalField(max_digits=14, decimal_places=3)
    reductions = (
        SettlementAdjustment.objects.filter(settlement=OuterRef("pk"))
        .order_by()
        .values("settlement")
        .annotate(total=Sum("fee_delta"))
        .values("total")
    )
    rows = (
        SettlementRecord.objects.filter(pk__in=ids, status=SettlementRecord.Status.PENDING)
        .annotate(
            reduced=Coalesce(Subquery(reductions, output_field=money), Value(Decimal(0))),
            # Only the snapshot's rate (None when absent), not the whole snapshot to decode.
            snapshot_vat_rate=KeyTransform("vat_rate", "fee_breakdown"),
        )
        .order_by("pk")
        .values_list("pk", "snapshot_vat_rate", "wasla_fee", "reduced")
    )
    return [
        (pk, Decimal(vat_rate or PRE_ENGINE_VAT_RATE), fee + reduced)
        for pk, vat_rate, fee, reduced in rows
    ]


def invoice_generate_for_period(
    *, tenant: Tenant, year: int, month: int, now: datetime, currency: str = "SAR"
) -> Invoice | None:
    """The tenant's invoice in `currency` for a month that has ended (see `invoice_generate`)."""
    return invoice_generate(
        tenant=tenant, year=year, month=month, now=now, currency=currency
    ).invoice


@dataclass(frozen=True)
class Generated:
    invoice: Invoice | None
    created: bool  # False: the month's invoice existed already, or there was nothing to bill


def invoice_generate(
    *, tenant: Tenant, year: int, month: int, now: datetime, currency: str = "SAR"
) -> Generated:
    """The tenant's invoice in `currency` for a calendar month (Asia/Riyadh) that has ended.

    Bills the pending settlements paid in that month and the earlier ones not billed yet,
    reversed ones excluded, each at its fee net of the reductions already recorded. Returns the
    invoice already made for that month if there is one (a second run changes nothing), None
    when there is no fee to bill. Raises PeriodNotEnded, or TaxProfileIncomplete listing what
    is missing, with nothing written.
    """
    end = period_check(year=year, month=month, now=now)
    with transaction.atomic():
        locked = Tenant.objects.select_for_update().get(pk=tenant.pk)
        existing = (
            Invoice.objects.filter(tenant=locked, year=year, month=month, currency=currency)
            .exclude(status=Invoice.Status.VOID)
            .first()
        )
        if existing is not None:
            return Generated(existing, created=False)
        billable = _billable(tenant=locked, currency=currency, end=end)
        lines = invoice_lines_compute(
            fees=[(rate, fee) for _, rate, fee in billable], currency=currency
        )
        subtotal = sum((line.net_amount for line in lines), Decimal(0))
        if subtotal <= 0:
            return Generated(None, created=False)
        problems = tenant_tax_profile_problems(locked)
        if problems:
            raise TaxProfileIncomplete(problems)
        seller_problems = seller_profile().problems()
        if seller_problems:
            raise InvoicingError("seller profile (WASLA_SELLER_*): " + "; ".join(seller_problems))
        vat_total = sum((line.vat_amount for line in lines), Decimal(0))
        invoice = Invoice.objects.create(
            tenant=locked,
            currency=currency,
            year=year,
            month=month,
            total_operations=len(billable),
            subtotal=subtotal,
            vat_total=vat_total,
            total=subtotal + vat_total,
            amount_due=subtotal + vat_total,
        )
        InvoiceLine.objects.bulk_create(
            InvoiceLine(
                tenant=locked,
                invoice=invoice,
                position=position,
                description_ar=FEE_LINE_AR,
                description_en=FEE_LINE_EN,
                quantity=line.quantity,
                unit_price=line.unit_price,
                net_amount=line.net_amount,
                vat_rate=line.vat_rate,
                vat_amount=line.vat_amount,
            )
            for position, line in enumerate(lines, start=1)
        )
        InvoiceSettlement.objects.bulk_create(
            InvoiceSettlement(tenant=locked, invoice=invoice, settlement_id=pk, fee=fee)
            for pk, _, fee in billable
        )
        # Invoiced before the issue: an invoice the merchant's credit covers is paid at issue,
        # and so are its settlements.
        marked = SettlementRecord.objects.filter(
            pk__in=[pk for pk, _, _ in billable], status=SettlementRecord.Status.PENDING
        ).update(status=SettlementRecord.Status.INVOICED)
        if marked != len(billable):  # impossible under the locks; never bill a moved settlement
            raise InvoicingError(f"{len(billable) - marked} settlement(s) changed during the run")
        invoice_issue(invoice=invoice, tenant=locked, now=now)
        return Generated(invoice, created=True)
