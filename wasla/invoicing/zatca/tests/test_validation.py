"""The validator on ZATCA's own SDK samples: they pass the xsd, en and ksa layers, and a sample
broken in one place fails on the layer and rule that own that place."""

from __future__ import annotations

import re

import pytest
from lxml import etree

from fatoora import rules
from fatoora.validation import UnreadableDocument, ValidationResult
from testsupport.zatca_ubl import SAMPLE_NAMES, findings, sample
from wasla.invoicing.zatca.validation import document_validate

# BR-KSA-98 (warning): a simplified invoice is reported within 24 hours of its issue, measured
# against today's clock; the samples were issued in 2022. Nothing else fires on any of them.
EXPECTED = {
    "Standard_Invoice": set(),
    "Standard_Credit_Note": set(),
    "Simplified_Invoice": {("ksa", "warning", "BR-KSA-98")},
    "Simplified_Credit_Note": {("ksa", "warning", "BR-KSA-98")},
}


@pytest.mark.parametrize("name", SAMPLE_NAMES)
def test_zatcas_samples_pass_the_xsd_en_and_ksa_layers(name: str):
    report = document_validate(xml=sample(name))

    assert report.valid
    assert findings(report) == EXPECTED[name]


def _broken(find: bytes, replace: bytes, name: str = "Standard_Invoice") -> bytes:
    document = sample(name)
    assert document.count(find) == 1
    return document.replace(find, replace)


MUTATIONS = {
    "the total with VAT changed": (
        _broken(
            b'TaxInclusiveAmount currencyID="SAR">4.60<',
            b'TaxInclusiveAmount currencyID="SAR">4.70<',
        ),
        # BR-CO-15: total with VAT = total without VAT + VAT; BR-CO-16: payable = total - prepaid.
        {("en", "error", "BR-CO-15"), ("en", "warning", "BR-CO-16")},
    ),
    "a line's VAT changed": (
        _broken(
            b'TaxAmount currencyID="SAR">0.60</cbc:TaxAmount>\n             <cbc:Rounding',
            b'TaxAmount currencyID="SAR">0.70</cbc:TaxAmount>\n             <cbc:Rounding',
        ),
        {("ksa", "warning", "BR-KSA-51")},
    ),
    "the seller's VAT number with 14 digits": (
        _broken(b"<cbc:CompanyID>399999999900003<", b"<cbc:CompanyID>39999999990003<"),
        {("ksa", "error", "BR-KSA-40")},
    ),
    "the buyer's VAT number with 14 digits": (
        _broken(b"<cbc:CompanyID>399999999800003<", b"<cbc:CompanyID>39999999980003<"),
        {("ksa", "error", "BR-KSA-44")},
    ),
    "an ICV that is not a number": (
        _broken(b"<cbc:UUID>23</cbc:UUID>", b"<cbc:UUID>2a3</cbc:UUID>"),
        {("ksa", "error", "BR-KSA-34")},
    ),
    "a credit note without its reason": (
        re.sub(
            rb"<cbc:InstructionNote>.*</cbc:InstructionNote>", b"", sample("Standard_Credit_Note")
        ),
        {("ksa", "error", "BR-KSA-17")},
    ),
    "an element UBL does not have": (
        _broken(b"<cbc:ProfileID>", b"<cbc:Remark>x</cbc:Remark><cbc:ProfileID>"),
        {("xsd", "error", "SCHEMAV_ELEMENT_CONTENT")},
    ),
}


@pytest.mark.parametrize("mutation", MUTATIONS.values(), ids=MUTATIONS.keys())
def test_a_broken_sample_fails_on_the_right_layer_and_rule(mutation: tuple[bytes, set]):
    document, expected = mutation

    report = document_validate(xml=document)

    assert findings(report) == expected
    assert report.valid is not any(severity == "error" for _, severity, _ in expected)


def test_an_amount_that_is_no_number_fails_every_layer_and_stops_no_validation():
    """The XSD says why; the schematrons cannot cast it and stop, which fails their layers
    with Saxon's reason instead of failing the validator."""
    document = _broken(
        b'PrepaidAmount currencyID="SAR">0.00<', b'PrepaidAmount currencyID="SAR">abc<'
    )

    report = document_validate(xml=document)

    assert findings(report) == {
        ("xsd", "error", "SCHEMAV_CVC_DATATYPE_VALID_1_2_1"),
        ("en", "error", "EN-NOT-EVALUATED"),
        ("ksa", "error", "KSA-NOT-EVALUATED"),
    }
    assert all('"abc"' in r.message for r in report.results if r.layer != "xsd")


@pytest.mark.parametrize("document", [b"", b"<Invoice", b"not xml at all", b"\xff\xfe<a/>"])
def test_what_is_not_well_formed_xml_is_unreadable(document: bytes):
    with pytest.raises(UnreadableDocument, match="not well-formed XML"):
        document_validate(xml=document)


def test_an_entity_is_never_expanded():
    document = b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>'

    report = document_validate(xml=document)

    assert not report.valid
    assert "root:" not in str(report.as_dict())


def test_more_checks_run_alongside_the_standard_layers():
    """The extension point: a check of a stamped document (here a PIH check against the hash
    the chain expects) is passed with the standard ones; its results join the report."""
    expected_pih = "bm90IHRoZSBzYW1wbGUncw=="

    def pih_check(tree: etree._ElementTree) -> list[ValidationResult]:
        found = tree.findtext(
            "{*}AdditionalDocumentReference[{*}ID='PIH']/{*}Attachment/{*}EmbeddedDocumentBinaryObject"
        )
        if found == expected_pih:
            return []
        return [
            ValidationResult(layer="pih", severity="error", rule="PIH", message="not the chain's")
        ]

    report = document_validate(xml=sample("Standard_Invoice"), extra=(pih_check,))

    assert findings(report) == {("pih", "error", "PIH")}
    assert report.as_dict() == {
        "valid": False,
        "results": [
            {"layer": "pih", "severity": "error", "rule": "PIH", "message": "not the chain's"}
        ],
    }


def test_each_schematron_is_compiled_once_per_process():
    for name in SAMPLE_NAMES:
        document_validate(xml=sample(name))

    assert rules._compiled.cache_info().currsize == len(rules.Schematron)
    assert rules._compiled.cache_info().misses == len(rules.Schematron)
