"""The UBL document's shape, from typed documents (no database): the elements ZATCA's samples
have, in UBL's order, with the figures of the document; what cannot be written is refused."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from uuid import UUID

import pytest
from lxml import etree

from testsupport.documents import make_credit_note, make_invoice, make_line
from testsupport.zatca_ubl import FIRST_PIH, chain_link, findings
from wasla.invoicing.zatca.ubl import ChainLink, UblError, ubl_document
from wasla.invoicing.zatca.validation import document_validate

D = Decimal
NS = {
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
}
UUID_1 = UUID("8d487816-70b8-4ade-a618-9d620b73814a")


def _tree(xml: bytes) -> etree._Element:
    return etree.fromstring(xml)


def _texts(xml: bytes, path: str) -> list[str]:
    return [e.text or "" for e in _tree(xml).iterfind(path, NS)]


def _children(xml: bytes) -> list[str]:
    return [etree.QName(child).localname for child in _tree(xml)]


def test_an_invoice_has_zatcas_elements_in_ubl_order():
    xml = ubl_document(document=make_invoice(), chain=ChainLink(uuid=UUID_1, icv=23, pih=FIRST_PIH))

    assert _children(xml) == [
        "ProfileID",
        "ID",
        "UUID",
        "IssueDate",
        "IssueTime",
        "DueDate",
        "InvoiceTypeCode",
        "DocumentCurrencyCode",
        "TaxCurrencyCode",
        "AdditionalDocumentReference",
        "AdditionalDocumentReference",
        "AccountingSupplierParty",
        "AccountingCustomerParty",
        "Delivery",
        "PaymentMeans",
        "TaxTotal",
        "TaxTotal",
        "LegalMonetaryTotal",
        "InvoiceLine",
        "InvoiceLine",
    ]
    assert _texts(xml, "cbc:ProfileID") == ["reporting:1.0"]
    assert _texts(xml, "cbc:ID") == ["INV-000001"]
    assert _texts(xml, "cbc:UUID") == [str(UUID_1)]
    # 06:30:15 UTC is 09:30:15 in Riyadh.
    assert (_texts(xml, "cbc:IssueDate"), _texts(xml, "cbc:IssueTime")) == (
        ["2025-02-01"],
        ["09:30:15"],
    )
    [type_code] = _tree(xml).iterfind("cbc:InvoiceTypeCode", NS)
    assert (type_code.text, type_code.get("name")) == ("388", "0100000")
    assert _texts(xml, "cac:AdditionalDocumentReference/cbc:ID") == ["ICV", "PIH"]
    assert _texts(xml, "cac:AdditionalDocumentReference/cbc:UUID") == ["23"]
    assert _texts(
        xml, "cac:AdditionalDocumentReference/cac:Attachment/cbc:EmbeddedDocumentBinaryObject"
    ) == [FIRST_PIH]


def test_the_unsigned_document_leaves_the_stamp_to_the_signing_step():
    xml = ubl_document(document=make_invoice(), chain=chain_link())

    names = set(_children(xml))
    assert not names & {"UBLExtensions", "Signature"}
    assert "QR" not in _texts(xml, "cac:AdditionalDocumentReference/cbc:ID")
    # The root declares ext: for the UBLExtensions the signing step adds, as the samples do.
    assert _tree(xml).nsmap["ext"].endswith("CommonExtensionComponents-2")


def test_parties_figures_and_lines_come_from_the_document():
    document = make_invoice()
    xml = ubl_document(document=document, chain=chain_link())

    assert findings(document_validate(xml=xml)) == set()
    supplier = "cac:AccountingSupplierParty/cac:Party/"
    customer = "cac:AccountingCustomerParty/cac:Party/"
    assert _texts(xml, supplier + "cac:PartyTaxScheme/cbc:CompanyID") == ["310122393500003"]
    assert _texts(xml, customer + "cac:PartyTaxScheme/cbc:CompanyID") == ["300075588700003"]
    assert _texts(xml, customer + "cac:PartyIdentification/cbc:ID") == ["4030012345"]
    [crn] = _tree(xml).iterfind(customer + "cac:PartyIdentification/cbc:ID", NS)
    assert crn.get("schemeID") == "CRN"
    address = [
        _texts(xml, customer + f"cac:PostalAddress/{field}")[0]
        for field in (
            "cbc:StreetName",
            "cbc:BuildingNumber",
            "cbc:CitySubdivisionName",
            "cbc:CityName",
            "cbc:PostalZone",
            "cac:Country/cbc:IdentificationCode",
        )
    ]
    assert address == ["Prince Sultan Street", "8228", "Al Rawdah", "Jeddah", "23435", "SA"]
    assert _texts(xml, supplier + "cac:PartyLegalEntity/cbc:RegistrationName") == [
        document.seller.legal_name_ar
    ]
    assert _texts(xml, "cac:Delivery/*") == ["2025-01-01", "2025-01-31"]
    assert _texts(xml, "cac:PaymentMeans/cbc:PaymentMeansCode") == ["30"]
    assert _texts(xml, "cac:PaymentMeans/cac:PayeeFinancialAccount/cbc:ID") == [
        "SA0380000000608010167519"
    ]
    # 1234.00 + 276.00 = 1510.00; VAT 15 % once on the aggregate = 226.50.
    assert _texts(xml, "cac:LegalMonetaryTotal/*") == [
        "1510.00",
        "1510.00",
        "1736.50",
        "0.00",
        "0.00",
        "1736.50",
    ]
    assert _texts(xml, "cac:TaxTotal/cbc:TaxAmount") == ["226.50", "226.50"]
    assert _texts(xml, "cac:InvoiceLine/cbc:InvoicedQuantity") == ["1234", "1"]
    assert _texts(xml, "cac:InvoiceLine/cac:TaxTotal/cbc:RoundingAmount") == [
        "1419.10",
        "317.40",
    ]
    assert _texts(xml, "cac:InvoiceLine/cac:Price/cbc:PriceAmount") == ["1.00", "276.00"]


def test_the_same_document_gives_the_same_bytes():
    chain = chain_link()

    assert ubl_document(document=make_invoice(), chain=chain) == ubl_document(
        document=make_invoice(), chain=chain
    )


def test_a_credit_note_refers_to_its_invoice():
    xml = ubl_document(document=make_credit_note(), chain=chain_link())

    assert findings(document_validate(xml=xml)) == set()
    assert "BillingReference" in _children(xml)
    assert "DueDate" not in _children(xml)
    assert _texts(xml, "cac:BillingReference/cac:InvoiceDocumentReference/cbc:ID") == ["INV-000001"]
    assert _texts(xml, "cac:PaymentMeans/cbc:InstructionNote") == [
        "Fees reduced for payments refunded after invoicing"
    ]


def test_an_amount_changed_after_writing_fails_the_en_rules():
    xml = ubl_document(document=make_invoice(), chain=chain_link())
    broken = xml.replace(
        b'<cbc:TaxInclusiveAmount currencyID="SAR">1736.50<',
        b'<cbc:TaxInclusiveAmount currencyID="SAR">1736.51<',
    )
    assert broken != xml

    assert ("en", "error", "BR-CO-15") in findings(document_validate(xml=broken))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"icv": 0}, "counter from 1"),
        ({"icv": True}, "counter from 1"),
        ({"pih": ""}, "base64"),
        ({"pih": "not base64!"}, "base64"),
    ],
)
def test_a_chain_link_is_checked(change: dict, message: str):
    fields = {"uuid": UUID_1, "icv": 1, "pih": FIRST_PIH} | change

    with pytest.raises(UblError, match=message):
        ChainLink(**fields)


def test_a_prepaid_amount_is_bounded_by_the_total_and_only_on_invoices():
    with pytest.raises(UblError, match="between 0 and"):
        ubl_document(document=make_invoice(), chain=chain_link(), prepaid=D("1736.51"))
    with pytest.raises(UblError, match="not an amount"):
        ubl_document(document=make_invoice(), chain=chain_link(), prepaid=D("0.001"))
    with pytest.raises(UblError, match="credit note has no prepaid"):
        ubl_document(document=make_credit_note(), chain=chain_link(), prepaid=D("1.00"))


def test_a_zero_vat_rate_is_refused():
    document = make_invoice(lines=(make_line(vat_rate=D("0")),))

    with pytest.raises(UblError, match="not standard-rated"):
        ubl_document(document=document, chain=chain_link())


def test_a_kwd_exchange_rate_is_required_and_checked():
    lines = (make_line(quantity=D("2"), unit_price=D("1.000"), currency="KWD"),)
    document = make_invoice(lines=lines, currency="KWD")

    with pytest.raises(UblError, match="SAR exchange rate"):
        ubl_document(document=document, chain=chain_link())
    with pytest.raises(UblError, match="positive"):
        ubl_document(document=document, chain=chain_link(), sar_rate=D("0"))
    with pytest.raises(UblError, match="14 digits"):
        ubl_document(document=document, chain=chain_link(), sar_rate=D("12.2345678901234"))
    xml = ubl_document(document=document, chain=chain_link(), sar_rate=D("12.25"))
    # 0.30 KWD x 12.25 = 3.675 SAR, half up.
    assert _texts(xml, "cac:TaxTotal/cbc:TaxAmount") == ["3.68", "0.30"]
    assert findings(document_validate(xml=xml)) == set()


def test_issue_time_is_riyadh_time_across_midnight():
    document = make_invoice(
        issued_at=datetime(2025, 2, 28, 21, 0, tzinfo=UTC), due_date=date(2025, 3, 15)
    )

    xml = ubl_document(document=document, chain=chain_link())

    assert (_texts(xml, "cbc:IssueDate"), _texts(xml, "cbc:IssueTime")) == (
        ["2025-03-01"],
        ["00:00:00"],
    )
