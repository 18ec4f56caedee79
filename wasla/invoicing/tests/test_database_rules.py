"""Issued documents are final (docs/invariants.md, invariant 9), enforced by PostgreSQL: raw SQL
that bypasses the ORM cannot change an issued invoice's amounts, number, period or lines, nor
delete it, nor lower a number series; the owner of the tables cannot either."""

from __future__ import annotations

from decimal import Decimal

import psycopg
import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from testsupport.database import database_owner
from testsupport.invoicing import make_invoiceable_tenant, paid_payment_at, riyadh, run_month
from wasla.invoicing.models import (
    CreditNote,
    CreditNoteLine,
    DocumentCounter,
    DocumentSeries,
    Invoice,
    InvoiceLine,
)
from wasla.invoicing.numbering import document_number_next

REFUSED_ON_AN_ISSUED_INVOICE = [
    "UPDATE invoicing_invoice SET subtotal = subtotal + 1, total = total + 1,"
    " amount_due = amount_due + 1 WHERE id = %(invoice)s",
    "UPDATE invoicing_invoice SET vat_total = 0, total = subtotal, amount_due = subtotal"
    " WHERE id = %(invoice)s",
    "UPDATE invoicing_invoice SET number = number + 1000 WHERE id = %(invoice)s",
    "UPDATE invoicing_invoice SET month = 2 WHERE id = %(invoice)s",
    "UPDATE invoicing_invoice SET currency = 'USD' WHERE id = %(invoice)s",
    "UPDATE invoicing_invoice SET issued_at = now() WHERE id = %(invoice)s",
    "UPDATE invoicing_invoice SET status = 'draft' WHERE id = %(invoice)s",
    "UPDATE invoicing_invoice SET status = 'void' WHERE id = %(invoice)s",
    "DELETE FROM invoicing_invoice WHERE id = %(invoice)s",
    "UPDATE invoicing_invoiceline SET net_amount = 0 WHERE invoice_id = %(invoice)s",
    "UPDATE invoicing_invoiceline SET description_en = 'forged' WHERE invoice_id = %(invoice)s",
    "DELETE FROM invoicing_invoiceline WHERE invoice_id = %(invoice)s",
    "INSERT INTO invoicing_invoiceline (tenant_id, invoice_id, position, description_ar,"
    " description_en, quantity, unit_price, net_amount, vat_rate, vat_amount)"
    " SELECT tenant_id, id, 9, 'x', 'x', 1, 1, 1, 15, 0.15 FROM invoicing_invoice"
    " WHERE id = %(invoice)s",
    "DELETE FROM invoicing_invoicesettlement WHERE invoice_id = %(invoice)s",
    "UPDATE invoicing_documentcounter SET last_number = 0",
    "DELETE FROM invoicing_documentcounter",
    "INSERT INTO invoicing_invoice (tenant_id, currency, year, month, number, total_operations,"
    " subtotal, vat_total, total, amount_paid, amount_due, due_date, status, issued_at,"
    " created_at) SELECT tenant_id, currency, year, 3, 999999, 0, 0, 0, 0, 0, 0, due_date,"
    " 'issued', now(), now() FROM invoicing_invoice WHERE id = %(invoice)s",
]


def _issued_invoice() -> Invoice:
    tenant = make_invoiceable_tenant()
    paid_payment_at(tenant, riyadh(2026, 1, 10))
    invoice = run_month(tenant, 2026, 1)
    assert invoice is not None
    return invoice


def _raw(sql: str, params: dict[str, object]) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


@pytest.mark.django_db
@pytest.mark.parametrize("sql", REFUSED_ON_AN_ISSUED_INVOICE)
def test_raw_sql_cannot_change_an_issued_invoice(sql):
    invoice = _issued_invoice()
    with pytest.raises(IntegrityError), transaction.atomic():
        _raw(sql, {"invoice": invoice.pk})
    fresh = Invoice.objects.get(pk=invoice.pk)
    assert (fresh.number, fresh.total, fresh.status) == (invoice.number, invoice.total, "issued")
    assert fresh.lines.count() == 1


@pytest.mark.django_db
def test_an_issued_invoice_can_only_be_paid_forwards():
    invoice = _issued_invoice()
    paid = _raw(
        "UPDATE invoicing_invoice SET status = 'paid', amount_paid = total, amount_due = 0,"
        " paid_at = now() WHERE id = %(invoice)s",
        {"invoice": invoice.pk},
    )
    assert paid == 1
    for backwards in (
        "UPDATE invoicing_invoice SET status = 'issued' WHERE id = %(invoice)s",
        "UPDATE invoicing_invoice SET paid_at = now() - interval '1 day' WHERE id = %(invoice)s",
        "UPDATE invoicing_invoice SET amount_paid = 0, amount_due = total WHERE id = %(invoice)s",
    ):
        with pytest.raises(IntegrityError), transaction.atomic():
            _raw(backwards, {"invoice": invoice.pk})


@pytest.mark.django_db
def test_a_draft_may_change_and_an_issued_credit_note_never(tenant):
    invoice = _issued_invoice()
    note = CreditNote.objects.create(
        tenant_id=invoice.tenant_id, invoice=invoice, currency="SAR", reason="refund"
    )
    line = CreditNoteLine.objects.create(
        tenant_id=invoice.tenant_id,
        credit_note=note,
        description_ar="رد رسوم",
        description_en="Fee refund",
        quantity=1,
        unit_price=Decimal("1.00"),
        net_amount=Decimal("1.00"),
        vat_rate=Decimal("15.00"),
        vat_amount=Decimal("0.15"),
    )
    assert _raw("UPDATE invoicing_creditnoteline SET quantity = 2 WHERE id = %(l)s", {"l": line.pk})
    with transaction.atomic():
        number = document_number_next(series=DocumentSeries.CREDIT_NOTE)
        CreditNote.objects.filter(pk=note.pk).update(
            status="issued",
            number=number,
            issued_at=timezone.now(),
            subtotal=Decimal("1.00"),
            vat_total=Decimal("0.15"),
            total=Decimal("1.15"),
            buyer_snapshot=invoice.buyer_snapshot,
            seller_snapshot=invoice.seller_snapshot,
        )
    for sql in (
        "UPDATE invoicing_creditnote SET total = 0, subtotal = 0, vat_total = 0 WHERE id = %(n)s",
        "UPDATE invoicing_creditnote SET reason = 'other' WHERE id = %(n)s",
        "DELETE FROM invoicing_creditnote WHERE id = %(n)s",
        "UPDATE invoicing_creditnoteline SET net_amount = 0 WHERE credit_note_id = %(n)s",
        "DELETE FROM invoicing_creditnoteline WHERE credit_note_id = %(n)s",
    ):
        with pytest.raises(IntegrityError), transaction.atomic():
            _raw(sql, {"n": note.pk})
    assert CreditNote.objects.get(pk=note.pk).display_number == f"CN-{number:06d}"


@pytest.mark.django_db
def test_a_document_is_born_a_draft_and_its_lines_follow_it(tenant):
    invoice = Invoice.objects.create(tenant=tenant, year=2026, month=5)
    line = InvoiceLine.objects.create(
        tenant=tenant,
        invoice=invoice,
        description_ar="x",
        description_en="x",
        quantity=1,
        unit_price=Decimal(1),
        net_amount=Decimal(1),
        vat_rate=Decimal(15),
        vat_amount=Decimal("0.15"),
    )
    assert _raw("DELETE FROM invoicing_invoiceline WHERE id = %(l)s", {"l": line.pk}) == 1
    assert _raw("DELETE FROM invoicing_invoice WHERE id = %(i)s", {"i": invoice.pk}) == 1


@pytest.mark.django_db(transaction=True)
def test_the_owner_of_the_tables_cannot_change_an_issued_invoice_either(close_thread_connections):
    invoice = _issued_invoice()
    own = connection.settings_dict
    with psycopg.connect(
        host=own["HOST"], port=own["PORT"], dbname=own["NAME"], user=database_owner()
    ) as owner:
        for sql in REFUSED_ON_AN_ISSUED_INVOICE:
            with pytest.raises(psycopg.errors.IntegrityError), owner.transaction():
                owner.execute(sql, {"invoice": invoice.pk})
    fresh = Invoice.objects.get(pk=invoice.pk)
    assert (fresh.number, fresh.total, fresh.lines.count()) == (invoice.number, invoice.total, 1)
    assert DocumentCounter.objects.get(series="invoice").last_number == invoice.number
