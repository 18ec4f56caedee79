"""The monthly run: once per month whatever the number of runs, refused before the month ends,
nothing for no fees, nothing half-made for an incomplete tax profile; the command reports every
tenant and one tenant's failure does not stop the others; constant statements per tenant."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from testsupport.factories import make_attempt, make_order, make_tenant
from testsupport.invoicing import (
    clock_at,
    make_invoiceable_tenant,
    paid_payment_at,
    riyadh,
    run_month,
)
from testsupport.payments import cod_config, settled_at
from wasla.invoicing.models import DocumentCounter, Invoice
from wasla.invoicing.services import (
    PeriodNotEnded,
    TaxProfileIncomplete,
    invoice_generate_for_period,
)
from wasla.invoicing.tasks import generate_previous_month
from wasla.ledger.models import LedgerTransaction
from wasla.settlement.models import SettlementRecord
from wasla.tenants.context import tenant_context

pytestmark = pytest.mark.django_db


def _counter() -> int:
    counter = DocumentCounter.objects.filter(series="invoice").first()
    return counter.last_number if counter else 0


def test_a_second_run_returns_the_same_invoice_and_changes_nothing():
    tenant = make_invoiceable_tenant()
    paid_payment_at(tenant, riyadh(2026, 1, 9))
    first = run_month(tenant, 2026, 1)
    number, postings = _counter(), LedgerTransaction.objects.filter(tenant=tenant).count()

    # A payment of January whose webhook came after the run waits for February's invoice.
    paid_payment_at(tenant, riyadh(2026, 1, 30))
    again = run_month(tenant, 2026, 1)

    assert again == first
    assert again.total == first.total == Decimal("1.15")
    assert _counter() == number
    assert LedgerTransaction.objects.filter(tenant=tenant).count() == postings + 1  # its fee
    assert SettlementRecord.objects.filter(tenant=tenant, status="pending").count() == 1
    assert run_month(tenant, 2026, 2).total_operations == 1


def test_a_month_that_has_not_ended_in_riyadh_is_refused():
    tenant = make_invoiceable_tenant()
    paid_payment_at(tenant, riyadh(2026, 1, 9))
    with pytest.raises(PeriodNotEnded, match="2026-01 ends at 2026-02-01T00:00:00\\+03:00"):
        invoice_generate_for_period(
            tenant=tenant, year=2026, month=1, now=datetime(2026, 1, 31, 20, 59, tzinfo=UTC)
        )
    assert not Invoice.objects.filter(tenant=tenant).exists()


def test_no_fees_no_invoice():
    assert run_month(make_invoiceable_tenant(), 2026, 1) is None
    assert not Invoice.objects.exists()


def test_an_incomplete_tax_profile_is_listed_and_nothing_is_made():
    tenant = make_tenant(legal_name_en="Half Done Co.", vat_number="123")
    paid_payment_at(tenant, riyadh(2026, 1, 9))
    counter, postings = _counter(), LedgerTransaction.objects.filter(tenant=tenant).count()

    with pytest.raises(TaxProfileIncomplete) as refused:
        run_month(tenant, 2026, 1)

    assert "legal name (Arabic) is missing" in refused.value.problems
    assert any(p.startswith("VAT registration number is invalid") for p in refused.value.problems)
    assert not Invoice.objects.filter(tenant=tenant).exists()
    assert SettlementRecord.objects.get(tenant=tenant).status == "pending"
    assert (_counter(), LedgerTransaction.objects.filter(tenant=tenant).count()) == (
        counter,
        postings,
    )


def _broken_settlement(tenant) -> None:
    """A settlement in a currency the platform does not know: the run cannot price it."""
    attempt = make_attempt(cod_config(tenant), make_order(tenant), status="paid")
    SettlementRecord.objects.create(
        tenant=tenant,
        order=attempt.order,
        payment_attempt=attempt,
        currency="XTS",
        gross_amount=Decimal(10),
        wasla_fee=Decimal(1),
        net_amount=Decimal(9),
        payment_paid_at=riyadh(2026, 1, 9),
    )


def test_the_command_reports_every_tenant_and_goes_on_after_a_failure():
    broken = make_invoiceable_tenant("a-broken")
    _broken_settlement(broken)
    billed = make_invoiceable_tenant("b-billed")
    paid_payment_at(billed, riyadh(2026, 1, 9))
    make_invoiceable_tenant("c-idle")
    unprofiled = make_tenant("d-unprofiled")
    paid_payment_at(unprofiled, riyadh(2026, 1, 9))
    out = StringIO()

    with pytest.raises(CommandError, match="invoicing failed for a-broken") as failed:
        call_command("generate_invoices", "--year", "2026", "--month", "1", "--json", stdout=out)

    assert failed.value.returncode == 1
    report = {row["tenant"]: row for row in json.loads(out.getvalue())["tenants"]}
    assert report["a-broken"]["outcome"] == "failed"
    assert "XTS" in report["a-broken"]["error"]
    invoice = Invoice.objects.get(tenant=billed)
    assert report["b-billed"]["outcome"] == "issued"
    assert report["b-billed"]["invoices"] == [
        {"number": invoice.display_number, "currency": "SAR", "total": "1.15"}
    ]
    assert report["c-idle"]["outcome"] == "nothing"
    assert report["d-unprofiled"]["outcome"] == "skipped"
    assert "city is missing" in report["d-unprofiled"]["problems"]
    assert not Invoice.objects.filter(tenant=broken).exists()


def test_the_command_text_report_a_rerun_and_a_month_not_over():
    tenant = make_invoiceable_tenant("nakheel")
    paid_payment_at(tenant, riyadh(2026, 1, 9))
    call_command("generate_invoices", "--year", "2026", "--month", "1", stdout=StringIO())
    out = StringIO()
    call_command(
        "generate_invoices", "--year", "2026", "--month", "1", "--tenant", "nakheel", stdout=out
    )
    number = Invoice.objects.get(tenant=tenant).display_number
    assert out.getvalue() == f"nakheel: already invoiced {number} (1.15 SAR)\n"
    with pytest.raises(CommandError, match="cannot be invoiced before then"):
        call_command("generate_invoices", "--year", "2999", "--month", "1", stdout=StringIO())
    with pytest.raises(CommandError, match="no tenant 'nobody'"):
        call_command("generate_invoices", "--year", "2026", "--month", "1", "--tenant", "nobody")


def test_the_beat_task_invoices_the_month_before_today_in_riyadh():
    tenant = make_invoiceable_tenant()
    paid_payment_at(tenant, riyadh(2025, 12, 31, 23))
    with clock_at(riyadh(2026, 1, 1, 3)):
        assert generate_previous_month() == 0
    assert Invoice.objects.get(tenant=tenant).month == 12


def _statements_of_a_run(settlements: int) -> int:
    tenant = make_invoiceable_tenant()
    for _ in range(settlements):
        settled_at(tenant, datetime(2026, 1, 9, tzinfo=UTC))
    with tenant_context(tenant.pk), CaptureQueriesContext(connection) as run:
        invoice = invoice_generate_for_period(
            tenant=tenant, year=2026, month=1, now=riyadh(2026, 2, 1)
        )
    assert invoice.total_operations == settlements
    return len(run.captured_queries)


def test_a_run_takes_as_many_statements_for_a_hundred_settlements_as_for_one():
    assert _statements_of_a_run(100) == _statements_of_a_run(1)
