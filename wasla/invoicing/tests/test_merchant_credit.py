"""The merchant's credit (a credit note on a paid invoice) is applied to its next invoices at
their issue: shown as the credit applied, never a negative line, the amount due lower by as
much, used once (the database refuses uses beyond a credit), and the books stay square."""

from __future__ import annotations

import re
import subprocess
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction

from testsupport.credit_notes import issued_credit_note, merchant_credit_left
from testsupport.factories import api_client_for
from testsupport.invoicing import (
    ledger_verified,
    make_invoiceable_tenant,
    paid_payment_at,
    percentage_fee_plan,
    riyadh,
    run_month,
)
from testsupport.payments import balance
from testsupport.threads import in_threads
from wasla.invoicing.credit_notes import credit_notes_issue
from wasla.invoicing.merchant_credit import merchant_credit_balance
from wasla.invoicing.models import (
    CreditNote,
    Invoice,
    MerchantCredit,
    MerchantCreditUse,
)
from wasla.invoicing.reconciliation import invoicing_differences
from wasla.invoicing.rendering import invoice_pdf
from wasla.ledger.accounts import AccountRole
from wasla.ledger.models import LedgerTransaction
from wasla.payments.providers.base import RefundResult, RefundStatus
from wasla.payments.refunds import refund_apply_result
from wasla.settlement.models import SettlementRecord
from wasla.tenants.context import tenant_context

pytestmark = pytest.mark.django_db

D = Decimal


@pytest.fixture(autouse=True)
def _percentage_plan() -> None:
    percentage_fee_plan()  # 1.00 + 2.5 %


def test_worked_example_the_credit_lowers_next_months_amount_due():
    tenant = make_invoiceable_tenant()
    left = merchant_credit_left(tenant)
    note, refund = left.credit_note, left.refund
    assert balance(tenant, AccountRole.RECEIVABLE) == D("-6.90")
    paid_payment_at(tenant, riyadh(2026, 2, 14), "400.00")  # fee 11.00

    february = run_month(tenant, 2026, 2)

    assert february is not None
    assert (february.subtotal, february.vat_total, february.total) == (
        D("11.00"),
        D("1.65"),
        D("12.65"),
    )
    assert (february.amount_credit_applied, february.amount_due, february.status) == (
        D("6.90"),
        D("5.75"),
        "issued",
    )
    assert [line.net_amount for line in february.lines.all()] == [D("11.00")]  # no credit line
    [use] = MerchantCreditUse.objects.filter(invoice=february)
    assert (use.credit.credit_note_id, use.amount) == (note.pk, D("6.90"))
    assert merchant_credit_balance(tenant_id=tenant.pk, currency="SAR") == D("0")
    # The invoice posts its whole total; Receivable's credit balance absorbs the credit.
    assert balance(tenant, AccountRole.RECEIVABLE) == D("5.75")
    assert ledger_verified() == "ledger ok\n"
    assert invoicing_differences() == []

    # The PDF shows the credit applied above the amount due; the API reads it too.
    text = subprocess.run(
        ["pdftotext", "-layout", "-", "-"],
        input=invoice_pdf(invoice=february).content,
        check=True,
        capture_output=True,
    ).stdout.decode()
    text = re.sub("[\u200e\u200f\u202a-\u202e\u2066-\u2069]", "", text)  # bidi marks
    assert re.search(r"Credit applied\s+6\.90 SAR\s+رصيد دائن مطبق", text), text
    assert re.search(r"Amount due\s+5\.75 SAR", text)
    assert text.index("Credit applied") < text.index("Amount due")
    body = api_client_for(tenant).get(f"/api/v1/invoices/{february.pk}/").json()
    assert (body["credit_applied"], body["amount_due"]) == ("6.90", "5.75")

    # Replaying the refund's webhook, the credit-note run and the month change nothing more.
    postings = LedgerTransaction.objects.filter(tenant=tenant).count()
    refund_apply_result(
        refund_id=refund.id,
        result=RefundResult(
            status=RefundStatus.SUCCEEDED,
            provider_reference=refund.provider_reference,
            amount=refund.amount,
            currency=refund.currency,
        ),
    )
    assert credit_notes_issue(now=riyadh(2026, 3, 2)) == []
    assert run_month(tenant, 2026, 2) == february
    assert CreditNote.objects.filter(tenant=tenant).count() == 1
    assert MerchantCreditUse.objects.filter(tenant=tenant).count() == 1
    assert LedgerTransaction.objects.filter(tenant=tenant).count() == postings
    assert Invoice.objects.get(pk=february.pk).amount_due == D("5.75")


def test_an_invoice_the_credit_covers_is_paid_at_issue_and_the_rest_waits():
    tenant = make_invoiceable_tenant()
    merchant_credit_left(tenant)  # credit 6.90
    paid_payment_at(tenant, riyadh(2026, 2, 14), "100.00")  # fee 3.50 + 0.53 VAT = 4.03

    february = run_month(tenant, 2026, 2)

    assert february is not None
    assert (february.amount_credit_applied, february.amount_due) == (D("4.03"), D("0"))
    assert (february.status, february.paid_at) == ("paid", riyadh(2026, 3, 1))
    [settlement] = SettlementRecord.objects.filter(invoice_link__invoice=february)
    assert settlement.status == "paid"
    assert merchant_credit_balance(tenant_id=tenant.pk, currency="SAR") == D("2.87")
    assert balance(tenant, AccountRole.RECEIVABLE) == D("-2.87")

    paid_payment_at(tenant, riyadh(2026, 3, 5), "200.00")  # 6.00 + 0.90 = 6.90
    march = run_month(tenant, 2026, 3)

    assert march is not None
    assert (march.amount_credit_applied, march.amount_due) == (D("2.87"), D("4.03"))
    assert merchant_credit_balance(tenant_id=tenant.pk, currency="SAR") == D("0")
    assert balance(tenant, AccountRole.RECEIVABLE) == D("4.03")
    assert ledger_verified() == "ledger ok\n"
    assert invoicing_differences() == []


def test_credit_in_another_currency_is_not_applied():
    tenant = make_invoiceable_tenant()
    merchant_credit_left(tenant)
    paid_payment_at(tenant, riyadh(2026, 2, 14), "10.000", currency="KWD")

    february_kwd = run_month(tenant, 2026, 2, currency="KWD")

    assert february_kwd is not None
    assert (february_kwd.amount_credit_applied, february_kwd.amount_due) == (
        D("0"),
        february_kwd.total,
    )
    assert merchant_credit_balance(tenant_id=tenant.pk, currency="SAR") == D("6.90")


def _raw(sql: str, params: list[object]) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_the_database_refuses_uses_beyond_the_credit_and_any_change_to_them():
    tenant = make_invoiceable_tenant()
    left = merchant_credit_left(tenant)
    note, credit = left.credit_note, left.credit
    paid_payment_at(tenant, riyadh(2026, 2, 14), "100.00")
    february = run_month(tenant, 2026, 2)  # uses 4.03 of 6.90
    assert february is not None
    use = MerchantCreditUse.objects.get(invoice=february)
    insert = (
        "INSERT INTO invoicing_merchantcredituse (tenant_id, credit_id, invoice_id, amount,"
        " created_at) VALUES (%s, %s, %s, %s, now())"
    )
    # Another invoice may use the 2.87 left, not a halala more.
    with pytest.raises(IntegrityError, match=r"uses would add up to 6\.910"):
        _raw(insert, [tenant.pk, credit.pk, note.invoice_id, D("2.88")])
    _raw(insert, [tenant.pk, credit.pk, note.invoice_id, D("2.87")])
    for sql in (
        "UPDATE invoicing_merchantcredituse SET amount = 1 WHERE id = %s",
        "DELETE FROM invoicing_merchantcredituse WHERE id = %s",
    ):
        with pytest.raises(IntegrityError, match="facts"):
            _raw(sql, [use.pk])
    # What an issued invoice applied, and the parties it recorded, are frozen with it.
    for sql in (
        "UPDATE invoicing_invoice SET amount_credit_applied = 0, amount_due = amount_due + 4.03"
        " WHERE id = %s",
        "UPDATE invoicing_invoice SET buyer_snapshot = '{}'::jsonb WHERE id = %s",
        "UPDATE invoicing_invoice SET seller_snapshot = NULL WHERE id = %s",
    ):
        with pytest.raises(IntegrityError):
            _raw(sql, [february.pk])
    assert MerchantCreditUse.objects.get(pk=use.pk).amount == D("4.03")


def test_a_credit_is_never_used_on_another_currencys_invoice():
    tenant = make_invoiceable_tenant()
    credit = merchant_credit_left(tenant).credit
    paid_payment_at(tenant, riyadh(2026, 2, 14), "10.000", currency="KWD")
    kwd = run_month(tenant, 2026, 2, currency="KWD")
    assert kwd is not None
    with pytest.raises(IntegrityError, match="tenant or currency"):
        _raw(
            "INSERT INTO invoicing_merchantcredituse (tenant_id, credit_id, invoice_id, amount,"
            " created_at) VALUES (%s, %s, %s, 1, now())",
            [tenant.pk, credit.pk, kwd.pk],
        )


# Races: real threads, each on its own connection -----------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("repeat", range(3))
def test_concurrent_runs_of_a_month_use_the_credit_once(close_thread_connections, repeat):
    percentage_fee_plan()
    tenant = make_invoiceable_tenant()
    merchant_credit_left(tenant)  # 6.90
    paid_payment_at(tenant, riyadh(2026, 2, 14), "100.00")  # invoice of 4.03

    invoices = in_threads(6, lambda i: run_month(tenant, 2026, 2))

    assert all(isinstance(invoice, Invoice) for invoice in invoices), invoices
    assert {invoice.pk for invoice in invoices} == {invoices[0].pk}
    [use] = MerchantCreditUse.objects.filter(tenant=tenant)
    assert use.amount == D("4.03")
    assert merchant_credit_balance(tenant_id=tenant.pk, currency="SAR") == D("2.87")


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("repeat", range(3))
def test_concurrent_uses_of_one_credit_never_exceed_it(close_thread_connections, repeat):
    """Past the services (which lock the tenant): two uses of 4.00 of a 6.90 credit written
    at the same moment on two invoices; the database lets one through."""
    percentage_fee_plan()
    tenant = make_invoiceable_tenant()
    left = merchant_credit_left(tenant)
    paid_payment_at(tenant, riyadh(2026, 2, 14), "400.00")
    february = run_month(tenant, 2026, 2)  # uses all 6.90: give the credit back to the race
    assert february is not None
    credit = MerchantCredit.objects.create(
        tenant=tenant,
        credit_note=issued_credit_note(february, issued_at=riyadh(2026, 3, 2), net="6.00"),
        amount=D("6.90"),
        created_at=riyadh(2026, 3, 2),
    )
    targets = [left.invoice.pk, february.pk]

    def use(i: int) -> MerchantCreditUse:
        with tenant_context(tenant.pk), transaction.atomic():
            return MerchantCreditUse.objects.create(
                tenant=tenant,
                credit=credit,
                invoice_id=targets[i],
                amount=D("4.00"),
                created_at=riyadh(2026, 3, 3),
            )

    results = in_threads(2, use)

    assert sorted(type(r).__name__ for r in results) == ["IntegrityError", "MerchantCreditUse"]
    assert MerchantCreditUse.objects.filter(credit=credit).count() == 1
