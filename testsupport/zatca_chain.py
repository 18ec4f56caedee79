"""Builders for the ZATCA chain tests: an active EGS unit whose certificate comes from a fresh
test CA (fatoora.certificates), and a stamped document's validation with all six layers."""

from __future__ import annotations

import datetime as dt

from fatoora.hashing import FIRST_PIH
from fatoora.validation import ValidationReport
from wasla.invoicing.zatca.checks import stamp_checks
from wasla.invoicing.zatca.egs import CsidCredentials, certificate_token, egs_install
from wasla.invoicing.zatca.models import EgsUnit, ZatcaDocument
from wasla.invoicing.zatca.validation import document_validate

from .zatca_stamp import make_egs_identity

STAMPED_AT = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)


def make_active_egs(*, now: dt.datetime = STAMPED_AT) -> EgsUnit:
    """An active unit, its production CSID a test-CA certificate for its key."""
    identity = make_egs_identity()
    token = certificate_token(certificate=identity.certificate)
    return egs_install(
        key=identity.key,
        production=CsidCredentials(request_id="1234567890123", token=token, secret="s3cret"),
        now=now,
    )


def previous_hash(document: ZatcaDocument) -> str:
    """The hash the document's PIH must equal: its predecessor's in the unit's chain."""
    assert document.icv is not None
    if document.icv == 1:
        return FIRST_PIH
    previous = ZatcaDocument.objects.get(egs_id=document.egs_id, icv=document.icv - 1)
    return previous.invoice_hash


def stamped_report(document: ZatcaDocument, xml: bytes | None = None) -> ValidationReport:
    """All six layers (xsd, en, ksa, qr, signature, pih) on the stamped XML (or `xml`)."""
    assert document.icv is not None
    assert document.signed_xml is not None
    signed = bytes(document.signed_xml) if xml is None else xml
    checks = stamp_checks(icv=document.icv, pih=previous_hash(document))
    return document_validate(xml=signed, extra=checks)
