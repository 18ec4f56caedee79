"""Payments received on an invoice: partial payments add up and the last one closes it (once),
the same transfer recorded twice changes nothing, more than is due is refused (also when two
recordings race), the books follow (Receivable back to zero, Bank what was paid), and the
database refuses to lower what was paid or to rewrite a recorded payment."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction

from testsupport.invoicing import (
    ledger_verified,
    make_invoiceable_tenant,
    paid_payment_at,
    riyadh,
    run_month,
)
from testsupport.payments import balance
from testsupport.staff import staff_login
from testsupport.threads import in_threads
from wasla.invoicing.models import Invoice, InvoicePayment
from wasla.invoicing.payments import PaymentRefused, RecordedPayment, invoice_payment_record
from wasla.ledger.accounts import AccountRole
from wasla.ledger.models import LedgerTransaction
from wasla.settlement.models import SettlementRecord
from wasla.tenants.context import no_scope, tenant_context

D = Decimal
BANK = InvoicePayment.Method.BANK_TRANSFER
NOW = riyadh(2026, 2, 10, 9)


def _invoice(amount: str = "1000.00") -> Invoice:
    """An issued invoice of one payment; the default plan's fee (1.00) + VAT: 1.15 SAR."""
    tenant = make_invoiceable_tenant()
    paid_payment_at(tenant, riyadh(2026, 1, 10), amount)
    paid_payment_at(tenant, riyadh(2026, 1, 11), amount)
    invoice = run_month(tenant, 2026, 1)
    assert invoice is not None
    assert invoice.total == D("2.30")
    return invoice


def _pay(invoice: Invoice, amount: str, reference: str, **kwargs: object) -> RecordedPayment:
    fields: dict[str, object] = {
        "amount": D(amount),
        "paid_on": date(2026, 2, 9),
        "reference": reference,
        "method": BANK,
        "actor": "finance",
        "now": NOW,
        **kwargs,
    }
    with tenant_context(invoice.tenant_id):
        return invoice_payment_record(invoice=invoice, **fields)  # type: ignore[arg-type]


def _payments_posted(invoice: Invoice) -> int:
    return LedgerTransaction.objects.filter(
        tenant_id=invoice.tenant_id, entry_type="payment", reference_id=f"invoice:{invoice.pk}"
    ).count()


@pytest.mark.django_db
def test_a_partial_payment_and_the_rest_close_the_invoice_once():
    invoice = _invoice()
    tenant = invoice.tenant

    first = _pay(invoice, "1.00", "FT-1")
    assert first.created
    assert (first.invoice.status, first.invoice.amount_paid, first.invoice.amount_due) == (
        "issued",
        D("1.00"),
        D("1.30"),
    )
    assert first.invoice.paid_at is None
    assert set(SettlementRecord.objects.filter(tenant=tenant).values_list("status", flat=True)) == {
        "invoiced"
    }

    rest = _pay(invoice, "1.30", "FT-2")
    fresh = Invoice.objects.get(pk=invoice.pk)
    assert rest.created
    assert (fresh.status, fresh.amount_paid, fresh.amount_due) == ("paid", D("2.30"), D("0"))
    assert fresh.paid_at == NOW
    assert set(SettlementRecord.objects.filter(tenant=tenant).values_list("status", flat=True)) == {
        "paid"
    }
    assert _payments_posted(invoice) == 2
    assert balance(tenant, AccountRole.RECEIVABLE) == D("0")
    assert balance(tenant, AccountRole.BANK) == D("2.30")
    assert balance(tenant, AccountRole.UNBILLED) == D("0")
    assert ledger_verified() == "ledger ok\n"

    # Paid: nothing more is taken, and the paid time stays.
    with pytest.raises(PaymentRefused, match="is paid: only an issued invoice takes payments"):
        _pay(invoice, "0.01", "FT-3")
    assert Invoice.objects.get(pk=invoice.pk).paid_at == NOW


@pytest.mark.django_db
def test_the_same_transfer_recorded_twice_changes_nothing():
    invoice = _invoice()
    _pay(invoice, "1.00", "FT-1")
    again = _pay(invoice, "1.00", " FT-1 ", now=riyadh(2026, 2, 11))
    assert not again.created
    assert again.payment.recorded_at == NOW
    assert InvoicePayment.objects.filter(invoice=invoice).count() == 1
    assert _payments_posted(invoice) == 1
    assert Invoice.objects.get(pk=invoice.pk).amount_paid == D("1.00")
    twice = r"FT-1' was recorded on INV-\d+ already, for 1\.00 SAR"
    with pytest.raises(PaymentRefused, match=twice):
        _pay(invoice, "1.10", "FT-1")
    # The same reference by card is another payment.
    card = _pay(invoice, "0.50", "FT-1", method=InvoicePayment.Method.CARD)
    assert card.created
    assert balance(invoice.tenant, AccountRole.STRIPE_CLEARING) == D("0.50")
    assert balance(invoice.tenant, AccountRole.BANK) == D("1.00")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("amount", "reason"),
    [
        ("2.31", r"2\.31 SAR is more than the 2.30 SAR due on INV-"),
        ("0", "must be a positive number"),
        ("-1.00", "must be a positive number"),
        ("1.001", "not an exact amount of SAR"),
    ],
)
def test_an_amount_that_cannot_be_paid_is_refused_and_nothing_is_written(amount, reason):
    invoice = _invoice()
    with pytest.raises(PaymentRefused, match=reason):
        _pay(invoice, amount, "FT-1")
    assert not InvoicePayment.objects.exists()
    assert _payments_posted(invoice) == 0
    assert Invoice.objects.get(pk=invoice.pk).amount_due == D("2.30")


@pytest.mark.django_db
def test_a_draft_takes_no_payment(tenant):
    draft = Invoice.objects.create(tenant=tenant, year=2026, month=1)
    with pytest.raises(PaymentRefused, match="is draft"):
        _pay(draft, "1.00", "FT-1")
    with pytest.raises(PaymentRefused, match="needs its bank or provider reference"):
        _pay(draft, "1.00", "  ")


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_payments_that_exceed_the_due_amount_one_is_refused(
    close_thread_connections,
):
    invoice = _invoice()  # 2.30 due; 1.50 + 1.50 would be 3.00

    results = in_threads(2, lambda i: _pay(invoice, "1.50", f"FT-{i}"))

    refused = [r for r in results if isinstance(r, PaymentRefused)]
    recorded = [r for r in results if isinstance(r, RecordedPayment)]
    assert len(refused) == 1, results
    assert len(recorded) == 1, results
    assert "more than the 0.80 SAR due" in str(refused[0])
    fresh = Invoice.objects.get(pk=invoice.pk)
    assert (fresh.amount_paid, fresh.amount_due, fresh.status) == (D("1.50"), D("0.80"), "issued")
    assert InvoicePayment.objects.filter(invoice=invoice).count() == 1
    assert _payments_posted(invoice) == 1
    assert balance(invoice.tenant, AccountRole.RECEIVABLE) == D("0.80")
    assert ledger_verified() == "ledger ok\n"


def _raw(sql: str, params: list[object]) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


@pytest.mark.django_db
def test_raw_sql_cannot_lower_what_was_paid_nor_rewrite_a_payment():
    invoice = _invoice()
    payment = _pay(invoice, "1.00", "FT-1").payment
    for sql, params in [
        (
            "UPDATE invoicing_invoice SET amount_paid = 0, amount_due = total WHERE id = %s",
            [invoice.pk],
        ),
        (
            "UPDATE invoicing_invoice SET amount_paid = 3.00, amount_due = -0.70 WHERE id = %s",
            [invoice.pk],
        ),
        ("UPDATE invoicing_invoicepayment SET amount = 2.00 WHERE id = %s", [payment.pk]),
        ("UPDATE invoicing_invoicepayment SET reference = 'x' WHERE id = %s", [payment.pk]),
        ("DELETE FROM invoicing_invoicepayment WHERE id = %s", [payment.pk]),
    ]:
        with pytest.raises(IntegrityError), transaction.atomic():
            _raw(sql, params)
    fresh = Invoice.objects.get(pk=invoice.pk)
    assert (fresh.amount_paid, fresh.amount_due) == (D("1.00"), D("1.30"))
    assert InvoicePayment.objects.get(pk=payment.pk).amount == D("1.00")


@pytest.mark.django_db
def test_the_command_records_a_transfer_by_invoice_number():
    invoice = _invoice()
    out = StringIO()
    args = [invoice.display_number, "--amount", "2.30", "--reference", "FT-9"]
    call_command("record_invoice_payment", *args, "--paid-on", "2026-02-03", stdout=out)
    recorded = f"{invoice.display_number}: recorded 2.30 SAR (FT-9); due 0.00 SAR, paid\n"
    assert out.getvalue() == recorded
    payment = InvoicePayment.objects.get(invoice=invoice)
    assert (payment.paid_on, payment.method) == (date(2026, 2, 3), "bank_transfer")
    assert payment.recorded_by.startswith("command:")

    out = StringIO()
    call_command("record_invoice_payment", *args, stdout=out)
    assert "already recorded, nothing changed" in out.getvalue()
    assert _payments_posted(invoice) == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("number", "extra", "message"),
    [
        ("INV-999999", [], "no invoice INV-999999"),
        ("bogus", [], "'bogus' is not an invoice number"),
        (None, ["--tenant", "someone-else"], "no invoice INV-"),
        (None, ["--amount", "9.00"], "9.00 SAR is more than the 2.30 SAR due"),
        (None, ["--amount", "abc"], "'abc' is not an amount"),
    ],
)
def test_the_command_refuses_with_a_clear_reason(number, extra, message):
    invoice = _invoice()
    args = [number or invoice.display_number, "--amount", "1.00", "--reference", "FT-1", *extra]
    with pytest.raises(CommandError, match=message) as error:
        call_command("record_invoice_payment", *args, stdout=StringIO())
    assert error.value.returncode == 1
    assert not InvoicePayment.objects.exists()


@pytest.mark.django_db
def test_staff_record_a_transfer_in_the_admin(client):
    invoice = _invoice()
    staff = get_user_model().objects.create_user(
        "finance", password="x", is_staff=True, is_superuser=True
    )
    staff_login(client, staff)
    url = f"/admin/invoicing/invoice/{invoice.pk}/record-payment/"
    with no_scope():
        page = client.get(f"/admin/invoicing/invoice/{invoice.pk}/change/")
        form = client.get(url)
        too_much = client.post(url, {"amount": "5.00", "paid_on": "2026-02-03", "reference": "A"})
        done = client.post(url, {"amount": "2.30", "paid_on": "2026-02-03", "reference": "A"})
    assert url in page.text
    assert form.status_code == 200
    assert "2.30" in form.text
    assert too_much.status_code == 200
    assert "more than the 2.30 SAR due" in too_much.text
    assert done.status_code == 302
    payment = InvoicePayment.objects.get(invoice=invoice)
    assert payment.recorded_by == "admin:finance"
    assert Invoice.objects.get(pk=invoice.pk).status == "paid"


@pytest.mark.django_db
def test_staff_without_the_permission_cannot_record(client):
    invoice = _invoice()
    clerk = get_user_model().objects.create_user("clerk", password="x", is_staff=True)
    staff_login(client, clerk)
    with no_scope():
        response = client.post(
            f"/admin/invoicing/invoice/{invoice.pk}/record-payment/",
            {"amount": "2.30", "paid_on": "2026-02-03", "reference": "A"},
        )
    assert response.status_code == 403
    assert not InvoicePayment.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["INV-" + "9" * 30, "--amount", "1.00"], "is not an invoice number"),
        ([None, "--amount", "NaN"], "must be a positive number"),
        ([None, "--amount", "1e309"], "must be a positive number|not an exact amount"),
        ([None, "--amount", "1.00", "--reference", "FT\x00-2"], "printable text"),
        ([None, "--amount", "1.00", "--reference", "F" * 101], "at most 100 characters"),
    ],
)
def test_the_command_refuses_malformed_input_without_touching_the_database(args, message):
    invoice = _invoice()
    args = [args[0] or invoice.display_number, *args[1:]]
    if "--reference" not in args:
        args += ["--reference", "FT-1"]
    with pytest.raises(CommandError, match=message):
        call_command("record_invoice_payment", *args, stdout=StringIO())
    assert not InvoicePayment.objects.exists()
