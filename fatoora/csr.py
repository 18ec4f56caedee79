"""ZATCA's onboarding CSR: what an EGS unit sends with its OTP to get a compliance CSID.

The request ZATCA's SDK makes from its `csr-config` (and that ZATCA's CA reads back):
- an ECDSA secp256k1 key, signed with SHA-256;
- subject C (two letters), OU (the branch, or for a VAT group the member's TIN), O, CN;
- the Microsoft certificate-template-name extension (OID 1.3.6.1.4.1.311.20.2) holding the
  template of the environment as a PrintableString (`CERTIFICATE_TEMPLATES`);
- a subject alternative name with one directory name: SN (surname, 2.5.4.4) the EGS serial
  `1-<solution>|2-<model or version>|3-<serial>`, UID (0.9.2342.19200300.100.1.1) the VAT
  number, title (2.5.4.12) the four invoice-type flags (standard, simplified, two reserved;
  "1000" standard only, "1100" both), registeredAddress (2.5.4.26) the branch's location and
  businessCategory (2.5.4.15) the industry.
`csr_read` is the other side: what a CA (the simulator) takes out of such a request.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from fatoora.certificates import EgsSubject

CERTIFICATE_TEMPLATES: Final = {
    "sandbox": "TSTZATCA-Code-Signing",
    "simulation": "PREZATCA-Code-Signing",
    "production": "ZATCA-Code-Signing",
}
TEMPLATE_NAME_OID: Final = x509.ObjectIdentifier("1.3.6.1.4.1.311.20.2")
REGISTERED_ADDRESS_OID: Final = x509.ObjectIdentifier("2.5.4.26")

_VAT_NUMBER = re.compile(r"3[0-9]{13}3")  # 15 digits, first and last 3 (BR-KSA-39)
_INVOICE_TYPES = re.compile(r"[01]{4}")
_EGS_SERIAL = re.compile(r"1-[^|]+\|2-[^|]+\|3-[^|]+")
_PRINTABLE = re.compile(r"[A-Za-z0-9 '()+,\-./:=?]+")  # the PrintableString alphabet
_PRINTABLE_TAG: Final = 0x13


class CsrError(ValueError):
    """Values a ZATCA CSR cannot carry, or a request that is not one."""


@dataclass(frozen=True)
class CsrFacts:
    """What a ZATCA CSR says, once its signature has been checked."""

    public_key: ec.EllipticCurvePublicKey
    template_name: str
    country: str
    subject: EgsSubject


def csr_build(
    *,
    private_key: ec.EllipticCurvePrivateKey,
    common_name: str,
    egs_serial: str,
    vat_number: str,
    organization: str,
    organization_unit: str,
    country: str,
    invoice_types: str,
    location: str,
    industry: str,
    template_name: str,
) -> bytes:
    """The PEM of the CSR ZATCA's onboarding API takes (base64 of it goes in `{"csr": ...}`)."""
    if not isinstance(private_key.curve, ec.SECP256K1):
        raise CsrError(f"ZATCA keys are secp256k1, got {private_key.curve.name}")
    if not _VAT_NUMBER.fullmatch(vat_number):
        raise CsrError("the VAT number is 15 digits starting and ending with 3")
    if not _INVOICE_TYPES.fullmatch(invoice_types) or not invoice_types.startswith(("1", "01")):
        raise CsrError(
            'the invoice types are four 0/1 flags with standard or simplified on: "1000"'
        )
    if not _EGS_SERIAL.fullmatch(egs_serial):
        raise CsrError('the EGS serial reads "1-<solution>|2-<version>|3-<serial>"')
    if template_name not in CERTIFICATE_TEMPLATES.values():
        raise CsrError(f"unknown certificate template {template_name!r}")
    if len(country) != 2 or not country.isalpha() or not country.isupper():
        raise CsrError("the country is a two-letter ISO 3166 code")
    for name, value in (
        ("common_name", common_name),
        ("organization", organization),
        ("organization_unit", organization_unit),
        ("location", location),
        ("industry", industry),
    ):
        if not value.strip() or len(value) > 64:
            raise CsrError(f"{name} must be 1 to 64 characters")
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, country),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, organization_unit),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )
    egs = x509.Name(
        [
            x509.NameAttribute(NameOID.SURNAME, egs_serial),
            x509.NameAttribute(NameOID.USER_ID, vat_number),
            x509.NameAttribute(NameOID.TITLE, invoice_types),
            x509.NameAttribute(REGISTERED_ADDRESS_OID, location),
            x509.NameAttribute(NameOID.BUSINESS_CATEGORY, industry),
        ]
    )
    request = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(subject)
        .add_extension(
            x509.UnrecognizedExtension(TEMPLATE_NAME_OID, _printable_der(template_name)),
            critical=False,
        )
        .add_extension(x509.SubjectAlternativeName([x509.DirectoryName(egs)]), critical=False)
        .sign(private_key, hashes.SHA256())
    )
    return request.public_bytes(serialization.Encoding.PEM)


def csr_read(*, pem: bytes) -> CsrFacts:
    """The facts of a ZATCA CSR; CsrError when it is not one (or its signature is wrong)."""
    try:
        request = x509.load_pem_x509_csr(pem)
    except ValueError as error:
        raise CsrError(f"not a PEM certificate signing request: {error}") from None
    if not request.is_signature_valid:
        raise CsrError("the request's signature does not verify with its own key")
    public_key = request.public_key()
    if not isinstance(public_key, ec.EllipticCurvePublicKey) or not isinstance(
        public_key.curve, ec.SECP256K1
    ):
        raise CsrError("the request's key is not an ECDSA secp256k1 key")
    try:
        template = request.extensions.get_extension_for_oid(TEMPLATE_NAME_OID).value
        alt_names = request.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound as error:
        raise CsrError(f"the request lacks an extension ZATCA requires: {error}") from None
    except ValueError as error:  # a malformed extension
        raise CsrError(f"the request's extensions cannot be read: {error}") from None
    names = alt_names.get_values_for_type(x509.DirectoryName)
    if not isinstance(template, x509.UnrecognizedExtension) or len(names) != 1:
        raise CsrError("the request needs a template name and one directory-name SAN")
    facts = CsrFacts(
        public_key=public_key,
        template_name=_printable_read(template.value),
        country=_attribute(request.subject, NameOID.COUNTRY_NAME),
        subject=EgsSubject(
            common_name=_attribute(request.subject, NameOID.COMMON_NAME),
            organization=_attribute(request.subject, NameOID.ORGANIZATION_NAME),
            organization_unit=_attribute(request.subject, NameOID.ORGANIZATIONAL_UNIT_NAME),
            vat_number=_attribute(names[0], NameOID.USER_ID),
            egs_serial=_attribute(names[0], NameOID.SURNAME),
            invoice_types=_attribute(names[0], NameOID.TITLE),
            address=_attribute(names[0], REGISTERED_ADDRESS_OID),
            business_category=_attribute(names[0], NameOID.BUSINESS_CATEGORY),
        ),
    )
    if facts.template_name not in CERTIFICATE_TEMPLATES.values():
        raise CsrError(f"unknown certificate template {facts.template_name!r}")
    if not _VAT_NUMBER.fullmatch(facts.subject.vat_number):
        raise CsrError("the UID is not a VAT number (15 digits starting and ending with 3)")
    if not _INVOICE_TYPES.fullmatch(facts.subject.invoice_types):
        raise CsrError("the title is not four invoice-type flags")
    if not _EGS_SERIAL.fullmatch(facts.subject.egs_serial):
        raise CsrError('the SN does not read "1-<solution>|2-<version>|3-<serial>"')
    return facts


def _printable_der(text: str) -> bytes:
    if not _PRINTABLE.fullmatch(text) or len(text) > 127:
        raise CsrError(f"{text!r} is not a short PrintableString")
    return bytes((_PRINTABLE_TAG, len(text))) + text.encode("ascii")


def _printable_read(der: bytes) -> str:
    # A PrintableString (or a UTF8String, which some tools write) of a short definite length.
    if len(der) < 2 or der[0] not in (_PRINTABLE_TAG, 0x0C) or der[1] != len(der) - 2:
        raise CsrError("the certificate template name is not a short ASN.1 string")
    try:
        return der[2:].decode("utf-8")
    except UnicodeDecodeError:
        raise CsrError("the certificate template name is not text") from None


def _attribute(name: x509.Name, oid: x509.ObjectIdentifier) -> str:
    values = name.get_attributes_for_oid(oid)
    if len(values) != 1:
        raise CsrError(f"the request needs exactly one {oid.dotted_string}, it has {len(values)}")
    value = values[0].value
    return value if isinstance(value, str) else value.decode("utf-8", "replace")
