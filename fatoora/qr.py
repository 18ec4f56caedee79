"""The QR of a stamped UBL document: ZATCA's TLV tags 1-9 taken from the XML and its stamp.

Tags 1-5 are the document's own text (seller name, VAT number, `IssueDate`T`IssueTime`, the
tax-inclusive total and the VAT total as the XML writes them), 6 the invoice hash, 7 the
signature value (both as their base64 text), 8 the public key (DER SubjectPublicKeyInfo) and,
for simplified documents only (`InvoiceTypeCode/@name` 02…), 9 the CA's signature on the
certificate: exactly what the four SDK samples carry. The TLV encoding is `fatoora.tlv`, the one
the PDF QR uses too.
"""

from __future__ import annotations

import base64

from lxml import etree

from fatoora.certificates import CertificateFacts
from fatoora.hashing import NS, InvoiceXmlError
from fatoora.tlv import ZatcaTag, tlv_encode

QR_REFERENCE = "cac:AdditionalDocumentReference[normalize-space(cbc:ID)='QR']"
_QR_TEXT = f"{QR_REFERENCE}/cac:Attachment/cbc:EmbeddedDocumentBinaryObject"

_SELLER = "cac:AccountingSupplierParty/cac:Party"
_TEXT_TAGS = (
    (ZatcaTag.SELLER_NAME, f"{_SELLER}/cac:PartyLegalEntity/cbc:RegistrationName"),
    (ZatcaTag.VAT_NUMBER, f"{_SELLER}/cac:PartyTaxScheme/cbc:CompanyID"),
    (ZatcaTag.TOTAL_WITH_VAT, "cac:LegalMonetaryTotal/cbc:TaxInclusiveAmount"),
    # The VAT total in the document's currency (a KWD invoice also has one in SAR).
    (ZatcaTag.VAT_TOTAL, "cac:TaxTotal/cbc:TaxAmount[@currencyID=../../cbc:DocumentCurrencyCode]"),
)


def invoice_is_simplified(*, invoice: etree._Element) -> bool:
    """Simplified (B2C) documents have a transaction code starting 02; standard ones 01."""
    return _text(invoice, "cbc:InvoiceTypeCode/@name").startswith("02")


def invoice_qr_fields(
    *,
    invoice: etree._Element,
    invoice_hash: str,
    signature_value: str,
    certificate: CertificateFacts,
) -> tuple[tuple[ZatcaTag, str | bytes], ...]:
    """Tags 1-8 (1-9 for a simplified document) in order."""
    values: dict[ZatcaTag, str | bytes] = {tag: _text(invoice, path) for tag, path in _TEXT_TAGS}
    values[ZatcaTag.TIMESTAMP] = (
        f"{_text(invoice, 'cbc:IssueDate')}T{_text(invoice, 'cbc:IssueTime')}"
    )
    values[ZatcaTag.INVOICE_HASH] = invoice_hash
    values[ZatcaTag.SIGNATURE] = signature_value
    values[ZatcaTag.PUBLIC_KEY] = certificate.public_key_der
    if invoice_is_simplified(invoice=invoice):
        values[ZatcaTag.CERTIFICATE_SIGNATURE] = certificate.signature
    return tuple(sorted(values.items()))


def invoice_qr_payload(
    *,
    invoice: etree._Element,
    invoice_hash: str,
    signature_value: str,
    certificate: CertificateFacts,
) -> str:
    """The base64 text of the QR reference's `EmbeddedDocumentBinaryObject`."""
    fields = invoice_qr_fields(
        invoice=invoice,
        invoice_hash=invoice_hash,
        signature_value=signature_value,
        certificate=certificate,
    )
    return base64.b64encode(tlv_encode(fields=fields)).decode("ascii")


def invoice_qr_read(*, invoice: etree._Element) -> str | None:
    """The QR payload the document carries, or None when it has none."""
    found = invoice.xpath(_QR_TEXT, namespaces=NS)
    return "".join(found[0].itertext()).strip() if found else None


def _text(invoice: etree._Element, path: str) -> str:
    found = invoice.xpath(path, namespaces=NS)
    if not found:
        raise InvoiceXmlError(f"the document has no {path}")
    node = found[0]
    value = node if isinstance(node, str) else "".join(node.itertext())
    return str(value).strip()
