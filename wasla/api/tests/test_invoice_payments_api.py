"""An invoice in the merchant API lists the money received on it (SPEC §6: method `manual` or
`stripe`, amount as a string, paid_on, reference) and the merchant credit applied at issue; a
list page costs the same queries whatever the number of invoices on it."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from testsupport.credit_notes import issued_credit_note
from testsupport.factories import api_client_for
from testsupport.invoicing import make_invoiceable_tenant, paid_payment_at, riyadh, run_month
from wasla.invoicing.models import Invoice, InvoicePayment
from wasla.invoicing.payments import invoice_payment_record
from wasla.tenants.models import Tenant

pytestmark = pytest.mark.django_db


def _invoice(tenant: Tenant, month: int) -> Invoice:
    paid_payment_at(tenant, riyadh(2026, month, 2))
    paid_payment_at(tenant, riyadh(2026, month, 3))
    invoice = run_month(tenant, 2026, month)
    assert invoice is not None
    return invoice


def _pay(invoice: Invoice, amount: str, reference: str, method: InvoicePayment.Method) -> None:
    invoice_payment_record(
        invoice=invoice,
        amount=Decimal(amount),
        paid_on=date(2026, invoice.month + 1, 5),
        reference=reference,
        method=method,
        actor="finance",
        now=riyadh(2026, invoice.month + 1, 5),
    )


def test_an_invoice_reads_its_payments_and_the_credit_applied():
    tenant = make_invoiceable_tenant()
    invoice = _invoice(tenant, 1)  # 2.00 + 0.30 VAT
    _pay(invoice, "1.00", "FT-100", InvoicePayment.Method.BANK_TRANSFER)
    _pay(invoice, "1.30", "pi_123", InvoicePayment.Method.CARD)

    body = api_client_for(tenant).get(f"/api/v1/invoices/{invoice.pk}/").json()

    assert body["payments"] == [
        {"method": "manual", "amount": "1.00", "paid_on": "2026-02-05", "reference": "FT-100"},
        {"method": "stripe", "amount": "1.30", "paid_on": "2026-02-05", "reference": "pi_123"},
    ]
    assert (body["status"], body["amount_paid"], body["amount_due"]) == ("paid", "2.30", "0.00")
    assert body["credit_applied"] == "0.00"
    assert body["credit_notes"] == []


def _list_queries(tenant: Tenant) -> tuple[int, int]:
    client = api_client_for(tenant)
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/api/v1/invoices/")
    assert response.status_code == 200
    return len(response.json()["results"]), len(queries)


def test_the_list_query_count_does_not_grow_with_invoices():
    tenant = make_invoiceable_tenant()
    first = _invoice(tenant, 1)
    _pay(first, "1.00", "FT-1", InvoicePayment.Method.BANK_TRANSFER)
    issued_credit_note(first, issued_at=riyadh(2026, 2, 6))
    one, baseline = _list_queries(tenant)

    for month in (2, 3, 4):
        invoice = _invoice(tenant, month)
        _pay(invoice, "1.00", f"FT-{month}", InvoicePayment.Method.BANK_TRANSFER)
        _pay(invoice, "0.50", f"pi_{month}", InvoicePayment.Method.CARD)
        issued_credit_note(invoice, issued_at=riyadh(2026, month + 1, 6))
    four, after = _list_queries(tenant)

    assert (one, four) == (1, 4)
    assert after == baseline
