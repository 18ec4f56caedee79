"""EGS keys and certificates: what the stamp needs to know of a certificate, and a test CA.

An EGS unit (Wasla's invoicing service) signs with an ECDSA secp256k1 key whose certificate
ZATCA issues (the CSID). The XAdES signed properties and the QR need five facts of that
certificate, read here in ZATCA's formats (`certificate_facts`). The test CA makes EGS
certificates shaped like ZATCA's (subject C/O/OU/CN, the EGS serial, VAT number, invoice types,
address and business category in a directory-name SAN) for the tests and the simulator.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from fatoora.hashing import sha256_hex_base64


class CertificateError(ValueError):
    """A certificate that cannot be read or does not fit a ZATCA stamp."""


@dataclass(frozen=True)
class CertificateFacts:
    base64_der: str  # the text of ds:X509Certificate
    digest: str  # xades:CertDigest: base64 of the SHA-256 hex of `base64_der` (ZATCA's form)
    issuer_name: str  # ds:X509IssuerName: "CN=PRZEINVOICESCA4-CA, DC=extgazt, DC=gov, DC=local"
    serial_number: str  # ds:X509SerialNumber, in decimal
    public_key_der: bytes  # QR tag 8: the SubjectPublicKeyInfo, DER
    signature: bytes  # QR tag 9 (simplified documents): the CA's signature on the certificate


@dataclass(frozen=True)
class CertificateAuthority:
    key: ec.EllipticCurvePrivateKey
    certificate: x509.Certificate


@dataclass(frozen=True)
class EgsSubject:
    """What ZATCA writes into an EGS certificate (from the CSR of the onboarding)."""

    common_name: str
    organization: str
    organization_unit: str
    vat_number: str
    egs_serial: str  # "1-Wasla|2-<version>|3-<unit uuid>"
    invoice_types: str = "1100"  # standard and simplified: the four-flag code of the CSR
    address: str = "RRRD2929"
    business_category: str = "Technology"


def egs_key_generate() -> ec.EllipticCurvePrivateKey:
    """A new EGS private key on ZATCA's curve."""
    return ec.generate_private_key(ec.SECP256K1())


def certificate_from_base64(*, base64_der: str) -> x509.Certificate:
    """A certificate from the base64 DER text ZATCA uses (in ds:X509Certificate and CSIDs)."""
    try:
        return x509.load_der_x509_certificate(base64.b64decode(base64_der, validate=True))
    except (binascii.Error, ValueError) as error:
        raise CertificateError(f"not a base64 DER X.509 certificate: {error}") from None


def certificate_base64(*, certificate: x509.Certificate) -> str:
    der = certificate.public_bytes(serialization.Encoding.DER)
    return base64.b64encode(der).decode("ascii")


def certificate_facts(*, certificate: x509.Certificate) -> CertificateFacts:
    text = certificate_base64(certificate=certificate)
    return CertificateFacts(
        base64_der=text,
        # ZATCA hashes the base64 text of the certificate, not its DER bytes.
        digest=sha256_hex_base64(data=text.encode("ascii")),
        issuer_name=issuer_name(certificate=certificate),
        serial_number=str(certificate.serial_number),
        public_key_der=certificate.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        ),
        signature=certificate.signature,
    )


def issuer_name(*, certificate: x509.Certificate) -> str:
    """The issuer as ZATCA's SDK writes it: most specific RDN first, joined by ", "."""
    return ", ".join(rdn.rfc4514_string() for rdn in reversed(certificate.issuer.rdns))


def certificate_issued_by(*, certificate: x509.Certificate, issuer: x509.Certificate) -> bool:
    """Whether `issuer`'s key signed `certificate` (and the names chain)."""
    try:
        certificate.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def ca_create(*, now: dt.datetime, name: str = "WaslaTestZatcaCA") -> CertificateAuthority:
    """A self-signed CA named like ZATCA's issuing CAs (a CN under DC components)."""
    key = ec.generate_private_key(ec.SECP256K1())
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.DOMAIN_COMPONENT, "local"),
            x509.NameAttribute(NameOID.DOMAIN_COMPONENT, "gov"),
            x509.NameAttribute(NameOID.DOMAIN_COMPONENT, "waslatest"),
            x509.NameAttribute(NameOID.COMMON_NAME, name),
        ]
    )
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(ca=True), critical=True)
        .sign(key, hashes.SHA256())
    )
    return CertificateAuthority(key=key, certificate=certificate)


def egs_certificate_issue(
    *,
    ca: CertificateAuthority,
    public_key: ec.EllipticCurvePublicKey,
    subject: EgsSubject,
    now: dt.datetime,
    days: int = 365,
) -> x509.Certificate:
    """An EGS certificate (CSID) for `public_key`, signed by `ca` with ECDSA-SHA256."""
    if not isinstance(public_key.curve, ec.SECP256K1):
        raise CertificateError(f"ZATCA keys are secp256k1, got {public_key.curve.name}")
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "SA"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, subject.organization),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, subject.organization_unit),
            x509.NameAttribute(NameOID.COMMON_NAME, subject.common_name),
        ]
    )
    egs = x509.Name(
        [
            x509.NameAttribute(NameOID.SURNAME, subject.egs_serial),
            x509.NameAttribute(NameOID.USER_ID, subject.vat_number),
            x509.NameAttribute(NameOID.TITLE, subject.invoice_types),
            x509.NameAttribute(x509.ObjectIdentifier("2.5.4.26"), subject.address),
            x509.NameAttribute(NameOID.BUSINESS_CATEGORY, subject.business_category),
        ]
    )
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(ca.certificate.subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.SubjectAlternativeName([x509.DirectoryName(egs)]), critical=False)
        .add_extension(_key_usage(ca=False), critical=True)
        .sign(ca.key, hashes.SHA256())
    )


def _key_usage(*, ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not ca,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )
