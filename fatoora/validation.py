"""The ZATCA validator: a document's findings, layer by layer, as ZATCA's own tools report them.

`zatca_validate(xml=..., checks=...)` parses the document once and runs each check on it. A
check is any callable that takes the parsed document and returns `ValidationResult`s; the
standard ones, `standard_checks(rules_dir)`, are the three layers of ZATCA's rules: `xsd` (UBL
2.1 schema), `en` (CEN EN 16931 schematron) and `ksa` (ZATCA's schematron). Checks of a stamped
document (`qr`, `signature`, `pih`) are passed alongside them; the result type names them.

A document is valid when no result is an error; warnings are reported, not fatal. A document
that is not well-formed XML is not a document to validate: `UnreadableDocument`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from lxml import etree

from fatoora.rules import Finding, Schematron, SchematronFailed, schematron_findings, xsd_findings

Layer = Literal["xsd", "en", "ksa", "qr", "signature", "pih"]
Severity = Literal["error", "warning"]


class UnreadableDocument(ValueError):
    """Bytes that are not a well-formed XML document."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ValidationResult:
    layer: Layer
    severity: Severity
    rule: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {
            "layer": self.layer,
            "severity": self.severity,
            "rule": self.rule,
            "message": self.message,
        }


@dataclass(frozen=True, slots=True)
class ValidationReport:
    results: tuple[ValidationResult, ...]

    @property
    def errors(self) -> tuple[ValidationResult, ...]:
        return tuple(r for r in self.results if r.severity == "error")

    @property
    def warnings(self) -> tuple[ValidationResult, ...]:
        return tuple(r for r in self.results if r.severity == "warning")

    @property
    def valid(self) -> bool:
        return not self.errors

    def as_dict(self) -> dict[str, Any]:
        return {"valid": self.valid, "results": [r.as_dict() for r in self.results]}


Check = Callable[[etree._ElementTree], Iterable[ValidationResult]]


def standard_checks(rules: Path) -> tuple[Check, ...]:
    """The `xsd`, `en` and `ksa` layers, with ZATCA's rule files from the directory `rules`."""

    def xsd_check(tree: etree._ElementTree) -> list[ValidationResult]:
        return _results("xsd", xsd_findings(tree, rules=rules))

    def en_check(tree: etree._ElementTree) -> list[ValidationResult]:
        return _schematron_check(Schematron.EN, tree, rules=rules)

    def ksa_check(tree: etree._ElementTree) -> list[ValidationResult]:
        return _schematron_check(Schematron.KSA, tree, rules=rules)

    return (xsd_check, en_check, ksa_check)


def zatca_parse(*, xml: bytes) -> etree._ElementTree:
    """The document's tree; no DTD, no entities resolved, no network (an untrusted upload)."""
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
    )
    try:
        return etree.ElementTree(etree.fromstring(xml, parser))
    except etree.XMLSyntaxError as error:
        raise UnreadableDocument(f"not well-formed XML: {error}") from None


def zatca_validate(*, xml: bytes, checks: Sequence[Check]) -> ValidationReport:
    tree = zatca_parse(xml=xml)
    return ValidationReport(tuple(result for check in checks for result in check(tree)))


def _schematron_check(
    schematron: Schematron, tree: etree._ElementTree, *, rules: Path
) -> list[ValidationResult]:
    layer: Layer = "en" if schematron is Schematron.EN else "ksa"
    try:
        return _results(layer, schematron_findings(schematron, tree, rules=rules))
    except SchematronFailed as error:
        # The rules themselves stopped (say, a number that is not one): the document fails this
        # layer, with Saxon's reason, rather than the validator failing.
        return [
            ValidationResult(
                layer=layer,
                severity="error",
                rule=f"{layer.upper()}-NOT-EVALUATED",
                message=f"the {layer} rules stopped on this document: {error}",
            )
        ]


def _results(layer: Layer, findings: Iterable[Finding]) -> list[ValidationResult]:
    return [
        ValidationResult(
            layer=layer,
            severity="warning" if f.severity == "warning" else "error",
            rule=f.rule,
            message=f.message,
        )
        for f in findings
    ]
