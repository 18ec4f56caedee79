"""The QR fields read from a UBL document: which amounts, and which tags for which documents."""

from lxml import etree

from fatoora.certificates import certificate_facts
from fatoora.hashing import NS, invoice_parse
from fatoora.qr import invoice_is_simplified, invoice_qr_fields
from fatoora.signing import invoice_stamp
from fatoora.tlv import ZatcaTag, zatca_qr_decode_bytes
from fatoora.verifying import stamp_verify
from testsupport.zatca_stamp import NOW, make_egs_identity, zatca_sample_unstamped


def _kwd_invoice() -> bytes:
    """The standard sample as a KWD invoice: VAT totals in KWD (0.600) and in SAR (7.35)."""
    invoice = invoice_parse(xml=zatca_sample_unstamped("Standard_Invoice"))
    (currency,) = invoice.xpath("cbc:DocumentCurrencyCode", namespaces=NS)
    currency.text = "KWD"
    for amount in invoice.xpath("//*[@currencyID]"):
        amount.set("currencyID", "KWD")
    first, second = invoice.xpath("cac:TaxTotal/cbc:TaxAmount", namespaces=NS)
    first.set("currencyID", "SAR")
    first.text = "7.35"
    second.text = "0.600"
    return etree.tostring(invoice, encoding="UTF-8")


def test_the_vat_total_is_the_one_in_the_documents_currency() -> None:
    egs = make_egs_identity()
    stamped = invoice_stamp(
        xml=_kwd_invoice(), private_key=egs.key, certificate=egs.certificate, signing_time=NOW
    )
    fields = zatca_qr_decode_bytes(payload=stamped.qr)
    assert fields[ZatcaTag.VAT_TOTAL] == b"0.600"
    assert fields[ZatcaTag.TOTAL_WITH_VAT] == b"4.60"
    assert stamp_verify(invoice=invoice_parse(xml=stamped.xml)) == ()


def test_tag_9_only_for_simplified_documents() -> None:
    facts = certificate_facts(certificate=make_egs_identity().certificate)
    for name, simplified in (("Standard_Credit_Note", False), ("Simplified_Credit_Note", True)):
        invoice = invoice_parse(xml=zatca_sample_unstamped(name))
        assert invoice_is_simplified(invoice=invoice) is simplified
        tags = [
            tag
            for tag, _ in invoice_qr_fields(
                invoice=invoice, invoice_hash="h", signature_value="s", certificate=facts
            )
        ]
        assert tags == list(range(1, 10 if simplified else 9))
