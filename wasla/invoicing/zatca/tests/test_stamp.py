"""Stamping with our own EGS key and test-CA certificate, and what verification says when any
part of a stamped document is changed afterwards."""

import base64
import datetime as dt
import re

import pytest
from lxml import etree

from fatoora.certificates import CertificateError, certificate_base64
from fatoora.hashing import NS, InvoiceXmlError, invoice_hash, invoice_parse
from fatoora.signing import SigningError, hash_sign, invoice_stamp
from fatoora.tlv import zatca_qr_decode_bytes
from fatoora.verifying import stamp_verify
from testsupport.zatca_stamp import (
    NOW,
    SAMPLE_NAMES,
    make_egs_identity,
    zatca_sample,
    zatca_sample_unstamped,
)


@pytest.fixture(scope="module")
def egs():
    return make_egs_identity()


def _stamp(egs, name: str = "Standard_Invoice") -> bytes:
    return invoice_stamp(
        xml=zatca_sample_unstamped(name),
        private_key=egs.key,
        certificate=egs.certificate,
        signing_time=NOW,
    ).xml


def _checks(xml: bytes) -> set[str]:
    return {problem.check for problem in stamp_verify(invoice=invoice_parse(xml=xml))}


def _set(xml: bytes, path: str, value: str) -> bytes:
    invoice = invoice_parse(xml=xml)
    (element,) = invoice.xpath(path, namespaces=NS)
    element.text = value
    return etree.tostring(invoice, encoding="UTF-8")


@pytest.mark.parametrize("name", SAMPLE_NAMES)
def test_a_restamped_sample_verifies_and_hashes_as_zatca_hashed_it(egs, name) -> None:
    stamped = invoice_stamp(
        xml=zatca_sample_unstamped(name),
        private_key=egs.key,
        certificate=egs.certificate,
        signing_time=NOW,
    )
    assert stamp_verify(invoice=invoice_parse(xml=stamped.xml)) == ()
    # The stamp leaves the hashed content untouched: ZATCA's own digest still applies.
    assert stamped.invoice_hash == invoice_hash(invoice=invoice_parse(xml=zatca_sample(name)))
    assert zatca_qr_decode_bytes(payload=stamped.qr)[6] == stamped.invoice_hash.encode()


@pytest.mark.parametrize("name", SAMPLE_NAMES)
def test_the_stamp_is_laid_out_exactly_as_the_sdks(egs, name) -> None:
    def skeleton(xml: bytes) -> str:
        text = xml.decode()
        text = re.sub(r">[A-Za-z0-9+/=]{20,}<", "><", text)  # digests, signature, cert, QR
        text = re.sub(r"(SigningTime|X509IssuerName|X509SerialNumber)>[^<]*", r"\1>", text)
        return re.sub(r" +\n", "\n", text)  # one trailing space in the SDK's template

    assert skeleton(_stamp(egs, name)) == skeleton(zatca_sample(name))


def test_signing_time_is_written_in_utc(egs) -> None:
    riyadh = dt.timezone(dt.timedelta(hours=3))
    stamped = invoice_stamp(
        xml=zatca_sample_unstamped("Standard_Invoice"),
        private_key=egs.key,
        certificate=egs.certificate,
        signing_time=dt.datetime(2025, 7, 1, 12, 30, 5, tzinfo=riyadh),
    )
    assert b"<xades:SigningTime>2025-07-01T09:30:05</xades:SigningTime>" in stamped.xml


def test_one_byte_of_the_signed_content(egs) -> None:
    stamped = _stamp(egs)
    changed = stamped.replace(b"<cbc:ID>SME00023</cbc:ID>", b"<cbc:ID>SME00024</cbc:ID>")
    assert changed != stamped
    problems = stamp_verify(invoice=invoice_parse(xml=changed))
    assert [p.check for p in problems] == ["invoice-hash"]
    assert "the signed content was changed" in problems[0].message


def test_an_amount(egs) -> None:
    changed = _set(_stamp(egs), "cac:LegalMonetaryTotal/cbc:TaxInclusiveAmount", "4.61")
    problems = stamp_verify(invoice=invoice_parse(xml=changed))
    assert [p.check for p in problems] == ["invoice-hash", "qr"]
    assert problems[1].message == "QR tag 4 (TOTAL_WITH_VAT) does not match"


def test_the_signature_value(egs) -> None:
    stamped = _stamp(egs)
    other = make_egs_identity(ca=egs.ca)
    forged = hash_sign(
        private_key=other.key, invoice_hash=invoice_hash(invoice=invoice_parse(xml=stamped))
    )
    changed = _set(stamped, "ext:UBLExtensions//ds:SignatureValue", forged)
    # The QR still carries the genuine signature: it no longer matches either.
    assert _checks(changed) == {"signature-value", "qr"}


def test_the_certificate(egs) -> None:
    other = make_egs_identity(ca=egs.ca)
    changed = _set(
        _stamp(egs),
        "ext:UBLExtensions//ds:X509Certificate",
        certificate_base64(certificate=other.certificate),
    )
    assert _checks(changed) == {"certificate-digest", "issuer-serial", "signature-value", "qr"}


def test_a_certificate_that_is_not_one(egs) -> None:
    changed = _set(_stamp(egs), "ext:UBLExtensions//ds:X509Certificate", "bm90IGEgY2VydA==")
    problems = stamp_verify(invoice=invoice_parse(xml=changed))
    assert [p.check for p in problems] == ["certificate"]


def test_the_signed_properties(egs) -> None:
    changed = _set(_stamp(egs), "ext:UBLExtensions//xades:SigningTime", "2025-07-01T09:30:06")
    assert _checks(changed) == {"signed-properties"}


def test_the_qr(egs) -> None:
    path = "cac:AdditionalDocumentReference[cbc:ID='QR']//cbc:EmbeddedDocumentBinaryObject"
    stamped = _stamp(egs)
    (qr,) = invoice_parse(xml=stamped).xpath(path, namespaces=NS)
    data = bytearray(base64.b64decode(qr.text))
    data[-1] ^= 0x01  # the last byte of the public key (tag 8)
    changed = _set(stamped, path, base64.b64encode(bytes(data)).decode())
    problems = stamp_verify(invoice=invoice_parse(xml=changed))
    assert [(p.check, p.message) for p in problems] == [
        ("qr", "QR tag 8 (PUBLIC_KEY) does not match")
    ]
    assert _checks(_set(stamped, path, "%%%")) == {"qr"}


def test_a_document_without_a_stamp() -> None:
    problems = stamp_verify(invoice=invoice_parse(xml=zatca_sample_unstamped("Standard_Invoice")))
    assert [p.check for p in problems] == ["structure"]


def test_stamping_twice_is_refused(egs) -> None:
    with pytest.raises(SigningError, match="already stamped"):
        invoice_stamp(
            xml=_stamp(egs), private_key=egs.key, certificate=egs.certificate, signing_time=NOW
        )


def test_a_key_that_is_not_the_certificates_is_refused(egs) -> None:
    other = make_egs_identity(ca=egs.ca)
    with pytest.raises(CertificateError, match="does not belong"):
        invoice_stamp(
            xml=zatca_sample_unstamped("Standard_Invoice"),
            private_key=other.key,
            certificate=egs.certificate,
            signing_time=NOW,
        )


def test_a_naive_signing_time_is_refused(egs) -> None:
    with pytest.raises(SigningError, match="timezone-aware"):
        invoice_stamp(
            xml=zatca_sample_unstamped("Standard_Invoice"),
            private_key=egs.key,
            certificate=egs.certificate,
            signing_time=NOW.replace(tzinfo=None),
        )


def test_a_document_without_icv_and_pih_is_refused(egs) -> None:
    invoice = invoice_parse(xml=zatca_sample_unstamped("Standard_Invoice"))
    for reference in invoice.xpath("cac:AdditionalDocumentReference", namespaces=NS):
        invoice.remove(reference)
    with pytest.raises(InvoiceXmlError, match="ICV, PIH"):
        invoice_stamp(
            xml=etree.tostring(invoice),
            private_key=egs.key,
            certificate=egs.certificate,
            signing_time=NOW,
        )
