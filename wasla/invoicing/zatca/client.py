"""Wasla's client of ZATCA's e-invoicing API (the Fatoora gateway, or the simulator in tests).

Onboarding (`compliance_csid`, `compliance_check`, `production_csid`) and clearance, as ZATCA's
API takes them: `Accept-Version: V2`, `Accept-Language: en`, Basic auth with a CSID's
`binarySecurityToken:secret`, documents as `{"invoiceHash", "uuid", "invoice": base64(xml)}`.

Outcomes are three kinds, so the caller knows what to do next:
- a `SubmissionAnswer` for every answer that carries `validationResults` (200 accepted, 202
  accepted with warnings, 400 rejected): ZATCA has judged the document;
- `ZatcaUnavailable` for a 5xx, a timeout or a connection error: nothing is known, send the
  same document again later (clearance is idempotent for the same UUID and hash);
- `ZatcaRefused` for any other non-2xx (bad credentials, a wrong OTP, a bad request): sending
  it again will not help. Its text and `body` never hold the CSID's secret or the OTP.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
from dataclasses import dataclass
from typing import Any, Final

import httpx

logger = logging.getLogger(__name__)

_VALIDATION_STATUSES: Final = (200, 202, 400)
_BODY_EXCERPT: Final = 2000


class ZatcaUnavailable(Exception):
    """5xx, timeout, connection error: retry later, same document."""


class ZatcaRefused(Exception):
    """A non-2xx answer that is not a validation answer (bad auth, bad OTP, bad request)."""

    def __init__(self, message: str, *, status: int, body: str) -> None:
        super().__init__(message)
        self.status = status
        self.body = body


@dataclass(frozen=True)
class ZatcaMessage:
    type: str  # "INFO" | "WARNING" | "ERROR"
    code: str  # e.g. "BR-KSA-44", "XSD_ZATCA_VALID", "invoiceHash_QRCODE_INVALID"
    category: str
    message: str
    status: str  # "PASS" | "WARNING" | "ERROR"


@dataclass(frozen=True)
class Csid:
    request_id: str
    binary_security_token: str  # ZATCA's token: base64 of the base64 DER certificate text
    secret: str

    def __repr__(self) -> str:  # the secret never reaches a log through a repr
        return f"Csid(request_id={self.request_id!r}, secret=***)"

    def certificate_pem(self) -> bytes:
        der = base64.b64decode(base64.b64decode(self.binary_security_token))
        body = base64.encodebytes(der).decode("ascii").replace("\n", "")
        lines = [body[i : i + 64] for i in range(0, len(body), 64)]
        return (
            "-----BEGIN CERTIFICATE-----\n" + "\n".join(lines) + "\n-----END CERTIFICATE-----\n"
        ).encode("ascii")


@dataclass(frozen=True)
class SubmissionAnswer:
    status: str  # clearanceStatus / reportingStatus / validationResults.status, as ZATCA says
    cleared_xml: bytes | None  # the cleared invoice (clearance only), decoded from base64
    messages: tuple[ZatcaMessage, ...]  # infoMessages + warningMessages + errorMessages
    http_status: int  # 200 accepted, 202 accepted with warnings, 400 rejected

    @property
    def warnings(self) -> tuple[ZatcaMessage, ...]:
        return tuple(m for m in self.messages if m.type == "WARNING")

    @property
    def errors(self) -> tuple[ZatcaMessage, ...]:
        return tuple(m for m in self.messages if m.type == "ERROR")


class ZatcaClient:
    def __init__(self, *, base_url: str, timeout: float = 20.0) -> None:
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"),
            timeout=timeout,
            trust_env=False,
            headers={"Accept-Version": "V2", "Accept-Language": "en", "Accept": "application/json"},
        )

    def close(self) -> None:
        self._http.close()

    def compliance_csid(self, *, csr_pem: bytes, otp: str) -> Csid:
        """A compliance CSID for the CSR, authorised by the OTP of ZATCA's portal."""
        body = {"csr": base64.b64encode(csr_pem).decode("ascii")}
        response = self._post("/compliance", body, headers={"OTP": otp})
        return self._csid(response)

    def compliance_check(
        self, *, csid: Csid, uuid: str, invoice_hash: str, xml: bytes
    ) -> SubmissionAnswer:
        """ZATCA's verdict on a sample document, signed with the compliance CSID's key."""
        response = self._post("/compliance/invoices", _document(uuid, invoice_hash, xml), csid=csid)
        return self._answer(response)

    def production_csid(self, *, compliance: Csid) -> Csid:
        """The production CSID, once the compliance checks have passed."""
        body = {"compliance_request_id": compliance.request_id}
        return self._csid(self._post("/production/csids", body, csid=compliance))

    def clearance(
        self, *, csid: Csid, uuid: str, invoice_hash: str, xml: bytes
    ) -> SubmissionAnswer:
        """Clear a standard document; a 200 or 202 answer carries the cleared XML."""
        response = self._post(
            "/invoices/clearance/single",
            _document(uuid, invoice_hash, xml),
            csid=csid,
            headers={"Clearance-Status": "1"},
        )
        return self._answer(response)

    def _post(
        self,
        path: str,
        body: dict[str, Any],
        *,
        csid: Csid | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        headers = dict(headers or {})
        if csid is not None:
            pair = f"{csid.binary_security_token}:{csid.secret}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(pair).decode("ascii")
        try:
            response = self._http.post(path, json=body, headers=headers)
        except httpx.TimeoutException:
            raise ZatcaUnavailable(f"ZATCA did not answer {path} in time") from None
        except httpx.TransportError as exc:
            raise ZatcaUnavailable(
                f"ZATCA could not be reached for {path}: {type(exc).__name__}"
            ) from None
        if response.status_code >= 500:
            logger.warning("ZATCA answered %s to %s", response.status_code, path)
            raise ZatcaUnavailable(f"ZATCA answered {response.status_code} to {path}")
        return response

    def _csid(self, response: httpx.Response) -> Csid:
        data = _json(response)
        if response.status_code != 200 or data is None:
            raise _refused(response, data)
        try:
            return Csid(
                request_id=str(data["requestID"]),
                binary_security_token=str(data["binarySecurityToken"]),
                secret=str(data["secret"]),
            )
        except KeyError as exc:
            raise ZatcaRefused(f"ZATCA's CSID answer lacks {exc}", status=200, body="") from None

    def _answer(self, response: httpx.Response) -> SubmissionAnswer:
        data = _json(response)
        results = data.get("validationResults") if data is not None else None
        if response.status_code not in _VALIDATION_STATUSES or not isinstance(results, dict):
            raise _refused(response, data)
        assert data is not None
        messages = tuple(
            ZatcaMessage(
                type=str(item.get("type", "")),
                code=str(item.get("code", "")),
                category=str(item.get("category", "")),
                message=str(item.get("message", "")),
                status=str(item.get("status", "")),
            )
            for key in ("infoMessages", "warningMessages", "errorMessages")
            for item in (results.get(key) or [])
            if isinstance(item, dict)
        )
        status = data.get("clearanceStatus") or data.get("reportingStatus") or results.get("status")
        cleared = data.get("clearedInvoice")
        try:
            cleared_xml = (
                base64.b64decode(cleared, validate=True) if isinstance(cleared, str) else None
            )
        except binascii.Error:
            raise ZatcaRefused(
                "ZATCA's clearedInvoice is not base64", status=response.status_code, body=""
            ) from None
        return SubmissionAnswer(
            status=str(status or ""),
            cleared_xml=cleared_xml,
            messages=messages,
            http_status=response.status_code,
        )


def _document(uuid: str, invoice_hash: str, xml: bytes) -> dict[str, str]:
    return {
        "invoiceHash": invoice_hash,
        "uuid": uuid,
        "invoice": base64.b64encode(xml).decode("ascii"),
    }


def _json(response: httpx.Response) -> dict[str, Any] | None:
    try:
        data = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None
    return data if isinstance(data, dict) else None


def _refused(response: httpx.Response, data: dict[str, Any] | None) -> ZatcaRefused:
    # ZATCA's error bodies name codes and messages; a CSID answer's secret is never kept.
    if data is not None:
        data = {key: ("***" if key == "secret" else value) for key, value in data.items()}
        body = json.dumps(data)[:_BODY_EXCERPT]
    else:
        body = response.text[:_BODY_EXCERPT]
    detail = f"{data.get('code')}: {data.get('message')}" if data and "code" in data else body[:200]
    return ZatcaRefused(
        f"ZATCA refused {response.request.url.path} ({response.status_code}): {detail}",
        status=response.status_code,
        body=body,
    )
