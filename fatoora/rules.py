"""ZATCA's own rules, loaded once per process: the UBL 2.1 XSD (lxml) and the CEN EN 16931 and
ZATCA KSA schematrons, compiled from XSLT 2.0 by Saxon (`saxonche`), with their findings read
from the SVRL report they write.

The rule files are ZATCA's, never edited, found in the directory the caller names. Loading
the XSD and compiling an XSLT take a while, so each is done once per process, on first use;
Saxon's processor is not documented as thread-safe, so the loading (under the cache) and every
validation hold one lock.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any

from lxml import etree
from saxonche import PySaxonApiError, PySaxonProcessor

SVRL = "http://purl.oclc.org/dsdl/svrl"
XSD_PATH = Path("UBL2.1", "xsd", "maindoc", "UBL-Invoice-2.1.xsd")

_lock = threading.RLock()


class Schematron(StrEnum):
    """The two schematrons, by the layer name their findings carry."""

    EN = "en"
    KSA = "ksa"

    @property
    def path(self) -> Path:
        name = {
            Schematron.EN: "CEN-EN16931-UBL.xsl",
            Schematron.KSA: "20210819_ZATCA_E-invoice_Validation_Rules.xsl",
        }[self]
        return Path("schematrons", name)


class RulesUnavailable(RuntimeError):
    """ZATCA's rule files are missing or do not load: nothing can be validated."""


class SchematronFailed(RuntimeError):
    """A schematron stopped on the document (e.g. a cast of a non-number) without a report."""


@dataclass(frozen=True, slots=True)
class Finding:
    """One failed assertion of an XSD or a schematron, before it is given a layer."""

    severity: str  # error | warning
    rule: str
    message: str


def xsd_findings(tree: etree._ElementTree, *, rules: Path) -> list[Finding]:
    """The UBL 2.1 schema's findings; `rules` is the directory of ZATCA's rule files."""
    with _lock:
        schema = _schema(rules)
        if schema.validate(tree):
            return []
        errors = list(schema.error_log)
    return [
        Finding("error", error.type_name, f"line {error.line}: {error.message}") for error in errors
    ]


def schematron_findings(
    schematron: Schematron, tree: etree._ElementTree, *, rules: Path
) -> list[Finding]:
    text = etree.tostring(tree, encoding="unicode")
    with _lock:
        executable = _compiled(schematron, rules)
        try:
            node = _processor().parse_xml(xml_text=text)
            report = executable.transform_to_string(xdm_node=node)
        except PySaxonApiError as error:
            raise SchematronFailed(str(error).strip()) from None
    if not report:
        raise SchematronFailed("the schematron wrote no report")
    return [
        _finding(failed)
        for failed in etree.fromstring(report.encode()).iter(_svrl("failed-assert"))
    ]


def _finding(failed: etree._Element) -> Finding:
    # Schematron's `flag`: the CEN rules say fatal or warning, ZATCA's error or warning; an
    # assertion without a flag is an error, as schematron means it.
    flag = (failed.get("flag") or "error").lower()
    severity = "warning" if flag in ("warning", "information", "info") else "error"
    text = failed.findtext(_svrl("text")) or failed.get("test") or ""
    return Finding(severity, failed.get("id") or "unnamed", re.sub(r"\s+", " ", text).strip())


def _svrl(name: str) -> str:
    return f"{{{SVRL}}}{name}"


@cache
def _processor() -> PySaxonProcessor:
    # A transform the rules stop (a non-number cast to a decimal) also prints Saxon's trace to
    # stderr; the reason is in the exception, and so in the report.
    return PySaxonProcessor(license=False)


@cache
def _schema(rules: Path) -> etree.XMLSchema:
    path = rules / XSD_PATH
    try:
        return etree.XMLSchema(etree.parse(str(path)))
    except (OSError, etree.XMLSchemaParseError, etree.XMLSyntaxError) as error:
        raise RulesUnavailable(f"the UBL 2.1 XSD at {path} does not load: {error}") from None


@cache
def _compiled(schematron: Schematron, rules: Path) -> Any:
    path = rules / schematron.path
    if not path.is_file():
        raise RulesUnavailable(f"the {schematron.value} schematron is not at {path}")
    try:
        return _processor().new_xslt30_processor().compile_stylesheet(stylesheet_file=str(path))
    except PySaxonApiError as error:
        raise RulesUnavailable(f"the schematron {path} does not compile: {error}") from None
