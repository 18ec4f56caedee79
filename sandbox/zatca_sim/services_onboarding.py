"""Onboarding at the simulator: the compliance CSID (CSR + OTP) and the production CSID.

- `POST /compliance` with header `OTP` and `{"csr": base64(PEM)}`: the OTP must be the
  developer portal's fixed one, `DEMO_OTP` ("123345", the value ZATCA publishes for its
  sandbox); any other value answers 400 Invalid-OTP, as ZATCA does for a wrong or expired OTP.
  A CSR that is not ZATCA's (see `fatoora.csr.csr_read`) answers 400 Invalid-CSR.
- `POST /production/csids` with the compliance CSID's Basic auth and
  `{"compliance_request_id": "..."}`: refused (400 Missing-ComplianceSteps) until a compliance
  check has passed for every document type the CSR's invoice-type flags declare
  (`REQUIRED_DOCUMENTS`: an invoice and a credit note of each kind declared; real ZATCA also
  asks for a debit note, which Wasla never issues, so the simulator accepts but does not
  require one). Each call issues a new production CSID for the same key and EGS, as a renewal
  would; earlier ones stay valid.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import secrets
from typing import Any, Final

from django.db import transaction

from fatoora.csr import CsrError, csr_read
from sandbox.zatca_sim import errors
from sandbox.zatca_sim.auth import secret_digest
from sandbox.zatca_sim.authority import csid_certificate_issue
from sandbox.zatca_sim.models import ZatcaCsid

DEMO_OTP: Final = "123345"
TOKEN_TYPE: Final = (
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-x509-token-profile-1.0#X509v3"
)
REQUIRED_DOCUMENTS: Final = {
    0: ("standard-388", "standard-381"),  # flag 1 of the CSR's title: standard documents
    1: ("simplified-388", "simplified-381"),  # flag 2: simplified documents
}


def required_documents(invoice_types: str) -> tuple[str, ...]:
    return tuple(
        document
        for flag, documents in REQUIRED_DOCUMENTS.items()
        if invoice_types[flag] == "1"
        for document in documents
    )


def compliance_csid_issue(
    *, otp: str | None, data: dict[str, Any], now: dt.datetime
) -> dict[str, Any]:
    if not otp:
        raise errors.bad_request(errors.MISSING_OTP, "The OTP header is required")
    if otp != DEMO_OTP:
        raise errors.bad_request(errors.INVALID_OTP, "The provided OTP is invalid")
    encoded = data.get("csr")
    if not isinstance(encoded, str) or not encoded:
        raise errors.bad_request(errors.INVALID_CSR, "csr must be the base64 of the CSR's PEM")
    try:
        pem = base64.b64decode(encoded, validate=True)
        csr_read(pem=pem)
    except (binascii.Error, CsrError) as exc:
        raise errors.bad_request(
            errors.INVALID_CSR, f"The provided CSR is invalid: {exc}"
        ) from None
    return _csid_issue(kind=ZatcaCsid.Kind.COMPLIANCE, csr_pem=pem, compliance=None, now=now)


def production_csid_issue(
    *, compliance: ZatcaCsid, data: dict[str, Any], now: dt.datetime
) -> dict[str, Any]:
    request_id = data.get("compliance_request_id")
    if str(request_id) != str(compliance.request_id) or isinstance(request_id, bool):
        raise errors.bad_request(
            errors.INVALID_REQUEST,
            "compliance_request_id must be the requestID of the CSID used to authenticate",
        )
    passed = set(compliance.checks.filter(passed=True).values_list("document", flat=True))
    missing = [d for d in required_documents(compliance.invoice_types) if d not in passed]
    if missing:
        raise errors.bad_request(
            errors.MISSING_COMPLIANCE_STEPS,
            f"Compliance checks not passed yet for: {', '.join(missing)}",
        )
    return _csid_issue(
        kind=ZatcaCsid.Kind.PRODUCTION,
        csr_pem=compliance.csr_pem.encode("ascii"),
        compliance=compliance,
        now=now,
    )


def _csid_issue(
    *, kind: ZatcaCsid.Kind, csr_pem: bytes, compliance: ZatcaCsid | None, now: dt.datetime
) -> dict[str, Any]:
    facts = csr_read(pem=csr_pem)
    issued = csid_certificate_issue(csr=facts, now=now)
    secret = base64.b64encode(secrets.token_bytes(32)).decode("ascii")
    with transaction.atomic():
        csid = ZatcaCsid.objects.create(
            request_id=secrets.randbelow(9 * 10**12) + 10**12,  # ZATCA's are 13 digits
            kind=kind,
            token=issued.token,
            secret_digest=secret_digest(secret),
            certificate_serial=str(issued.certificate.serial_number),
            vat_number=facts.subject.vat_number,
            egs_serial=facts.subject.egs_serial,
            invoice_types=facts.subject.invoice_types,
            csr_pem=csr_pem.decode("ascii"),
            compliance=compliance,
        )
    answer: dict[str, Any] = {"requestID": csid.request_id}
    if kind == ZatcaCsid.Kind.PRODUCTION:
        answer["tokenType"] = TOKEN_TYPE
    answer |= {
        "dispositionMessage": "ISSUED",
        "binarySecurityToken": issued.token,
        "secret": secret,
        "errors": None,
    }
    return answer
