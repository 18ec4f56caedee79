"""Checking a stamped document: the hash, the signed properties, the signature, the certificate
and the QR, each failure named by the check it failed so a validator can report its layer.

The signature value covers the invoice hash the document declares (that is what ZATCA signs);
the declared hash is compared with the recomputed one separately, so a changed amount reads as
"invoice-hash" and a forged signature as "signature-value", not both as one vague failure.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from lxml import etree

from fatoora.certificates import (
    CertificateError,
    CertificateFacts,
    certificate_facts,
    certificate_from_base64,
)
from fatoora.hashing import NS, InvoiceXmlError, invoice_hash
from fatoora.qr import invoice_qr_fields, invoice_qr_read
from fatoora.signing import signed_properties_digest
from fatoora.tlv import QrError, zatca_qr_decode_bytes

_SIGNATURE = "ext:UBLExtensions//sac:SignatureInformation/ds:Signature"
_PROPERTIES = "ds:Object/xades:QualifyingProperties/xades:SignedProperties"
_PARTS = {
    "invoice_digest": "ds:SignedInfo/ds:Reference[@Id='invoiceSignedData']/ds:DigestValue",
    "properties_digest": "ds:SignedInfo/ds:Reference[@URI='#xadesSignedProperties']/ds:DigestValue",
    "signature_value": "ds:SignatureValue",
    "certificate": "ds:KeyInfo/ds:X509Data/ds:X509Certificate",
    "certificate_digest": f"{_PROPERTIES}//xades:CertDigest/ds:DigestValue",
    "issuer_name": f"{_PROPERTIES}//xades:IssuerSerial/ds:X509IssuerName",
    "serial_number": f"{_PROPERTIES}//xades:IssuerSerial/ds:X509SerialNumber",
}


@dataclass(frozen=True)
class StampProblem:
    # structure | invoice-hash | signed-properties | certificate | certificate-digest |
    # issuer-serial | signature-value | qr
    check: str
    message: str


def stamp_verify(*, invoice: etree._Element) -> tuple[StampProblem, ...]:
    """Every problem of the document's stamp; empty when hash, signature and QR all hold."""
    signatures = invoice.xpath(_SIGNATURE, namespaces=NS)
    if len(signatures) != 1:
        return (StampProblem("structure", f"{len(signatures)} XAdES signatures, expected 1"),)
    signature = signatures[0]
    parts: dict[str, str] = {}
    for name, path in _PARTS.items():
        found = signature.xpath(path, namespaces=NS)
        if len(found) != 1 or not (found[0].text or "").strip():
            return (StampProblem("structure", f"the signature has no {path}"),)
        parts[name] = found[0].text.strip()
    try:
        certificate = certificate_from_base64(base64_der=parts["certificate"])
    except CertificateError as error:
        return (StampProblem("certificate", str(error)),)
    facts = certificate_facts(certificate=certificate)

    problems = []
    actual_hash = invoice_hash(invoice=invoice)
    if actual_hash != parts["invoice_digest"]:
        problems.append(
            StampProblem(
                "invoice-hash",
                f"the document hashes to {actual_hash}, the signature declares "
                f"{parts['invoice_digest']}: the signed content was changed",
            )
        )
    properties = signature.xpath(_PROPERTIES, namespaces=NS)[0]
    if signed_properties_digest(signed_properties=properties) != parts["properties_digest"]:
        problems.append(
            StampProblem("signed-properties", "the signed properties do not match their digest")
        )
    if facts.digest != parts["certificate_digest"]:
        problems.append(
            StampProblem("certificate-digest", "the certificate does not match its digest")
        )
    if (parts["issuer_name"], parts["serial_number"]) != (facts.issuer_name, facts.serial_number):
        problems.append(
            StampProblem(
                "issuer-serial",
                f"the signed properties name {parts['issuer_name']} / {parts['serial_number']}, "
                f"the certificate is {facts.issuer_name} / {facts.serial_number}",
            )
        )
    if not _signature_holds(certificate, parts["signature_value"], parts["invoice_digest"]):
        problems.append(
            StampProblem(
                "signature-value",
                "the signature value does not verify with the certificate's public key",
            )
        )
    problems.extend(_qr_problems(invoice, parts, facts))
    return tuple(problems)


def _signature_holds(certificate: x509.Certificate, signature_value: str, digest: str) -> bool:
    public_key = certificate.public_key()
    if not isinstance(public_key, ec.EllipticCurvePublicKey):
        return False
    try:
        signature = base64.b64decode(signature_value, validate=True)
        public_key.verify(signature, base64.b64decode(digest), ec.ECDSA(hashes.SHA256()))
    except (binascii.Error, InvalidSignature):
        return False
    return True


def _qr_problems(
    invoice: etree._Element, parts: dict[str, str], facts: CertificateFacts
) -> list[StampProblem]:
    payload = invoice_qr_read(invoice=invoice)
    if payload is None:
        return [StampProblem("qr", "the document has no QR")]
    try:
        found = zatca_qr_decode_bytes(payload=payload)
        expected = invoice_qr_fields(
            invoice=invoice,
            invoice_hash=parts["invoice_digest"],
            signature_value=parts["signature_value"],
            certificate=facts,
        )
    except (QrError, InvoiceXmlError) as error:
        return [StampProblem("qr", str(error))]
    problems = []
    for tag, value in expected:
        wanted = value.encode("utf-8") if isinstance(value, str) else value
        if found.get(tag) != wanted:
            problems.append(StampProblem("qr", f"QR tag {tag} ({tag.name}) does not match"))
    problems.extend(
        StampProblem("qr", f"QR tag {tag} is not one this document carries")
        for tag in sorted(set(found) - {tag for tag, _ in expected})
    )
    return problems
