"""Errors of the ZATCA simulator, in the shape ZATCA's gateway answers them.

Requests ZATCA refuses before validating a document (a wrong OTP, a bad CSR, a missing
`Accept-Version`, bad JSON) answer 4xx `{"code": "Invalid-OTP", "message": "..."}`; bad
credentials answer 401. Documents that fail validation are not errors of this kind: they get
a 400 with `validationResults` (see `services_submissions`). The codes ZATCA documents
(Invalid-OTP, Invalid-CSR) are ZATCA's; the others are the simulator's own, kept here.
"""

from __future__ import annotations

import json
from typing import Any, Final

from django.http import HttpResponse

INVALID_OTP: Final = "Invalid-OTP"
MISSING_OTP: Final = "Missing-OTP"
INVALID_CSR: Final = "Invalid-CSR"
INVALID_VERSION: Final = "Invalid-Version"
INVALID_REQUEST: Final = "Invalid-Request"
INVALID_CLEARANCE_STATUS: Final = "Invalid-Clearance-Status"
MISSING_COMPLIANCE_STEPS: Final = "Missing-ComplianceSteps"
UNAUTHORIZED: Final = "Unauthorized"
METHOD_NOT_ALLOWED: Final = "Method-Not-Allowed"
TOO_LARGE: Final = "Request-Too-Large"
INTERNAL_ERROR: Final = "Internal-Server-Error"


class ZatcaApiError(Exception):
    """Ends a request with `{"code", "message"}` and an HTTP status."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def bad_request(code: str, message: str) -> ZatcaApiError:
    return ZatcaApiError(400, code, message)


def json_response(body: Any, status: int = 200) -> HttpResponse:
    return HttpResponse(json.dumps(body), status=status, content_type="application/json")


def error_response(error: ZatcaApiError) -> HttpResponse:
    return json_response({"code": error.code, "message": error.message}, status=error.status)
