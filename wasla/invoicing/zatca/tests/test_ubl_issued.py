"""Every kind of document the invoicing services issue, as ZATCA UBL, passes ZATCA's rules
(UBL XSD, CEN EN 16931, KSA) with no error: invoices with fixed, percentage and hybrid fees, two
VAT rates, KWD, a month boundary; credit notes; an invoice using a merchant credit. Each is made
by the real services (payments confirmed, the monthly run, refunds, credit notes), not by hand.

Allowed findings, narrowly, each with its reason:
- None, for every document but one kind: the unsigned document passes every rule, errors and
  warnings. ZATCA's schematron asks for the stamp (the QR, cac:Signature, UBLExtensions:
  BR-KSA-27/28/29/30/60) on simplified documents only (transaction code 02...), so none fires
  on Wasla's standard ones before the signing step; the stamp is checked by its own layers.
- PREPAID_WARNINGS, for an invoice using a merchant credit: see there.
A KWD document passes with none too, when its amounts need no third decimal; one that does is
refused (ZATCA takes two decimals), and so is one without a SAR exchange rate.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from lxml import etree

from fatoora.validation import ValidationReport
from testsupport.invoicing import (
    bank_transfer_at,
    make_invoiceable_tenant,
    paid_payment_at,
    percentage_fee_plan,
    riyadh,
    run_month,
)
from testsupport.payments import refunded, standard_plan_in
from testsupport.zatca_ubl import chain_link, findings
from wasla.invoicing.credit_notes import credit_notes_issue
from wasla.invoicing.merchant_credit import merchant_credit_balance
from wasla.invoicing.models import CreditNote, Invoice
from wasla.invoicing.rendering import invoice_document
from wasla.invoicing.zatca.issued import credit_note_ubl, invoice_ubl
from wasla.invoicing.zatca.ubl import UblError, ubl_document
from wasla.invoicing.zatca.validation import document_validate
from wasla.settlement.models import FeePlan, FeePlanAssignment
from wasla.tenants.models import Tenant

pytestmark = pytest.mark.django_db

D = Decimal
JAN = riyadh(2026, 1, 15, 12)
NOW = riyadh(2026, 2, 15, 4)
# ZATCA's prepayment rules expect what was prepaid to be advance-payment invoices (type 386)
# listed as extra zero-amount lines with their VAT (BR-KSA-73, BR-KSA-80). A merchant credit is
# no advance payment: it is what Wasla owes from a credit note, whose VAT that note already gave
# back, so there is no 386 invoice to list and no VAT to deduct again. EN 16931 states it as
# the prepaid amount (BT-113, BR-CO-16 holds), and ZATCA only warns.
PREPAID_WARNINGS = {("ksa", "warning", "BR-KSA-73"), ("ksa", "warning", "BR-KSA-80")}
NS = {
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
}


def _terms(tenant: Tenant, currency: str = "SAR", **terms: str) -> None:
    standard_plan_in(currency)
    FeePlanAssignment.objects.create(
        tenant=tenant,
        plan_code="standard",
        currency=currency,
        effective_from=datetime(2025, 1, 1, tzinfo=UTC),
        **{name: D(value) for name, value in terms.items()},
    )


def _january_invoice(currency: str = "SAR", *payments: str, **terms: str) -> Invoice:
    tenant = make_invoiceable_tenant()
    if terms or currency != "SAR":
        _terms(tenant, currency, **terms)
    for amount in payments:
        paid_payment_at(tenant, JAN, amount, currency)
    invoice = run_month(tenant, 2026, 1, currency)
    assert invoice is not None
    return invoice


def _report(xml: bytes) -> ValidationReport:
    report = document_validate(xml=xml)
    print(xml.decode())  # shown when a test fails
    for result in report.results:
        print(result)
    return report


def _text(xml: bytes, path: str) -> list[str]:
    return [e.text or "" for e in etree.fromstring(xml).iterfind(path, NS)]


def test_fixed_fees():
    invoice = _january_invoice("SAR", "100.00", "250.50", "10.00")
    report = _report(invoice_ubl(invoice=invoice, chain=chain_link()))
    assert findings(report) == set()


def test_percentage_fees():
    invoice = _january_invoice(
        "SAR", "1.20", "1.20", "99.99", fixed_fee_override="0", percentage_override="2.5"
    )
    report = _report(invoice_ubl(invoice=invoice, chain=chain_link()))
    assert findings(report) == set()


def test_hybrid_fees():
    invoice = _january_invoice(
        "SAR",
        "20.00",
        "100.00",
        "1000.00",
        "33.33",
        percentage_override="1.5",
        minimum_fee_override="1.50",
        maximum_fee_override="5.00",
    )
    report = _report(invoice_ubl(invoice=invoice, chain=chain_link()))
    assert findings(report) == set()


def test_two_vat_rates_give_two_lines_and_two_breakdowns():
    """The plan's VAT rate changes to 5 % on 20 January: one line and one TaxSubtotal per rate."""
    latest = FeePlan.objects.filter(code="standard").order_by("-version").first()
    assert latest is not None
    FeePlan.objects.create(
        code="standard",
        name="Standard at 5 % VAT",
        version=latest.version + 1,
        currency="SAR",
        fixed_fee=D("1.00"),
        vat_rate=D("5.00"),
        effective_from=riyadh(2026, 1, 20),
    )
    tenant = make_invoiceable_tenant()
    for moment in (riyadh(2026, 1, 10), riyadh(2026, 1, 19, 23, 59), riyadh(2026, 1, 20)):
        paid_payment_at(tenant, moment, "100.00")
    invoice = run_month(tenant, 2026, 1)
    assert invoice is not None

    xml = invoice_ubl(invoice=invoice, chain=chain_link())

    assert findings(_report(xml)) == set()
    assert _text(xml, "cac:InvoiceLine/cac:Item/cac:ClassifiedTaxCategory/cbc:Percent") == [
        "5.00",
        "15.00",
    ]
    assert _text(xml, "cac:TaxTotal/cac:TaxSubtotal/cac:TaxCategory/cbc:Percent") == [
        "15.00",
        "5.00",
    ]
    assert _text(xml, "cac:TaxTotal/cbc:TaxAmount") == ["0.35", "0.35"]


def test_a_month_boundary_in_riyadh_time():
    """02:30 on 1 February in Riyadh (23:30 UTC on 31 January) is February's: each invoice
    states its own month as supply period, and its issue date and time in Riyadh time."""
    tenant = make_invoiceable_tenant()
    paid_payment_at(tenant, datetime(2026, 1, 31, 20, 59, tzinfo=UTC), "100.00")
    paid_payment_at(tenant, datetime(2026, 1, 31, 23, 30, tzinfo=UTC), "100.00")
    january, february = run_month(tenant, 2026, 1), run_month(tenant, 2026, 2)
    assert january is not None
    assert february is not None

    for invoice, icv in ((january, 1), (february, 2)):
        assert findings(_report(invoice_ubl(invoice=invoice, chain=chain_link(icv)))) == set()
    xml = invoice_ubl(invoice=february, chain=chain_link(2))
    assert _text(xml, "cac:Delivery/cbc:ActualDeliveryDate") == ["2026-02-01"]
    assert _text(xml, "cac:Delivery/cbc:LatestDeliveryDate") == ["2026-02-28"]
    # Issued at 00:00 on 1 March in Riyadh, which is 21:00 on 28 February in UTC.
    assert (_text(xml, "cbc:IssueDate"), _text(xml, "cbc:IssueTime")) == (
        ["2026-03-01"],
        ["00:00:00"],
    )
    assert _text(xml, "cac:InvoiceLine/cbc:InvoicedQuantity") == ["1"]


def _credited_january(tenant: Tenant) -> tuple[Invoice, CreditNote]:
    """January's invoice (fees 6.00 and 3.50 at 1.00 + 2.5 %) and the credit note of a partial
    and a full refund after it was issued."""
    percentage_fee_plan()
    a = paid_payment_at(tenant, riyadh(2026, 1, 9), "200.00")
    b = paid_payment_at(tenant, riyadh(2026, 1, 10), "100.00")
    invoice = run_month(tenant, 2026, 1)
    assert invoice is not None
    refunded(a, "50.00")
    refunded(b, "100.00")
    [note] = credit_notes_issue(now=NOW)
    return invoice, note


def test_a_credit_note_refers_to_its_invoice_and_gives_its_reason():
    tenant = make_invoiceable_tenant()
    invoice, note = _credited_january(tenant)

    xml = credit_note_ubl(credit_note=note, chain=chain_link(2))

    assert findings(_report(xml)) == set()
    assert _text(xml, "cbc:InvoiceTypeCode") == ["381"]
    assert _text(xml, "cac:BillingReference/cac:InvoiceDocumentReference/cbc:ID") == [
        invoice.display_number
    ]
    assert _text(xml, "cac:PaymentMeans/cbc:InstructionNote") == [note.reason]
    assert _text(xml, "cac:PaymentMeans/cbc:PaymentMeansCode") == ["97"]
    assert _text(xml, "cac:LegalMonetaryTotal/cbc:PayableAmount") == ["5.46"]


def test_the_invoice_xml_is_what_was_issued_whatever_happens_to_the_invoice_later():
    """A payment, then a credit note (the merchant's credit), change the invoice's state, never
    its XML."""
    tenant = make_invoiceable_tenant()
    percentage_fee_plan()
    a = paid_payment_at(tenant, riyadh(2026, 1, 9), "200.00")
    invoice = run_month(tenant, 2026, 1)
    assert invoice is not None
    chain = chain_link()
    issued = invoice_ubl(invoice=invoice, chain=chain)

    bank_transfer_at(invoice, riyadh(2026, 2, 3), invoice.total, "TRX-1")
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PAID
    paid = invoice_ubl(invoice=invoice, chain=chain)
    refunded(a, "50.00")
    credit_notes_issue(now=NOW)
    assert merchant_credit_balance(tenant_id=tenant.pk, currency="SAR") > 0

    assert issued == paid == invoice_ubl(invoice=invoice, chain=chain)
    assert _text(issued, "cac:LegalMonetaryTotal/cbc:PrepaidAmount") == ["0.00"]


def test_an_invoice_using_the_merchants_credit_states_it_as_prepaid():
    """January was paid, then refunds gave fees back: the credit note left the merchant a
    credit, which February's invoice uses (PrepaidAmount, payable = total - credit)."""
    tenant = make_invoiceable_tenant()
    _credited_january_paid(tenant)
    credit = merchant_credit_balance(tenant_id=tenant.pk, currency="SAR")
    assert credit == D("5.46")
    paid_payment_at(tenant, riyadh(2026, 2, 10), "400.00")  # fee 11.00
    february = run_month(tenant, 2026, 2)
    assert february is not None
    assert february.total == D("12.65")

    xml = ubl_document(
        document=invoice_document(invoice=february), chain=chain_link(3), prepaid=credit
    )

    assert findings(_report(xml)) == PREPAID_WARNINGS
    assert _text(xml, "cac:LegalMonetaryTotal/cbc:PrepaidAmount") == ["5.46"]
    assert _text(xml, "cac:LegalMonetaryTotal/cbc:PayableAmount") == ["7.19"]


def _credited_january_paid(tenant: Tenant) -> CreditNote:
    percentage_fee_plan()
    a = paid_payment_at(tenant, riyadh(2026, 1, 9), "200.00")
    b = paid_payment_at(tenant, riyadh(2026, 1, 10), "100.00")
    invoice = run_month(tenant, 2026, 1)
    assert invoice is not None
    bank_transfer_at(invoice, riyadh(2026, 2, 3), invoice.total, "TRX-JAN")
    refunded(a, "50.00")
    refunded(b, "100.00")
    [note] = credit_notes_issue(now=NOW)
    return note


def test_kwd_states_its_vat_in_sar_too():
    """Fees of 1.000 KWD a payment (VAT 0.150): amounts that need no third decimal."""
    invoice = _january_invoice("KWD", "12.345", "7.777")

    xml = invoice_ubl(invoice=invoice, chain=chain_link(), sar_rate=D("12.2345"))

    assert findings(_report(xml)) == set()
    assert _text(xml, "cbc:DocumentCurrencyCode") == ["KWD"]
    assert _text(xml, "cbc:TaxCurrencyCode") == ["SAR"]
    # 0.30 KWD x 12.2345 = 3.67035 SAR, rounded half up once.
    assert _text(xml, "cac:TaxTotal/cbc:TaxAmount") == ["3.67", "0.30"]
    assert _text(xml, "cac:TaxExchangeRate/cbc:CalculationRate") == ["12.2345"]


def test_kwd_without_an_exchange_rate_is_refused():
    invoice = _january_invoice("KWD", "12.345")

    with pytest.raises(UblError, match="SAR exchange rate"):
        invoice_ubl(invoice=invoice, chain=chain_link())


def test_kwd_fils_that_zatca_cannot_take_are_refused_not_rounded():
    """0.701 KWD of fees: EN 16931 as ZATCA applies it takes two decimals (BR-CO-14/15 are
    errors on 0.806 = 0.701 + 0.105), so writing it would change the invoice: refused."""
    invoice = _january_invoice(
        "KWD", "12.345", "7.777", fixed_fee_override="0.250", percentage_override="1"
    )
    assert invoice.subtotal == D("0.701")

    with pytest.raises(UblError, match="more than two decimals"):
        invoice_ubl(invoice=invoice, chain=chain_link(), sar_rate=D("12.2345"))
