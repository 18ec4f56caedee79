"""Compliance checks, clearance and reporting at the simulator.

Every document goes through `documents.document_check` (XSD, EN, KSA, hash, stamp,
certificate, UUID); clearance and reporting add the chain of the EGS unit — the device, named by
its VAT number and the EGS serial of its CSR, so the chain goes on across a renewal that gives
the unit a new certificate: the ICV grows and the PIH is the hash of the EGS's previous accepted
document (`FIRST_PIH` for its first), checked and recorded under a lock on the rows of every
CSID of that unit, so two concurrent submissions (even under the old and the renewed CSID)
cannot both extend the chain from the same document.

Answers: 200 when accepted without warnings, 202 with warnings, 400 NOT_CLEARED /
NOT_REPORTED with `validationResults`. A UUID already accepted for the EGS answers the stored
answer again when the hash is the same (nothing is recorded twice) and 400 when it differs.

The cleared document: real ZATCA checks the taxpayer's stamp, then returns the invoice stamped
by ZATCA (its own signature and certificate in the XAdES block, and the QR rebuilt from them);
the simulator does the same with its CA's key and certificate (`fatoora.signing.invoice_stamp`
on the document without the taxpayer's stamp), so the invoice hash is unchanged.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
from typing import Any, Final

from django.db import transaction
from lxml import etree

from fatoora.hashing import FIRST_PIH, invoice_parse, invoice_unstamped
from fatoora.signing import invoice_stamp
from sandbox.zatca_sim import errors
from sandbox.zatca_sim.auth import csid_certificate
from sandbox.zatca_sim.authority import authority_get
from sandbox.zatca_sim.documents import Checked, Message, document_check, error
from sandbox.zatca_sim.knobs import KNOBS
from sandbox.zatca_sim.models import (
    ZatcaComplianceCheck,
    ZatcaCsid,
    ZatcaSandboxKnobs,
    ZatcaSubmission,
)

Kind = ZatcaSubmission.Kind
Status = ZatcaSubmission.Status
_STATUS_WORDS: Final = {
    Kind.CLEARANCE: ("CLEARED", "NOT_CLEARED"),
    Kind.REPORTING: ("REPORTED", "NOT_REPORTED"),
}
MAX_UUID_CHARS: Final = 64


def compliance_check(
    *, csid: ZatcaCsid, data: dict[str, Any], now: dt.datetime
) -> tuple[int, dict[str, Any]]:
    """`POST /compliance/invoices`: the checks of clearance or reporting, no chain, no record
    but the check itself (which the production CSID asks for)."""
    uuid, claimed, xml = _body(data)
    checked = _checked(csid, xml=xml, claimed=claimed, uuid=uuid, now=now)
    messages = list(checked.messages)
    simplified = checked.facts is not None and checked.facts.simplified
    status, results = _results(messages)
    accepted = status != 400
    answer: dict[str, Any] = {
        "validationResults": results,
        "reportingStatus": ("REPORTED" if accepted else "NOT_REPORTED") if simplified else None,
        "clearanceStatus": None if simplified else ("CLEARED" if accepted else "NOT_CLEARED"),
        "qrSellertStatus": None,
        "qrBuyertStatus": None,
    }
    if checked.facts is not None:
        ZatcaComplianceCheck.objects.create(
            csid=csid, document=checked.facts.document, uuid=uuid, passed=accepted
        )
    return status, answer


def submission_make(
    *, kind: Kind, csid: ZatcaCsid, data: dict[str, Any], now: dt.datetime
) -> tuple[int, dict[str, Any]]:
    """`POST /invoices/clearance/single` or `/invoices/reporting/single`."""
    uuid, claimed, xml = _body(data)
    egs = egs_key(csid)
    earlier = _accepted(egs, uuid)
    if earlier is not None:
        return _replay(earlier, claimed)
    checked = _checked(csid, xml=xml, claimed=claimed, uuid=uuid, now=now)
    with transaction.atomic():
        list(  # the EGS's chain lock: every CSID the unit has held
            ZatcaCsid.objects.select_for_update()
            .filter(vat_number=csid.vat_number, egs_serial=csid.egs_serial)
            .order_by("pk")
        )
        earlier = _accepted(egs, uuid)
        if earlier is not None:  # a concurrent resubmission got there first
            return _replay(earlier, claimed)
        messages = [*checked.messages, *_chain_messages(kind, egs, checked)]
        status, results = _results(messages)
        accepted = status != 400
        word, refused = _STATUS_WORDS[kind]
        answer: dict[str, Any] = {"validationResults": results}
        if kind == Kind.CLEARANCE:
            answer["clearanceStatus"] = word if accepted else refused
            answer["clearedInvoice"] = _cleared(xml, now=now) if accepted else None
        else:
            answer["reportingStatus"] = word if accepted else refused
        ZatcaSubmission.objects.create(
            csid=csid,
            egs=egs,
            kind=kind,
            uuid=uuid,
            invoice_hash=claimed,
            icv=checked.facts.icv if checked.facts else None,
            status=(Status.ACCEPTED if status == 200 else Status.ACCEPTED_WITH_WARNINGS)
            if accepted
            else Status.REJECTED,
            http_status=status,
            answer=answer,
        )
    return status, answer


def egs_key(csid: ZatcaCsid) -> str:
    """The chain's key: one EGS unit of one taxpayer, whatever certificate it signs with now
    (a SHA-256 hex, as the EGS serial alone may be longer than the column)."""
    return hashlib.sha256(f"{csid.vat_number}|{csid.egs_serial}".encode()).hexdigest()


def _body(data: dict[str, Any]) -> tuple[str, str, bytes]:
    uuid, claimed, encoded = (_string(data, name) for name in ("uuid", "invoiceHash", "invoice"))
    if len(uuid) > MAX_UUID_CHARS or len(claimed) > MAX_UUID_CHARS:
        raise errors.bad_request(errors.INVALID_REQUEST, "uuid or invoiceHash is too long")
    try:
        xml = base64.b64decode(encoded, validate=True)
    except binascii.Error:
        raise errors.bad_request(errors.INVALID_REQUEST, "invoice must be base64") from None
    return uuid, claimed, xml


def _string(data: dict[str, Any], name: str) -> str:
    value = data.get(name)
    if not isinstance(value, str) or not value:
        raise errors.bad_request(errors.INVALID_REQUEST, f"{name} is required (a string)")
    return value


def _checked(csid: ZatcaCsid, *, xml: bytes, claimed: str, uuid: str, now: dt.datetime) -> Checked:
    ca = authority_get(now=now)
    checked = document_check(
        xml=xml,
        invoice_hash_claimed=claimed,
        uuid=uuid,
        caller=csid_certificate(csid),
        ca=ca.certificate,
    )
    forced = KNOBS.get().clearance
    if forced == ZatcaSandboxKnobs.Clearance.REJECT:
        extra = error("SANDBOX-FORCED-REJECTION", "SANDBOX", "Rejected by the sandbox's knob")
        return Checked(checked.facts, (*checked.messages, extra))
    if forced == ZatcaSandboxKnobs.Clearance.WARN:
        extra = Message("WARNING", "SANDBOX-FORCED-WARNING", "SANDBOX", "Warning by the knob")
        return Checked(checked.facts, (*checked.messages, extra))
    return checked


def _chain_messages(kind: Kind, egs: str, checked: Checked) -> list[Message]:
    facts = checked.facts
    if facts is None:
        return []
    messages = []
    if facts.simplified != (kind == Kind.REPORTING):
        wanted = "simplified" if kind == Kind.REPORTING else "standard"
        messages.append(
            error(
                "invalid-invoice-type",
                "INVOICE_TYPE",
                f"Only {wanted} documents are accepted by {kind}",
            )
        )
    previous = (
        ZatcaSubmission.objects.filter(egs=egs)
        .exclude(status=Status.REJECTED)
        .order_by("-id")
        .first()
    )
    expected_pih = previous.invoice_hash if previous is not None else FIRST_PIH
    if facts.pih != expected_pih:
        messages.append(
            error(
                "invalid-previous-invoice-hash",
                "PIH_VALIDATION",
                f"The PIH is not the hash of the EGS's previous document ({expected_pih})",
            )
        )
    if previous is not None and facts.icv is not None and facts.icv <= (previous.icv or 0):
        messages.append(
            error(
                "invalid-icv",
                "ICV_VALIDATION",
                f"The ICV {facts.icv} does not follow the EGS's previous one ({previous.icv})",
            )
        )
    return messages


def _results(messages: list[Message]) -> tuple[int, dict[str, Any]]:
    by_type = {
        kind: [m.as_dict() for m in messages if m.type == kind]
        for kind in ("INFO", "WARNING", "ERROR")
    }
    status = 400 if by_type["ERROR"] else 202 if by_type["WARNING"] else 200
    return status, {
        "infoMessages": by_type["INFO"],
        "warningMessages": by_type["WARNING"],
        "errorMessages": by_type["ERROR"],
        "status": {400: "ERROR", 202: "WARNING", 200: "PASS"}[status],
    }


def _accepted(egs: str, uuid: str) -> ZatcaSubmission | None:
    return (
        ZatcaSubmission.objects.filter(egs=egs, uuid=uuid).exclude(status=Status.REJECTED).first()
    )


def _replay(earlier: ZatcaSubmission, claimed: str) -> tuple[int, dict[str, Any]]:
    if earlier.invoice_hash == claimed:
        return earlier.http_status, earlier.answer
    word = _STATUS_WORDS[Kind(earlier.kind)][1]
    key = "clearanceStatus" if earlier.kind == Kind.CLEARANCE else "reportingStatus"
    status, results = _results(
        [
            error(
                "duplicate-invoice-uuid",
                "UUID_VALIDATION",
                "A different document with this UUID was already accepted for this EGS",
            )
        ]
    )
    return status, {"validationResults": results, key: word}


def _cleared(xml: bytes, *, now: dt.datetime) -> str:
    ca = authority_get(now=now)
    unstamped = etree.tostring(invoice_unstamped(invoice=invoice_parse(xml=xml)), encoding="UTF-8")
    stamped = invoice_stamp(
        xml=unstamped, private_key=ca.key, certificate=ca.certificate, signing_time=now
    )
    return base64.b64encode(stamped.xml).decode("ascii")
