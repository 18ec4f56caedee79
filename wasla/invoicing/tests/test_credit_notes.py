"""Refunds after invoicing become credit notes: one per tenant and original invoice, with its
own gap-free number, VAT once per rate on the aggregate, in the books, lowering what the invoice
still has due (or, once it was paid, the merchant's credit); never twice, whatever is replayed;
and invoices less credit notes bill exactly the fees that stand (reconciliation identity)."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.db.models import Sum

from testsupport.invoicing import (
    ledger_verified,
    make_invoiceable_tenant,
    paid_payment_at,
    percentage_fee_plan,
    riyadh,
    run_month,
)
from testsupport.payments import balance, refunded
from wasla.invoicing.credit_notes import credit_notes_issue
from wasla.invoicing.merchant_credit import merchant_credit_balance
from wasla.invoicing.models import CreditNote, Invoice, InvoicePayment, MerchantCredit
from wasla.invoicing.payments import invoice_payment_record
from wasla.invoicing.tasks import issue_credit_notes
from wasla.ledger.accounts import AccountRole
from wasla.ledger.models import LedgerTransaction
from wasla.payments.providers.base import RefundResult, RefundStatus
from wasla.payments.refunds import refund_apply_result
from wasla.settlement.models import SettlementAdjustment, SettlementRecord
from wasla.tenants.models import Tenant

pytestmark = pytest.mark.django_db

D = Decimal
NOW = riyadh(2026, 2, 15, 4)


@pytest.fixture(autouse=True)
def _percentage_plan() -> None:
    percentage_fee_plan()  # 1.00 + 2.5 %: a partial refund gives the percentage part back


def _january(tenant: Tenant):  # type: ignore[no-untyped-def]
    """Two January payments (fees 6.00 and 3.50) and their invoice: 9.50 + 1.43 VAT."""
    a = paid_payment_at(tenant, riyadh(2026, 1, 9), "200.00")
    b = paid_payment_at(tenant, riyadh(2026, 1, 10), "100.00")
    invoice = run_month(tenant, 2026, 1)
    amounts = (invoice.subtotal, invoice.vat_total, invoice.total)
    assert amounts == (D("9.50"), D("1.43"), D("10.93"))
    return a, b, invoice


def test_refunds_of_invoiced_payments_become_one_credit_note():
    tenant = make_invoiceable_tenant()
    a, b, invoice = _january(tenant)
    refunded(a, "50.00")  # partial: 2.5 % of 50 = 1.25 back
    refunded(b, "100.00")  # full: the whole 3.50 back
    assert sorted(
        SettlementAdjustment.objects.filter(tenant=tenant).values_list("kind", "fee_delta")
    ) == [("credit_note_due", D("-3.50")), ("credit_note_due", D("-1.25"))]

    [note] = credit_notes_issue(now=NOW)

    assert (note.invoice_id, note.status, note.issued_at) == (invoice.pk, "issued", NOW)
    assert note.display_number == f"CN-{note.number:06d}"
    assert (note.subtotal, note.vat_total, note.total) == (D("4.75"), D("0.71"), D("5.46"))
    assert note.reason.startswith(f"Refund of payments billed on {invoice.display_number}")
    [line] = note.lines.all()
    assert (line.quantity, line.net_amount, line.vat_rate, line.vat_amount) == (
        2,
        D("4.75"),
        D("15.00"),
        D("0.71"),
    )
    assert note.adjustment_links.count() == 2
    fresh = Invoice.objects.get(pk=invoice.pk)
    assert (fresh.status, fresh.amount_credited, fresh.amount_due) == (
        "issued",
        D("5.46"),
        D("5.47"),
    )
    assert not MerchantCredit.objects.exists()
    posting = LedgerTransaction.objects.get(tenant=tenant, entry_type="credit_note")
    assert posting.idempotency_key == f"credit-note:{note.pk}"
    assert balance(tenant, AccountRole.FEE_INCOME) == D("4.75")  # 9.50 billed, 4.75 credited
    assert balance(tenant, AccountRole.VAT_OUTPUT) == D("0.72")
    assert balance(tenant, AccountRole.RECEIVABLE) == D("5.47")
    assert balance(tenant, AccountRole.UNBILLED) == D("0")
    assert ledger_verified() == "ledger ok\n"

    # What is left due is paid; the books end square.
    invoice_payment_record(
        invoice=invoice,
        amount=D("5.47"),
        paid_on=date(2026, 2, 16),
        reference="FT-1",
        method=InvoicePayment.Method.BANK_TRANSFER,
        actor="finance",
        now=NOW,
    )
    assert Invoice.objects.get(pk=invoice.pk).status == "paid"
    assert balance(tenant, AccountRole.RECEIVABLE) == D("0")
    assert balance(tenant, AccountRole.BANK) == D("5.47")


def test_running_again_or_replaying_the_refund_webhook_issues_nothing_more():
    tenant = make_invoiceable_tenant()
    a, _, _ = _january(tenant)
    refund = refunded(a, "50.00")
    assert len(credit_notes_issue(now=NOW)) == 1
    postings = LedgerTransaction.objects.filter(tenant=tenant).count()

    replayed = refund_apply_result(
        refund_id=refund.id,
        result=RefundResult(
            status=RefundStatus.SUCCEEDED,
            provider_reference=refund.provider_reference,
            amount=refund.amount,
            currency=refund.currency,
        ),
    )
    assert replayed.status == "succeeded"
    assert credit_notes_issue(now=NOW) == []
    assert issue_credit_notes() == 0

    assert CreditNote.objects.count() == 1
    assert SettlementAdjustment.objects.filter(tenant=tenant).count() == 1
    assert LedgerTransaction.objects.filter(tenant=tenant).count() == postings


def test_two_refunds_on_two_invoices_of_one_tenant_make_two_credit_notes():
    tenant = make_invoiceable_tenant()
    jan = paid_payment_at(tenant, riyadh(2026, 1, 9), "200.00")
    feb = paid_payment_at(tenant, riyadh(2026, 2, 9), "400.00")
    january, february = run_month(tenant, 2026, 1), run_month(tenant, 2026, 2)
    refunded(jan, "40.00")  # 1.00 back
    refunded(feb, "80.00")  # 2.00 back

    notes = credit_notes_issue(now=riyadh(2026, 3, 5))

    assert [(n.invoice_id, n.subtotal, n.total) for n in notes] == [
        (january.pk, D("1.00"), D("1.15")),
        (february.pk, D("2.00"), D("2.30")),
    ]
    assert notes[1].number == notes[0].number + 1
    assert Invoice.objects.get(pk=january.pk).amount_due == january.total - D("1.15")
    assert Invoice.objects.get(pk=february.pk).amount_due == february.total - D("2.30")
    assert ledger_verified() == "ledger ok\n"


def test_a_refund_after_the_invoice_was_paid_is_the_merchants_credit():
    tenant = make_invoiceable_tenant()
    a, _, invoice = _january(tenant)
    invoice_payment_record(
        invoice=invoice,
        amount=invoice.total,
        paid_on=date(2026, 2, 3),
        reference="FT-1",
        method=InvoicePayment.Method.BANK_TRANSFER,
        actor="finance",
        now=riyadh(2026, 2, 3),
    )
    refunded(a, "200.00")  # full: the whole 6.00 back

    [note] = credit_notes_issue(now=NOW)

    assert note.total == D("6.90")
    fresh = Invoice.objects.get(pk=invoice.pk)
    assert (fresh.status, fresh.amount_credited, fresh.amount_due) == ("paid", D("0"), D("0"))
    assert MerchantCredit.objects.get(credit_note=note).amount == D("6.90")
    assert merchant_credit_balance(tenant_id=tenant.pk, currency="SAR") == D("6.90")
    assert balance(tenant, AccountRole.RECEIVABLE) == D("-6.90")  # Wasla owes the merchant
    assert ledger_verified() == "ledger ok\n"


def test_a_credit_note_that_clears_what_is_due_closes_the_invoice():
    tenant = make_invoiceable_tenant()
    a = paid_payment_at(tenant, riyadh(2026, 1, 9), "200.00")
    invoice = run_month(tenant, 2026, 1)
    refunded(a, "200.00")
    [note] = credit_notes_issue(now=NOW)
    fresh = Invoice.objects.get(pk=invoice.pk)
    assert note.total == fresh.total == fresh.amount_credited
    assert (fresh.status, fresh.paid_at, fresh.amount_due) == ("paid", NOW, D("0"))
    assert SettlementRecord.objects.get(tenant=tenant).status == "paid"
    assert balance(tenant, AccountRole.RECEIVABLE) == D("0")
    assert not MerchantCredit.objects.exists()


def test_invoices_less_credit_notes_bill_exactly_the_fees_that_stand():
    tenants = [make_invoiceable_tenant(), make_invoiceable_tenant()]
    for tenant in tenants:
        a = paid_payment_at(tenant, riyadh(2026, 1, 3), "200.00")
        b = paid_payment_at(tenant, riyadh(2026, 1, 4), "333.33")
        c = paid_payment_at(tenant, riyadh(2026, 1, 5), "100.00")
        refunded(c, "40.00")  # before invoicing: a fee reduction
        run_month(tenant, 2026, 1)
        d = paid_payment_at(tenant, riyadh(2026, 2, 6), "150.00")
        refunded(a, "70.00")  # after invoicing
        refunded(b, "333.33")
        credit_notes_issue(now=NOW)
        refunded(a, "10.00")  # after the first credit note
        run_month(tenant, 2026, 2)
        refunded(d, "150.00")
    credit_notes_issue(now=riyadh(2026, 3, 2))

    for tenant in tenants:
        invoiced = Invoice.objects.filter(tenant=tenant).aggregate(s=Sum("subtotal"))["s"]
        credited = CreditNote.objects.filter(tenant=tenant).aggregate(s=Sum("subtotal"))["s"]
        billed = SettlementRecord.objects.filter(tenant=tenant, status__in=["invoiced", "paid"])
        fees = billed.aggregate(s=Sum("wasla_fee"))["s"]
        deltas = SettlementAdjustment.objects.filter(settlement__in=billed).aggregate(
            s=Sum("fee_delta")
        )["s"]
        assert CreditNote.objects.filter(tenant=tenant).count() == 3
        assert invoiced - credited == fees + deltas
        assert balance(tenant, AccountRole.FEE_INCOME) == fees + deltas
    assert ledger_verified() == "ledger ok\n"


def test_the_command_reports_the_notes_it_issued():
    tenant = make_invoiceable_tenant()
    a, _, invoice = _january(tenant)
    refunded(a, "50.00")
    out = StringIO()
    call_command("issue_credit_notes", "--json", stdout=out)
    [row] = json.loads(out.getvalue())["credit_notes"]
    assert row["invoice"] == invoice.display_number
    assert (row["total"], row["currency"]) == ("1.44", "SAR")
    out = StringIO()
    call_command("issue_credit_notes", stdout=out)
    assert out.getvalue() == "no credit note to issue\n"


def test_an_issued_credit_note_its_adjustments_and_the_credited_amount_are_final():
    tenant = make_invoiceable_tenant()
    a, _, invoice = _january(tenant)
    refunded(a, "50.00")
    [note] = credit_notes_issue(now=NOW)
    link = note.adjustment_links.get()
    for sql, params in [
        ("DELETE FROM invoicing_creditnoteadjustment WHERE id = %s", [link.pk]),
        (
            "UPDATE invoicing_invoice SET amount_credited = 0, amount_due = total WHERE id = %s",
            [invoice.pk],
        ),
        ("UPDATE invoicing_creditnote SET total = 0 WHERE id = %s", [note.pk]),
    ]:
        with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, params)
    assert Invoice.objects.get(pk=invoice.pk).amount_credited == note.total
