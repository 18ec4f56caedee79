"""Invoicing test helpers: a complete tax profile, payments confirmed at a chosen moment through
the real confirmation service, the monthly run as the command runs it, a fee plan whose refunds
give fees back, a bank transfer recorded on an invoice at a chosen moment, and the ledger
check."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from io import StringIO
from unittest import mock
from zoneinfo import ZoneInfo

from django.core.management import call_command

from wasla.invoicing.models import Invoice, InvoicePayment
from wasla.invoicing.payments import RecordedPayment, invoice_payment_record
from wasla.invoicing.services import invoice_generate_for_period
from wasla.payments.models import PaymentAttempt
from wasla.settlement.models import FeePlan
from wasla.tenants.context import tenant_context
from wasla.tenants.models import Tenant

from .factories import make_tenant
from .payments import paid_payment

RIYADH = ZoneInfo("Asia/Riyadh")

TAX_PROFILE: dict[str, str] = {
    "legal_name_ar": "مؤسسة النخيل للتجارة",
    "legal_name_en": "Al Nakheel Trading Est.",
    "vat_number": "310122393500003",
    "cr_number": "1010101010",
    "building_number": "7431",
    "street": "Prince Sultan Street",
    "district": "Al Rawdah",
    "city": "Jeddah",
    "postal_code": "23435",
    "country_code": "SA",
}


def with_tax_profile(tenant: Tenant, **overrides: str) -> Tenant:
    """`tenant` with a complete, valid tax profile (fields overridden as given)."""
    for name, value in {**TAX_PROFILE, **overrides}.items():
        setattr(tenant, name, value)
    tenant.save()
    return tenant


def make_invoiceable_tenant(slug: str | None = None) -> Tenant:
    return with_tax_profile(make_tenant(slug))


def riyadh(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=RIYADH)


@contextmanager
def clock_at(moment: datetime) -> Iterator[None]:
    """The product's clock (`django.utils.timezone.now`) reads `moment` for the block: the
    payment services take their confirmation time from it, as from a provider's event. In UTC,
    as the real clock reads (the ledger hashes the time as it will read it back)."""
    with mock.patch("django.utils.timezone.now", return_value=moment.astimezone(UTC)):
        yield


def paid_payment_at(
    tenant: Tenant, moment: datetime, amount: str = "100.00", currency: str = "SAR"
) -> PaymentAttempt:
    """A payment confirmed at `moment` through `payment_apply_result` (settlement, ledger)."""
    with clock_at(moment):
        return paid_payment(tenant, amount, currency)


def run_month(tenant: Tenant, year: int, month: int, currency: str = "SAR") -> Invoice | None:
    """The monthly run for one tenant, in its scope, at the first moment the month is over."""
    now = riyadh(year + month // 12, month % 12 + 1, 1)
    with tenant_context(tenant.pk):
        return invoice_generate_for_period(
            tenant=tenant, year=year, month=month, now=now, currency=currency
        )


def percentage_fee_plan() -> FeePlan:
    """A "standard" version in force since 2025: 1.00 SAR + 2.5 %, the percentage given back on
    a partial refund and the whole fee on a full one (the default refund policy)."""
    latest = FeePlan.objects.filter(code="standard").order_by("-version").first()
    return FeePlan.objects.create(
        code="standard",
        name="Standard",
        version=(latest.version if latest else 0) + 1,
        currency="SAR",
        fixed_fee=Decimal("1.00"),
        percentage=Decimal("2.5"),
        effective_from=datetime(2025, 1, 1, tzinfo=UTC),
    )


def ledger_verified() -> str:
    """`manage.py verify_ledger`'s report; it raises (CommandError) on any fault."""
    out = StringIO()
    call_command("verify_ledger", stdout=out)
    return out.getvalue()


def bank_transfer_at(
    invoice: Invoice, moment: datetime, amount: Decimal, reference: str
) -> RecordedPayment:
    """A bank transfer of `amount` staff record on `invoice` at `moment` (the product's clock
    too, so its ledger posting is dated then), through `invoice_payment_record`."""
    with clock_at(moment):
        return invoice_payment_record(
            invoice=invoice,
            amount=amount,
            paid_on=moment.astimezone(RIYADH).date(),
            reference=reference,
            method=InvoicePayment.Method.BANK_TRANSFER,
            actor="finance@wasla.test",
            now=moment,
        )
