"""Every kind of document the suite issues, stamped through the chain, passes all six layers
(xsd, en, ksa, qr, signature, pih) with no error; and a stamped document changed in one place
fails on the layer and rule that place belongs to.

Allowed findings: none, except the two prepayment warnings of an invoice using a merchant
credit (BR-KSA-73/80, explained in test_ubl_issued.PREPAID_WARNINGS). KWD documents take the
configured SAR rate (WASLA_ZATCA_SAR_RATES); one with fils ZATCA cannot take is not stamped.
"""

from __future__ import annotations

import base64
import re

import pytest

from fatoora.tlv import tlv_decode_bytes, tlv_encode
from testsupport.invoicing import make_invoiceable_tenant, paid_payment_at, riyadh, run_month
from testsupport.zatca_chain import STAMPED_AT, make_active_egs, stamped_report
from testsupport.zatca_ubl import findings
from wasla.invoicing.models import Invoice
from wasla.invoicing.zatca.models import ZatcaDocument
from wasla.invoicing.zatca.stamping import zatca_stamp_pending
from wasla.invoicing.zatca.tests.test_ubl_issued import (
    PREPAID_WARNINGS,
    _credited_january,
    _credited_january_paid,
    _january_invoice,
)

pytestmark = pytest.mark.django_db


def _stamped_all() -> list[ZatcaDocument]:
    make_active_egs()
    outcomes = zatca_stamp_pending(now=STAMPED_AT)
    assert all(o.outcome == "stamped" for o in outcomes), outcomes
    return list(ZatcaDocument.objects.order_by("icv"))


def _assert_clean(
    documents: list[ZatcaDocument], allowed: frozenset[tuple[str, str, str]] = frozenset()
):
    for document in documents:
        report = stamped_report(document)
        assert findings(report) <= allowed, (document, report.results)
        assert not report.errors


@pytest.mark.parametrize(
    ("payments", "terms"),
    [
        (("100.00", "250.50", "10.00"), {}),
        (("1.20", "1.20", "99.99"), {"fixed_fee_override": "0", "percentage_override": "2.5"}),
        (
            ("20.00", "100.00", "1000.00", "33.33"),
            {
                "percentage_override": "1.5",
                "minimum_fee_override": "1.50",
                "maximum_fee_override": "5.00",
            },
        ),
    ],
    ids=["fixed", "percentage", "hybrid"],
)
def test_fee_kinds_with_several_lines(payments, terms):
    _january_invoice("SAR", *payments, **terms)
    _assert_clean(_stamped_all())


def test_kwd_at_the_configured_sar_rate():
    _january_invoice("KWD", "12.345", "7.777")
    [document] = _stamped_all()
    _assert_clean([document])
    assert b"<cbc:CalculationRate>12.2345</cbc:CalculationRate>" in bytes(document.signed_xml)


def test_kwd_fils_zatca_cannot_take_stay_unstamped_with_the_reason():
    _january_invoice("KWD", "12.345", "7.777", fixed_fee_override="0.250", percentage_override="1")
    make_active_egs()
    [outcome] = zatca_stamp_pending(now=STAMPED_AT)
    assert outcome.outcome == "failed"
    document = ZatcaDocument.objects.get()
    assert document.icv is None
    assert "more than two decimals" in document.last_error


def test_a_month_boundary_in_riyadh_time():
    tenant = make_invoiceable_tenant()
    paid_payment_at(tenant, riyadh(2026, 1, 31, 23, 59), "100.00")
    paid_payment_at(tenant, riyadh(2026, 2, 1, 0, 0), "100.00")
    run_month(tenant, 2026, 1)
    run_month(tenant, 2026, 2)
    documents = _stamped_all()
    assert len(documents) == 2
    _assert_clean(documents)


def test_a_credit_note_after_its_invoice():
    _credited_january(make_invoiceable_tenant())
    documents = _stamped_all()
    assert [bool(d.credit_note_id) for d in documents] == [False, True]
    _assert_clean(documents)


def test_an_invoice_using_the_merchants_credit():
    tenant = make_invoiceable_tenant()
    _credited_january_paid(tenant)
    paid_payment_at(tenant, riyadh(2026, 2, 10), "400.00")
    run_month(tenant, 2026, 2)
    documents = _stamped_all()
    assert len(documents) == 3
    _assert_clean(documents, PREPAID_WARNINGS)


# --- mutations of one stamped invoice -------------------------------------------------------


@pytest.fixture
def stamped() -> ZatcaDocument:
    invoice: Invoice = _january_invoice("SAR", "100.00", "250.50")
    [document] = _stamped_all()
    assert document.invoice_id == invoice.pk
    return document


def _sub(xml: bytes, pattern: bytes, replacement: bytes) -> bytes:
    changed, count = re.subn(pattern, replacement, xml, count=1)
    assert count == 1, pattern
    return changed


def _errors(document: ZatcaDocument, xml: bytes) -> set[tuple[str, str]]:
    return {(r.layer, r.rule) for r in stamped_report(document, xml).errors}


def test_a_changed_amount(stamped):
    xml = _sub(
        bytes(stamped.signed_xml),
        rb'(<cbc:TaxInclusiveAmount currencyID="SAR">)[0-9.]+',
        rb"\g<1>999.99",
    )
    errors = _errors(stamped, xml)
    assert {("signature", "SIGNATURE-INVOICE-HASH"), ("qr", "QR-TAG-4")} <= errors
    assert any(layer == "en" and rule.startswith("BR-CO-") for layer, rule in errors), errors


def test_a_changed_vat_number(stamped):
    xml = bytes(stamped.signed_xml)
    seller_vat = re.search(rb"<cbc:CompanyID>(\d+)</cbc:CompanyID>", xml)
    assert seller_vat is not None
    xml = xml.replace(seller_vat.group(0), b"<cbc:CompanyID>399999999800003</cbc:CompanyID>", 1)
    assert _errors(stamped, xml) == {
        ("signature", "SIGNATURE-INVOICE-HASH"),
        ("qr", "QR-TAG-2"),
    }


def test_a_changed_icv(stamped):
    xml = _sub(
        bytes(stamped.signed_xml),
        rb"(<cbc:ID>ICV</cbc:ID>\s*<cbc:UUID>)1<",
        rb"\g<1>2<",
    )
    assert _errors(stamped, xml) == {
        ("signature", "SIGNATURE-INVOICE-HASH"),
        ("pih", "ICV-MISMATCH"),
    }


def test_a_changed_pih(stamped):
    other = base64.b64encode(b"x" * 32)
    xml = _sub(bytes(stamped.signed_xml), re.escape(stamped.pih.encode()), other)
    assert _errors(stamped, xml) == {
        ("signature", "SIGNATURE-INVOICE-HASH"),
        ("pih", "PIH-MISMATCH"),
    }


def test_one_changed_byte_of_the_signed_content(stamped):
    xml = _sub(
        bytes(stamped.signed_xml), rb"<cbc:PaymentMeansCode>30<", b"<cbc:PaymentMeansCode>31<"
    )
    assert _errors(stamped, xml) == {("signature", "SIGNATURE-INVOICE-HASH")}


def test_a_changed_signature_value(stamped):
    xml = bytes(stamped.signed_xml)
    value = re.search(rb"<ds:SignatureValue>([^<]+)<", xml)
    assert value is not None
    raw = bytearray(base64.b64decode(value.group(1)))
    raw[-1] ^= 0x01
    xml = xml.replace(value.group(1), base64.b64encode(bytes(raw)), 1)
    # The QR carries the signature value too (tag 7): it no longer matches the stamp.
    assert _errors(stamped, xml) == {
        ("signature", "SIGNATURE-SIGNATURE-VALUE"),
        ("qr", "QR-TAG-7"),
    }


def test_a_changed_qr(stamped):
    fields = tlv_decode_bytes(data=base64.b64decode(stamped.qr))
    fields[6] = base64.b64encode(b"y" * 32)
    forged = base64.b64encode(tlv_encode(fields=sorted(fields.items()))).decode()
    xml = bytes(stamped.signed_xml).replace(stamped.qr.encode(), forged.encode(), 1)
    # The QR is outside the invoice hash: only the qr layer sees it.
    assert _errors(stamped, xml) == {("qr", "QR-TAG-6")}
