"""fatoora.csr: ZATCA's onboarding CSR parses with `cryptography` and carries every field."""

from __future__ import annotations

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from fatoora.certificates import egs_key_generate
from fatoora.csr import (
    CERTIFICATE_TEMPLATES,
    REGISTERED_ADDRESS_OID,
    TEMPLATE_NAME_OID,
    CsrError,
    csr_build,
    csr_read,
)

FIELDS = {
    "common_name": "TST-886431145-399999999900003",
    "egs_serial": "1-Wasla|2-1.4|3-ed22f1d8-e6a2-1118-9b58-d9a8f11e445f",
    "vat_number": "399999999900003",
    "organization": "Wasla Payments Co.",
    "organization_unit": "Riyadh Branch",
    "country": "SA",
    "invoice_types": "1100",
    "location": "RRRD2929",
    "industry": "Technology",
}


@pytest.mark.parametrize("environment", ["sandbox", "simulation", "production"])
def test_csr_carries_zatcas_subject_and_extensions(environment: str) -> None:
    key = egs_key_generate()
    template = CERTIFICATE_TEMPLATES[environment]
    pem = csr_build(private_key=key, template_name=template, **FIELDS)
    request = x509.load_pem_x509_csr(pem)
    assert request.is_signature_valid
    assert isinstance(request.public_key(), ec.EllipticCurvePublicKey)
    assert request.public_key().public_numbers() == key.public_key().public_numbers()
    assert request.subject.rfc4514_string() == (
        "CN=TST-886431145-399999999900003,O=Wasla Payments Co.,OU=Riyadh Branch,C=SA"
    )
    extension = request.extensions.get_extension_for_oid(TEMPLATE_NAME_OID).value
    assert isinstance(extension, x509.UnrecognizedExtension)
    # A PrintableString (tag 0x13) holding the environment's template name.
    assert extension.value == bytes((0x13, len(template))) + template.encode("ascii")
    san = request.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    (directory,) = san.get_values_for_type(x509.DirectoryName)
    values = {attribute.oid: attribute.value for attribute in directory}
    assert values == {
        NameOID.SURNAME: FIELDS["egs_serial"],
        NameOID.USER_ID: "399999999900003",
        NameOID.TITLE: "1100",
        REGISTERED_ADDRESS_OID: "RRRD2929",
        NameOID.BUSINESS_CATEGORY: "Technology",
    }
    facts = csr_read(pem=pem)
    assert (facts.template_name, facts.country) == (template, "SA")
    assert facts.subject.egs_serial == FIELDS["egs_serial"]
    assert facts.subject.vat_number == FIELDS["vat_number"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("vat_number", "123456789012345"),
        ("invoice_types", "11"),
        ("invoice_types", "0010"),
        ("egs_serial", "Wasla-1"),
        ("country", "sa"),
        ("location", ""),
    ],
)
def test_csr_refuses_what_zatca_refuses(field: str, value: str) -> None:
    fields = {**FIELDS, field: value}
    with pytest.raises(CsrError):
        csr_build(
            private_key=egs_key_generate(),
            template_name=CERTIFICATE_TEMPLATES["sandbox"],
            **fields,
        )


def test_csr_needs_a_secp256k1_key_and_a_known_template() -> None:
    with pytest.raises(CsrError, match="secp256k1"):
        csr_build(
            private_key=ec.generate_private_key(ec.SECP256R1()),
            template_name=CERTIFICATE_TEMPLATES["sandbox"],
            **FIELDS,
        )
    with pytest.raises(CsrError, match="template"):
        csr_build(private_key=egs_key_generate(), template_name="Code-Signing", **FIELDS)


def test_csr_read_refuses_other_requests() -> None:
    with pytest.raises(CsrError):
        csr_read(
            pem=b"-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n"
        )
    plain = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "x")]))
        .sign(egs_key_generate(), hashes.SHA256())
    )
    with pytest.raises(CsrError, match="extension"):
        csr_read(pem=plain.public_bytes(serialization.Encoding.PEM))
