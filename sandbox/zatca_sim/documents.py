"""What the simulator checks of a submitted document, as ZATCA's `validationResults` messages.

Layers, each reported the way ZATCA's gateway reports it (type, code, category, message,
status): the UBL XSD (`XSD_ZATCA_VALID` / `XSD_ZATCA_INVALID`), the EN 16931 and KSA
schematrons (code = the rule, category "EN" / "KSA"), the invoice hash of the request body
against the document (`invalid-invoice-hash`), the stamp (`fatoora.verifying`: hash, signed
properties, certificate digest, issuer/serial, signature value, QR), the certificate (issued by
the simulator's CA and the caller's own CSID) and the UUID of the request body. The chain
(ICV, PIH) is checked by the submission service, which knows the EGS's previous document.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Final

from cryptography import x509
from django.conf import settings
from lxml import etree

from fatoora.certificates import CertificateError, certificate_from_base64, certificate_issued_by
from fatoora.hashing import NS, invoice_hash
from fatoora.qr import invoice_is_simplified
from fatoora.validation import UnreadableDocument, standard_checks, zatca_parse, zatca_validate
from fatoora.verifying import stamp_verify

_STAMP_CODES: Final = {
    "structure": ("invalid-signature", "SIGNATURE_ERRORS"),
    "invoice-hash": ("invalid-invoice-hash", "INVOICE_HASHING_ERRORS"),
    "signed-properties": ("signed-properties-hashing", "CERTIFICATE_ERRORS"),
    "certificate": ("invalid-certificate", "CERTIFICATE_ERRORS"),
    "certificate-digest": ("certificate-hashing", "CERTIFICATE_ERRORS"),
    "issuer-serial": ("certificate-issuer-name", "CERTIFICATE_ERRORS"),
    "signature-value": ("invalid-signature", "SIGNATURE_ERRORS"),
    "qr": ("QRCODE_INVALID", "QRCODE_VALIDATION"),
}
_CERTIFICATE = "ext:UBLExtensions//ds:Signature/ds:KeyInfo/ds:X509Data/ds:X509Certificate"


@dataclass(frozen=True)
class Message:
    type: str  # INFO | WARNING | ERROR
    code: str
    category: str
    message: str

    @property
    def status(self) -> str:
        return {"INFO": "PASS", "WARNING": "WARNING"}.get(self.type, "ERROR")

    def as_dict(self) -> dict[str, str]:
        return {
            "type": self.type,
            "code": self.code,
            "category": self.category,
            "message": self.message,
            "status": self.status,
        }


def error(code: str, category: str, message: str) -> Message:
    return Message("ERROR", code, category, message)


@dataclass(frozen=True)
class DocumentFacts:
    uuid: str
    icv: int | None  # None when the document carries no readable ICV (then an error is listed)
    pih: str
    type_code: str  # 388 invoice, 381 credit note, 383 debit note
    simplified: bool

    @property
    def document(self) -> str:
        return f"{'simplified' if self.simplified else 'standard'}-{self.type_code}"


@dataclass(frozen=True)
class Checked:
    facts: DocumentFacts | None  # None when the document could not be read at all
    messages: tuple[Message, ...]


def rules_dir() -> Path:
    return Path(settings.SANDBOX_ZATCA_RULES_DIR)


def document_check(
    *,
    xml: bytes,
    invoice_hash_claimed: str,
    uuid: str,
    caller: x509.Certificate,
    ca: x509.Certificate,
) -> Checked:
    """Every message ZATCA would give for this document sent by the holder of `caller`."""
    try:
        report = zatca_validate(xml=xml, checks=standard_checks(rules_dir()))
    except UnreadableDocument as exc:
        return Checked(None, (error("XSD_ZATCA_INVALID", "XSD validation", str(exc)),))
    messages = [_rule_message(r.layer, r.severity, r.rule, r.message) for r in report.results]
    if not any(r.layer == "xsd" for r in report.results):
        messages.insert(
            0,
            Message(
                "INFO",
                "XSD_ZATCA_VALID",
                "XSD validation",
                "Complied with UBL 2.1 standards in line with ZATCA specifications",
            ),
        )
    invoice = zatca_parse(xml=xml).getroot()
    facts = _facts(invoice)
    if invoice_hash(invoice=invoice) != invoice_hash_claimed:
        messages.append(
            error(
                "invalid-invoice-hash",
                "INVOICE_HASHING_ERRORS",
                "The invoice hash API body does not match the (calculated) Hash of the XML",
            )
        )
    for problem in stamp_verify(invoice=invoice):
        code, category = _STAMP_CODES[problem.check]
        messages.append(error(code, category, problem.message))
    messages.extend(_certificate_messages(invoice, caller=caller, ca=ca))
    if facts.uuid != uuid:
        messages.append(
            error(
                "invalid-invoice-uuid",
                "UUID_VALIDATION",
                "The UUID of the API body does not match the document's cbc:UUID",
            )
        )
    if facts.icv is None:
        messages.append(error("invalid-icv", "ICV_VALIDATION", "The document has no numeric ICV"))
    return Checked(facts, tuple(messages))


def _rule_message(layer: str, severity: str, rule: str, text: str) -> Message:
    kind = "WARNING" if severity == "warning" else "ERROR"
    if layer == "xsd":
        return Message(kind, "XSD_ZATCA_INVALID", "XSD validation", text)
    return Message(kind, rule, layer.upper(), text)


def _facts(invoice: etree._Element) -> DocumentFacts:
    icv_text = _text(invoice, "cac:AdditionalDocumentReference[cbc:ID='ICV']/cbc:UUID")
    pih = _text(
        invoice,
        "cac:AdditionalDocumentReference[cbc:ID='PIH']/cac:Attachment/cbc:EmbeddedDocumentBinaryObject",
    )
    try:
        simplified = invoice_is_simplified(invoice=invoice)
    except ValueError:
        simplified = False
    return DocumentFacts(
        uuid=_text(invoice, "cbc:UUID"),
        icv=int(icv_text) if icv_text.isdigit() and len(icv_text) < 18 else None,
        pih=pih,
        type_code=_text(invoice, "cbc:InvoiceTypeCode"),
        simplified=simplified,
    )


def _certificate_messages(
    invoice: etree._Element, *, caller: x509.Certificate, ca: x509.Certificate
) -> list[Message]:
    found = invoice.xpath(_CERTIFICATE, namespaces=NS)
    if len(found) != 1:
        return []  # the stamp check has already said the signature is missing
    try:
        certificate = certificate_from_base64(base64_der="".join(found[0].itertext()).strip())
    except CertificateError:
        return []  # ditto: reported as invalid-certificate
    if not certificate_issued_by(certificate=certificate, issuer=ca):
        return [
            error(
                "invalid-certificate",
                "CERTIFICATE_ERRORS",
                "The certificate that signed the document was not issued by ZATCA",
            )
        ]
    if certificate.serial_number != caller.serial_number:
        return [
            error(
                "invalid-certificate",
                "CERTIFICATE_ERRORS",
                "The document is not signed with the CSID used to submit it",
            )
        ]
    return []


def _text(invoice: etree._Element, path: str) -> str:
    found = invoice.xpath(path, namespaces=NS)
    return "".join(found[0].itertext()).strip() if found else ""
