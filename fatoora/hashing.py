"""The ZATCA invoice hash: what the stamp signs, the QR carries and the next document chains to.

ZATCA's signature reference names three XPath transforms and C14N 1.1: the hash covers the
document without `ext:UBLExtensions` (the signature itself), `cac:Signature` and the
`cac:AdditionalDocumentReference` whose `cbc:ID` is `QR`, canonicalised, SHA-256, base64 of
the 32 raw bytes. The transforms as written (`not(//ancestor-or-self::…)`) would, read
literally, drop every node; ZATCA's SDK and every implementation that matches its samples
remove those three subtrees and canonicalise the rest, and so do we.

lxml exposes C14N 1.0, not 1.1 (libxml2 has it; lxml does not surface it). The two differ only
in how `xml:id`/`xml:base` are inherited by an element whose parent is left out of a document
subset; removing whole subtrees never leaves such an element, so C14N 1.0 of the pruned tree is
byte-for-byte the C14N 1.1 of ZATCA's node-set. The whitespace around the removed elements is
not theirs (it belongs to the parent), so it stays: the SDK samples' digests prove it.
"""

from __future__ import annotations

import base64
import copy
import hashlib

from lxml import etree

NS = {
    "inv": "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2",
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
    "ext": "urn:oasis:names:specification:ubl:schema:xsd:CommonExtensionComponents-2",
    "sig": "urn:oasis:names:specification:ubl:schema:xsd:CommonSignatureComponents-2",
    "sac": "urn:oasis:names:specification:ubl:schema:xsd:SignatureAggregateComponents-2",
    "sbc": "urn:oasis:names:specification:ubl:schema:xsd:SignatureBasicComponents-2",
    "ds": "http://www.w3.org/2000/09/xmldsig#",
    "xades": "http://uri.etsi.org/01903/v1.3.2#",
}


# The three subtrees outside the hash, children of the root as UBL places them.
_UNHASHED = (
    "ext:UBLExtensions",
    "cac:Signature",
    "cac:AdditionalDocumentReference[normalize-space(cbc:ID)='QR']",
)

# No DTD, no entities, no network: an invoice is data from outside (ZATCA, a merchant's upload).
_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, remove_blank_text=False
)


def sha256_hex_base64(*, data: bytes) -> str:
    """ZATCA's other digest form: base64 of the lowercase *hex* SHA-256 (certificate digest,
    signed-properties digest, the first PIH), unlike the invoice hash (base64 of raw bytes)."""
    return base64.b64encode(hashlib.sha256(data).hexdigest().encode("ascii")).decode("ascii")


# The previous-invoice hash of a unit's first document.
FIRST_PIH = sha256_hex_base64(data=b"0")


class InvoiceXmlError(ValueError):
    """Bytes that are not a UBL invoice we can hash or sign."""


def invoice_parse(*, xml: bytes) -> etree._Element:
    """The root element of a UBL invoice or credit note (ZATCA uses the `Invoice` root for both)."""
    try:
        root = etree.fromstring(xml, parser=_PARSER)
    except etree.XMLSyntaxError as error:
        raise InvoiceXmlError(f"not well-formed XML: {error}") from None
    if root.tag != f"{{{NS['inv']}}}Invoice":
        raise InvoiceXmlError(f"the root element is {root.tag}, not a UBL Invoice")
    return root


def invoice_unstamped(*, invoice: etree._Element) -> etree._Element:
    """A copy of the document without the signature, `cac:Signature` and the QR reference."""
    pruned = copy.deepcopy(invoice)
    for path in _UNHASHED:
        for element in pruned.xpath(path, namespaces=NS):
            _remove_keeping_tail(element)
    return pruned


def invoice_canonical(*, invoice: etree._Element) -> bytes:
    """The bytes ZATCA hashes: the unstamped document in canonical XML, without comments."""
    pruned = invoice_unstamped(invoice=invoice)
    canonical: bytes = etree.tostring(pruned, method="c14n", with_comments=False)
    return canonical


def invoice_hash(*, invoice: etree._Element) -> str:
    """The base64 SHA-256 of the canonical document: the invoice digest, QR tag 6 and next PIH."""
    digest = hashlib.sha256(invoice_canonical(invoice=invoice)).digest()
    return base64.b64encode(digest).decode("ascii")


def _remove_keeping_tail(element: etree._Element) -> None:
    # lxml stores the text after an element on the element (its tail); removing the element
    # would take that text with it, but in the XML data model it is a sibling text node that
    # the XPath transforms keep.
    parent = element.getparent()
    if element.tail:
        previous = element.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + element.tail
        else:
            parent.text = (parent.text or "") + element.tail
    parent.remove(element)
