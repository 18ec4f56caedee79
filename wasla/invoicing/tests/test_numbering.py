"""Gap-free numbers (docs/invariants.md, invariant 9): concurrent issues across tenants take
consecutive numbers, none twice; an issue that rolls back gives its number back; two runs for one
tenant at once make one invoice. Real threads, each with its own connection, behind a barrier."""

from __future__ import annotations

import pytest
from django.db import transaction

from testsupport.invoicing import make_invoiceable_tenant, paid_payment_at, riyadh, run_month
from testsupport.threads import in_threads
from wasla.invoicing.models import DocumentCounter, Invoice
from wasla.ledger.models import LedgerTransaction


def _last_number() -> int:
    counter = DocumentCounter.objects.filter(series="invoice").first()
    return counter.last_number if counter else 0


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_issues_across_tenants_take_consecutive_numbers(
    close_thread_connections,
):
    tenants = [make_invoiceable_tenant() for _ in range(20)]
    for tenant in tenants:
        paid_payment_at(tenant, riyadh(2026, 1, 5))
    before = _last_number()

    invoices = in_threads(20, lambda i: run_month(tenants[i], 2026, 1))

    assert all(isinstance(invoice, Invoice) for invoice in invoices), invoices
    assert sorted(invoice.number for invoice in invoices) == list(range(before + 1, before + 21))
    assert _last_number() == before + 20


@pytest.mark.django_db
def test_an_issue_that_rolls_back_gives_its_number_back():
    first, second = make_invoiceable_tenant(), make_invoiceable_tenant()
    for tenant in (first, second):
        paid_payment_at(tenant, riyadh(2026, 1, 5))
    before = _last_number()

    taken: list[int | None] = []

    def issue_then_fail() -> None:
        with transaction.atomic():
            rolled_back = run_month(first, 2026, 1)
            taken.append(rolled_back.number if rolled_back else None)
            raise RuntimeError("the issuing transaction fails after the number was taken")

    with pytest.raises(RuntimeError):
        issue_then_fail()

    assert taken == [before + 1]

    assert not Invoice.objects.filter(tenant=first).exists()
    assert run_month(second, 2026, 1).number == before + 1
    assert run_month(first, 2026, 1).number == before + 2
    assert run_month(first, 2026, 1).display_number == f"INV-{before + 2:06d}"


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("repeat", range(5))
def test_concurrent_runs_for_one_tenant_make_one_invoice(close_thread_connections, repeat):
    tenant = make_invoiceable_tenant()
    for day in (3, 4, 5):
        paid_payment_at(tenant, riyadh(2026, 1, day))

    invoices = in_threads(8, lambda i: run_month(tenant, 2026, 1))

    assert all(isinstance(invoice, Invoice) for invoice in invoices), invoices
    assert {invoice.pk for invoice in invoices} == {invoices[0].pk}
    assert Invoice.objects.filter(tenant=tenant).count() == 1
    assert invoices[0].total_operations == 3
    postings = LedgerTransaction.objects.filter(tenant=tenant, entry_type="invoice")
    assert postings.count() == 1
