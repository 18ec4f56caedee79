"""Errors in Tap's shape: `{"errors": [{"code": "…", "description": "…"}]}`.

Only "1111 Unauthorized" is taken from Tap; Tap publishes no stable list of its other numeric
codes, so the rest are the sandbox's own, kept in one table so clients see consistent values.
"""

from __future__ import annotations

from typing import Final

from django.http import HttpResponse

from sandbox.tap_sim.jsonfmt import dumps

UNAUTHORIZED: Final = "1111"
INVALID_JSON: Final = "1100"
INVALID_FIELD: Final = "1101"
INVALID_AMOUNT: Final = "1117"
INVALID_CURRENCY: Final = "1118"
INVALID_SOURCE: Final = "1119"
INVALID_URL: Final = "1120"
INVALID_STATE: Final = "1130"
INVALID_OTP: Final = "1131"
REFUND_EXCEEDS_CAPTURED: Final = "1132"
INVALID_REASON: Final = "1133"
NOT_FOUND: Final = "1140"
METHOD_NOT_ALLOWED: Final = "1150"
INTERNAL_ERROR: Final = "1500"


class TapApiError(Exception):
    """Ends an API request with a Tap error body."""

    def __init__(self, status: int, code: str, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.code = code
        self.description = description


def bad_request(code: str, description: str) -> TapApiError:
    return TapApiError(400, code, description)


def method_not_allowed() -> TapApiError:
    return TapApiError(405, METHOD_NOT_ALLOWED, "Method not allowed")


def error_response(error: TapApiError) -> HttpResponse:
    body = {"errors": [{"code": error.code, "description": error.description}]}
    return HttpResponse(dumps(body), status=error.status, content_type="application/json")
