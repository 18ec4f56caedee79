"""The hash's edges (what it covers, hostile XML) and the EGS certificates of the test CA."""

import datetime as dt

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from lxml import etree

from fatoora.certificates import (
    CertificateError,
    EgsSubject,
    ca_create,
    certificate_facts,
    certificate_from_base64,
    certificate_issued_by,
    egs_certificate_issue,
)
from fatoora.hashing import (
    NS,
    InvoiceXmlError,
    invoice_canonical,
    invoice_hash,
    invoice_parse,
)
from testsupport.zatca_stamp import NOW, make_egs_identity, zatca_sample, zatca_sample_unstamped


def test_the_stamp_is_outside_the_hash_and_the_content_inside() -> None:
    stamped = invoice_parse(xml=zatca_sample("Standard_Invoice"))
    unstamped = invoice_parse(xml=zatca_sample_unstamped("Standard_Invoice"))
    assert invoice_hash(invoice=stamped) == invoice_hash(invoice=unstamped)
    canonical = invoice_canonical(invoice=stamped)
    assert b"UBLExtensions" not in canonical
    assert b"<cbc:ID>QR</cbc:ID>" not in canonical
    assert b"<cbc:ID>PIH</cbc:ID>" in canonical
    (note,) = unstamped.xpath("cac:InvoiceLine//cbc:Name", namespaces=NS)
    note.text += " "  # whitespace inside content is content
    assert invoice_hash(invoice=unstamped) != invoice_hash(invoice=stamped)


def test_external_entities_are_not_read(tmp_path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    xml = (
        f'<!DOCTYPE Invoice [<!ENTITY x SYSTEM "file://{secret}">]>'
        f'<Invoice xmlns="{NS["inv"]}"><Note>&x;</Note></Invoice>'
    ).encode()
    assert b"TOP-SECRET" not in etree.tostring(invoice_parse(xml=xml))


@pytest.mark.parametrize(
    ("xml", "message"),
    [(b"<Invoice", "not well-formed"), (b"<CreditNote/>", "not a UBL Invoice")],
)
def test_what_is_not_an_invoice_is_refused(xml: bytes, message: str) -> None:
    with pytest.raises(InvoiceXmlError, match=message):
        invoice_parse(xml=xml)


def test_egs_certificate_is_shaped_like_zatcas() -> None:
    egs = make_egs_identity(vat_number="310122393500003")
    certificate = egs.certificate
    assert isinstance(certificate.public_key(), ec.EllipticCurvePublicKey)
    assert certificate.public_key().curve.name == "secp256k1"
    assert certificate.subject.get_attributes_for_oid(NameOID.COUNTRY_NAME)[0].value == "SA"
    (directory,) = certificate.extensions.get_extension_for_class(
        x509.SubjectAlternativeName
    ).value.get_values_for_type(x509.DirectoryName)
    values = {attribute.oid.dotted_string: attribute.value for attribute in directory}
    assert values["2.5.4.4"].startswith("1-Wasla|2-1.0|3-")  # the EGS serial
    assert values["0.9.2342.19200300.100.1.1"] == "310122393500003"  # the VAT number
    assert values["2.5.4.12"] == "1100"  # invoice types
    assert certificate_issued_by(certificate=certificate, issuer=egs.ca.certificate)
    assert not certificate_issued_by(certificate=certificate, issuer=ca_create(now=NOW).certificate)


def test_certificate_facts_in_zatcas_formats() -> None:
    egs = make_egs_identity()
    facts = certificate_facts(certificate=egs.certificate)
    assert facts.issuer_name == "CN=WaslaTestZatcaCA, DC=waslatest, DC=gov, DC=local"
    assert facts.serial_number == str(egs.certificate.serial_number)
    assert certificate_from_base64(base64_der=facts.base64_der) == egs.certificate
    assert facts.signature == egs.certificate.signature
    assert len(facts.public_key_der) == 88  # SubjectPublicKeyInfo of a secp256k1 point


def test_only_secp256k1_keys_get_a_certificate() -> None:
    ca = ca_create(now=NOW)
    subject = EgsSubject(
        common_name="x", organization="x", organization_unit="x", vat_number="x", egs_serial="x"
    )
    with pytest.raises(CertificateError, match="secp256k1"):
        egs_certificate_issue(
            ca=ca,
            public_key=ec.generate_private_key(ec.SECP256R1()).public_key(),
            subject=subject,
            now=NOW,
        )


def test_certificate_validity_follows_the_clock_passed_in() -> None:
    certificate = make_egs_identity().certificate
    assert certificate.not_valid_before_utc <= NOW < certificate.not_valid_after_utc
    assert certificate.not_valid_after_utc - NOW == dt.timedelta(days=365)


def test_text_that_is_not_a_certificate_is_refused() -> None:
    with pytest.raises(CertificateError, match="base64 DER"):
        certificate_from_base64(base64_der="not base64!")
    with pytest.raises(CertificateError, match="base64 DER"):
        certificate_from_base64(base64_der="bm90IGEgY2VydA==")
