"""The four official, ZATCA-signed SDK samples are the truth: every value their stamp carries
is recomputed by our code and must come out equal."""

import base64

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from fatoora.certificates import certificate_facts, certificate_from_base64
from fatoora.hashing import FIRST_PIH, NS, invoice_hash, invoice_parse
from fatoora.qr import invoice_qr_read
from fatoora.signing import signed_properties_digest
from fatoora.tlv import ZatcaTag, zatca_qr_decode_bytes
from fatoora.verifying import stamp_verify
from testsupport.zatca_stamp import SAMPLE_NAMES, zatca_sample

SIG = "ext:UBLExtensions//ds:Signature"


def _one(invoice, path: str) -> str:
    (value,) = invoice.xpath(path, namespaces=NS)
    return value if isinstance(value, str) else value.text


@pytest.fixture(params=SAMPLE_NAMES)
def sample(request):
    return invoice_parse(xml=zatca_sample(request.param))


def test_invoice_hash_equals_the_embedded_digest(sample) -> None:
    digest = _one(
        sample, f"{SIG}/ds:SignedInfo/ds:Reference[@Id='invoiceSignedData']/ds:DigestValue"
    )
    assert invoice_hash(invoice=sample) == digest


def test_signed_properties_digest_matches(sample) -> None:
    (properties,) = sample.xpath(f"{SIG}//xades:SignedProperties", namespaces=NS)
    reference = f"{SIG}/ds:SignedInfo/ds:Reference[@URI='#xadesSignedProperties']/ds:DigestValue"
    assert signed_properties_digest(signed_properties=properties) == _one(sample, reference)


def test_signature_verifies_with_the_embedded_certificate(sample) -> None:
    certificate = certificate_from_base64(base64_der=_one(sample, f"{SIG}//ds:X509Certificate"))
    signature = base64.b64decode(_one(sample, f"{SIG}/ds:SignatureValue"))
    # What ZATCA signs is the raw invoice hash; verify() raises if that is not so.
    certificate.public_key().verify(
        signature, base64.b64decode(invoice_hash(invoice=sample)), ec.ECDSA(hashes.SHA256())
    )


def test_certificate_digest_issuer_and_serial_match(sample) -> None:
    certificate = certificate_from_base64(base64_der=_one(sample, f"{SIG}//ds:X509Certificate"))
    facts = certificate_facts(certificate=certificate)
    assert facts.digest == _one(sample, f"{SIG}//xades:CertDigest/ds:DigestValue")
    assert facts.issuer_name == "CN=PRZEINVOICESCA4-CA, DC=extgazt, DC=gov, DC=local"
    assert facts.issuer_name == _one(sample, f"{SIG}//ds:X509IssuerName")
    assert facts.serial_number == "379112742831380471835263969587287663520528387"
    assert facts.serial_number == _one(sample, f"{SIG}//ds:X509SerialNumber")


def test_qr_decodes_to_the_documents_fields(sample) -> None:
    fields = zatca_qr_decode_bytes(payload=invoice_qr_read(invoice=sample))
    seller = "cac:AccountingSupplierParty/cac:Party"
    certificate = certificate_from_base64(base64_der=_one(sample, f"{SIG}//ds:X509Certificate"))
    expected = {
        1: _one(sample, f"{seller}/cac:PartyLegalEntity/cbc:RegistrationName").encode(),
        2: _one(sample, f"{seller}/cac:PartyTaxScheme/cbc:CompanyID").encode(),
        3: f"{_one(sample, 'cbc:IssueDate')}T{_one(sample, 'cbc:IssueTime')}".encode(),
        4: _one(sample, "cac:LegalMonetaryTotal/cbc:TaxInclusiveAmount").encode(),
        5: _one(sample, "cac:TaxTotal[1]/cbc:TaxAmount").encode(),
        6: invoice_hash(invoice=sample).encode(),
        7: _one(sample, f"{SIG}/ds:SignatureValue").encode(),
        8: certificate_facts(certificate=certificate).public_key_der,
    }
    if _one(sample, "cbc:InvoiceTypeCode/@name").startswith("02"):
        expected[ZatcaTag.CERTIFICATE_SIGNATURE] = certificate.signature
    assert fields == expected


def test_standard_invoice_qr_literally() -> None:
    fields = zatca_qr_decode_bytes(
        payload=invoice_qr_read(invoice=invoice_parse(xml=zatca_sample("Standard_Invoice")))
    )
    assert fields[1].decode() == (
        "شركة توريد التكنولوجيا بأقصى سرعة المحدودة | Maximum Speed Tech Supply LTD"
    )
    assert [fields[tag] for tag in (2, 3, 4, 5)] == [
        b"399999999900003",
        b"2022-09-07T12:21:28",
        b"4.60",
        b"0.6",
    ]
    assert fields[6] == b"V4U5qlZ3yXQ/Si1AC/R8SLc3F+iNy27wdVe8IWRqFAQ="
    assert 9 not in fields  # standard documents carry tags 1-8 only


def test_every_sample_passes_the_whole_verification(sample) -> None:
    assert stamp_verify(invoice=sample) == ()


def test_first_pih_is_the_sdk_samples_pih() -> None:
    # The SDK's samples chain to the first PIH: base64 of the SHA-256 hex of "0".
    pih = "cac:AdditionalDocumentReference[cbc:ID='PIH']//cbc:EmbeddedDocumentBinaryObject"
    assert _one(invoice_parse(xml=zatca_sample("Standard_Invoice")), pih) == FIRST_PIH
    assert base64.b64decode(FIRST_PIH).decode() == (
        "5feceb66ffc86f38d952786c6d696c79c2dbc239dd4e91b46729d73a27fb57e9"
    )
