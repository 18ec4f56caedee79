"""The cryptographic stamp: ZATCA's XAdES enveloped signature and QR, placed as the SDK does.

What ZATCA's SDK really does (every point checked against its four signed samples):
- `ds:SignatureValue` is ECDSA-SHA256 over the 32 raw bytes of the invoice hash, not over the
  canonical `ds:SignedInfo` as XML-DSig would have it; so `signxml` and other XML-DSig
  libraries cannot make or check it (nor do they run the XPath-filter transforms). fatoora-rs's
  Python bindings (a native library) sign compatibly but add QR tag 9 to standard documents,
  which the SDK's standard samples do not carry, and report no check-by-check verification.
- The signed-properties digest and the certificate digest are base64 of the SHA-256 *hex*.
- The signed-properties digest is taken over `xades:SignedProperties` serialised like exclusive
  C14N (`xmlns:xades` on it, `xmlns:ds` on each ds element) but with the empty
  `ds:DigestMethod` left self-closed, and with the indentation the element has in the document:
  the template below is the samples' layout, byte for byte.
- The extension is the root's first child; the QR reference and `cac:Signature` follow the last
  `AdditionalDocumentReference` (PIH) with no whitespace of their own outside them, so the
  stamped document hashes exactly like the unstamped one.
"""

from __future__ import annotations

import base64
import datetime as dt
import re
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from lxml import etree

from fatoora.certificates import CertificateError, certificate_facts
from fatoora.hashing import (
    NS,
    InvoiceXmlError,
    invoice_hash,
    invoice_parse,
    sha256_hex_base64,
)
from fatoora.qr import QR_REFERENCE, invoice_qr_payload

_EXTENSIONS = """\
<ext:UBLExtensions xmlns:ext="{ext}" xmlns:cbc="{cbc}">
    <ext:UBLExtension>
        <ext:ExtensionURI>urn:oasis:names:specification:ubl:dsig:enveloped:xades</ext:ExtensionURI>
        <ext:ExtensionContent>
            <sig:UBLDocumentSignatures xmlns:sig="{sig}" xmlns:sac="{sac}" xmlns:sbc="{sbc}">
                <sac:SignatureInformation>
                    <cbc:ID>urn:oasis:names:specification:ubl:signature:1</cbc:ID>
                    <sbc:ReferencedSignatureID>urn:oasis:names:specification:ubl:signature:Invoice</sbc:ReferencedSignatureID>
                    <ds:Signature xmlns:ds="{ds}" Id="signature">
                        <ds:SignedInfo>
                            <ds:CanonicalizationMethod Algorithm="http://www.w3.org/2006/12/xml-c14n11"/>
                            <ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"/>
                            <ds:Reference Id="invoiceSignedData" URI="">
                                <ds:Transforms>
                                    <ds:Transform Algorithm="http://www.w3.org/TR/1999/REC-xpath-19991116">
                                        <ds:XPath>not(//ancestor-or-self::ext:UBLExtensions)</ds:XPath>
                                    </ds:Transform>
                                    <ds:Transform Algorithm="http://www.w3.org/TR/1999/REC-xpath-19991116">
                                        <ds:XPath>not(//ancestor-or-self::cac:Signature)</ds:XPath>
                                    </ds:Transform>
                                    <ds:Transform Algorithm="http://www.w3.org/TR/1999/REC-xpath-19991116">
                                        <ds:XPath>not(//ancestor-or-self::cac:AdditionalDocumentReference[cbc:ID='QR'])</ds:XPath>
                                    </ds:Transform>
                                    <ds:Transform Algorithm="http://www.w3.org/2006/12/xml-c14n11"/>
                                </ds:Transforms>
                                <ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/>
                                <ds:DigestValue/>
                            </ds:Reference>
                            <ds:Reference Type="http://www.w3.org/2000/09/xmldsig#SignatureProperties" URI="#xadesSignedProperties">
                                <ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/>
                                <ds:DigestValue/>
                            </ds:Reference>
                        </ds:SignedInfo>
                        <ds:SignatureValue/>
                        <ds:KeyInfo>
                            <ds:X509Data>
                                <ds:X509Certificate/>
                            </ds:X509Data>
                        </ds:KeyInfo>
                        <ds:Object>
                            <xades:QualifyingProperties xmlns:xades="{xades}" Target="signature">
                                <xades:SignedProperties Id="xadesSignedProperties">
                                    <xades:SignedSignatureProperties>
                                        <xades:SigningTime/>
                                        <xades:SigningCertificate>
                                            <xades:Cert>
                                                <xades:CertDigest>
                                                    <ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/>
                                                    <ds:DigestValue/>
                                                </xades:CertDigest>
                                                <xades:IssuerSerial>
                                                    <ds:X509IssuerName/>
                                                    <ds:X509SerialNumber/>
                                                </xades:IssuerSerial>
                                            </xades:Cert>
                                        </xades:SigningCertificate>
                                    </xades:SignedSignatureProperties>
                                </xades:SignedProperties>
                            </xades:QualifyingProperties>
                        </ds:Object>
                    </ds:Signature>
                </sac:SignatureInformation>
            </sig:UBLDocumentSignatures>
        </ext:ExtensionContent>
    </ext:UBLExtension>
</ext:UBLExtensions>""".format(**NS)  # noqa: E501 (the samples' layout, byte for byte)

_QR = """\
<cac:AdditionalDocumentReference xmlns:cac="{cac}" xmlns:cbc="{cbc}">
        <cbc:ID>QR</cbc:ID>
        <cac:Attachment>
            <cbc:EmbeddedDocumentBinaryObject mimeCode="text/plain"/>
        </cac:Attachment>
</cac:AdditionalDocumentReference>""".format(**NS)

_CAC_SIGNATURE = """\
<cac:Signature xmlns:cac="{cac}" xmlns:cbc="{cbc}">
      <cbc:ID>urn:oasis:names:specification:ubl:signature:Invoice</cbc:ID>
      <cbc:SignatureMethod>urn:oasis:names:specification:ubl:dsig:enveloped:xades</cbc:SignatureMethod>
</cac:Signature>""".format(**NS)

_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'

# Exclusive C14N writes an empty element as a start and an end tag; ZATCA's serialiser doesn't.
_EMPTY_ELEMENT = re.compile(r"<([\w.:-]+)([^<>]*)></\1>")


class SigningError(ValueError):
    """A document, key or certificate the stamp cannot be made with."""


@dataclass(frozen=True)
class StampedInvoice:
    xml: bytes  # the stamped document, UTF-8 with an XML declaration
    invoice_hash: str  # the digest, QR tag 6 and the PIH of the unit's next document
    signature_value: str
    qr: str


def hash_sign(*, private_key: ec.EllipticCurvePrivateKey, invoice_hash: str) -> str:
    """ZATCA's signature value: ECDSA-SHA256 (DER, base64) over the raw invoice-hash bytes."""
    der = private_key.sign(base64.b64decode(invoice_hash), ec.ECDSA(hashes.SHA256()))
    return base64.b64encode(der).decode("ascii")


def signed_properties_digest(*, signed_properties: etree._Element) -> str:
    """The digest of `xades:SignedProperties` as ZATCA computes it (see the module docstring)."""
    text = etree.tostring(signed_properties, method="c14n", exclusive=True, with_comments=False)
    text = _EMPTY_ELEMENT.sub(r"<\1\2/>", text.decode("utf-8")).encode("utf-8")
    return sha256_hex_base64(data=text)


def invoice_stamp(
    *,
    xml: bytes,
    private_key: ec.EllipticCurvePrivateKey,
    certificate: x509.Certificate,
    signing_time: dt.datetime,
) -> StampedInvoice:
    """Sign an unstamped UBL document; `signing_time` is aware and written in UTC."""
    if signing_time.tzinfo is None:
        raise SigningError("the signing time must be timezone-aware")
    if not _same_key(private_key, certificate):
        raise CertificateError("the private key does not belong to the certificate")
    invoice = invoice_parse(xml=xml)
    references = invoice.xpath("cac:AdditionalDocumentReference", namespaces=NS)
    if invoice.xpath(f"ext:UBLExtensions | cac:Signature | {QR_REFERENCE}", namespaces=NS):
        raise SigningError("the document is already stamped (extensions, signature or QR)")
    if not references:
        raise InvoiceXmlError("the document has no AdditionalDocumentReference (ICV, PIH)")

    digest = invoice_hash(invoice=invoice)
    signature_value = hash_sign(private_key=private_key, invoice_hash=digest)
    facts = certificate_facts(certificate=certificate)
    extensions = etree.fromstring(_EXTENSIONS)
    utc = signing_time.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")
    for path, value in (
        ("//xades:SigningTime", utc),
        ("//xades:CertDigest/ds:DigestValue", facts.digest),
        ("//ds:X509IssuerName", facts.issuer_name),
        ("//ds:X509SerialNumber", facts.serial_number),
        ("//ds:Reference[@Id='invoiceSignedData']/ds:DigestValue", digest),
        ("//ds:SignatureValue", signature_value),
        ("//ds:X509Certificate", facts.base64_der),
    ):
        _only(extensions, path).text = value
    properties = _only(extensions, "//xades:SignedProperties")
    reference = _only(extensions, "//ds:Reference[@URI='#xadesSignedProperties']/ds:DigestValue")
    reference.text = signed_properties_digest(signed_properties=properties)

    qr = invoice_qr_payload(
        invoice=invoice, invoice_hash=digest, signature_value=signature_value, certificate=facts
    )
    qr_reference = etree.fromstring(_QR)
    _only(qr_reference, "//cbc:EmbeddedDocumentBinaryObject").text = qr
    # The whitespace before the first child moves behind the extension, where it was hashed.
    extensions.tail, invoice.text = invoice.text, None
    invoice.insert(0, extensions)
    references[-1].addnext(qr_reference)
    qr_reference.addnext(etree.fromstring(_CAC_SIGNATURE))
    # lxml would write the declaration with single quotes; the SDK's documents use double ones.
    stamped = _DECLARATION + etree.tostring(invoice, encoding="UTF-8")
    return StampedInvoice(xml=stamped, invoice_hash=digest, signature_value=signature_value, qr=qr)


def _same_key(private_key: ec.EllipticCurvePrivateKey, certificate: x509.Certificate) -> bool:
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    ours = private_key.public_key().public_bytes(serialization.Encoding.DER, spki)
    theirs = certificate.public_key().public_bytes(serialization.Encoding.DER, spki)
    return ours == theirs


def _only(root: etree._Element, path: str) -> etree._Element:
    (found,) = root.xpath(path, namespaces=NS)
    return found
