"""The validator layers of a stamped document, next to ZATCA's `xsd`, `en` and `ksa`:

- `signature`: the invoice hash, the XAdES signed properties, the certificate (its digest and
  issuer/serial) and the signature value (fatoora.verifying);
- `qr`: the QR reference is there and its TLV tags 1-8 (9 on simplified documents) match the
  document and its stamp;
- `pih`: the document's place in the chain is the one expected: its ICV, and its PIH equal to
  the hash of the unit's previous document (the first PIH for ICV 1).

Each failure is reported with a stable rule, e.g. `SIGNATURE-INVOICE-HASH` or `QR-TAG-4`, so a
mutation of the document is caught on the right layer and rule.
"""

from __future__ import annotations

from collections.abc import Iterable

from lxml import etree

from fatoora.hashing import NS
from fatoora.validation import Check, Layer, UnreadableDocument, ValidationResult, zatca_parse
from fatoora.verifying import StampProblem, stamp_verify

_QR_TAG_PREFIX = "QR tag "


def _stamp_results(tree: etree._ElementTree, *, layer: Layer) -> list[ValidationResult]:
    results = []
    for problem in stamp_verify(invoice=tree.getroot()):
        if (problem.check == "qr") != (layer == "qr"):
            continue
        results.append(
            ValidationResult(
                layer=layer,
                severity="error",
                rule=_rule(problem),
                message=problem.message,
            )
        )
    return results


def _rule(problem: StampProblem) -> str:
    if problem.check != "qr":
        return f"SIGNATURE-{problem.check.upper()}"
    if problem.message.startswith(_QR_TAG_PREFIX):
        tag = problem.message.removeprefix(_QR_TAG_PREFIX).split(" ", 1)[0]
        return f"QR-TAG-{tag}"
    return "QR-MISSING" if "no QR" in problem.message else "QR-UNREADABLE"


def signature_check(tree: etree._ElementTree) -> list[ValidationResult]:
    """The `signature` layer (a document without a stamp fails it: SIGNATURE-STRUCTURE)."""
    return _stamp_results(tree, layer="signature")


def qr_check(tree: etree._ElementTree) -> list[ValidationResult]:
    """The `qr` layer (checked against the signature the document carries)."""
    results = _stamp_results(tree, layer="qr")
    if not results and not tree.getroot().xpath(
        "ext:UBLExtensions//ds:SignatureValue", namespaces=NS
    ):
        # Without a stamp there is nothing the QR could be checked against.
        results.append(
            _pih_error("QR-UNSIGNED", "the document has no stamp to check its QR by", "qr")
        )
    return results


def pih_check(*, icv: int, pih: str) -> Check:
    """The `pih` layer for a document expected at `icv` after a document hashing to `pih`."""

    def check(tree: etree._ElementTree) -> Iterable[ValidationResult]:
        root = tree.getroot()
        found_icv = _texts(root, "cac:AdditionalDocumentReference[cbc:ID='ICV']/cbc:UUID")
        found_pih = _texts(
            root,
            "cac:AdditionalDocumentReference[cbc:ID='PIH']/cac:Attachment"
            "/cbc:EmbeddedDocumentBinaryObject",
        )
        results = []
        if found_icv != [str(icv)]:
            results.append(
                _pih_error("ICV-MISMATCH", f"the document's ICV is {found_icv}, expected {icv}")
            )
        if found_pih != [pih]:
            results.append(
                _pih_error(
                    "PIH-MISMATCH",
                    f"the document's PIH is {found_pih}, the previous document hashes to {pih}",
                )
            )
        return results

    return check


def stamp_checks(*, icv: int, pih: str) -> tuple[Check, ...]:
    """The three extra layers of a document stamped at `icv` after `pih`."""
    return (qr_check, signature_check, pih_check(icv=icv, pih=pih))


def stamp_checks_if_stamped(*, xml: bytes) -> tuple[Check, ...]:
    """The `qr` and `signature` layers for a stamped document (one with ext:UBLExtensions),
    none for an unstamped one or unreadable bytes (the validator reports those itself). The
    `pih` layer needs the chain, which a lone file does not have."""
    try:
        root = zatca_parse(xml=xml).getroot()
    except UnreadableDocument:
        return ()
    return (qr_check, signature_check) if root.xpath("ext:UBLExtensions", namespaces=NS) else ()


def _texts(root: etree._Element, path: str) -> list[str]:
    return [(element.text or "").strip() for element in root.xpath(path, namespaces=NS)]


def _pih_error(rule: str, message: str, layer: Layer = "pih") -> ValidationResult:
    return ValidationResult(layer=layer, severity="error", rule=rule, message=message)
