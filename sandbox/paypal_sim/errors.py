"""Errors in PayPal's shapes.

REST APIs answer `{"name", "message", "debug_id", "details": [{"field", "location", "issue",
"description"}], "links": [information_link]}` with the status that goes with `name`. The OAuth
token endpoint answers the OAuth2 shape instead: `{"error": "invalid_client",
"error_description": "…"}`.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any, Final

from django.http import HttpResponse

from sandbox.paypal_sim.jsonfmt import dumps

NAMES: Final[dict[int, tuple[str, str]]] = {
    400: (
        "INVALID_REQUEST",
        "Request is not well-formed, syntactically incorrect, or violates schema.",
    ),
    401: (
        "AUTHENTICATION_FAILURE",
        "Authentication failed due to invalid authentication credentials or a missing "
        "Authorization header.",
    ),
    404: ("RESOURCE_NOT_FOUND", "The specified resource does not exist."),
    405: ("METHOD_NOT_SUPPORTED", "The server does not implement the requested HTTP method."),
    422: (
        "UNPROCESSABLE_ENTITY",
        "The requested action could not be performed, semantically incorrect, or failed "
        "business validation.",
    ),
}

# Issues (details[].issue) used by the simulator, named as PayPal names them.
MALFORMED_REQUEST_JSON: Final = "MALFORMED_REQUEST_JSON"
MISSING_REQUIRED_PARAMETER: Final = "MISSING_REQUIRED_PARAMETER"
INVALID_PARAMETER_VALUE: Final = "INVALID_PARAMETER_VALUE"
INVALID_PARAMETER_SYNTAX: Final = "INVALID_PARAMETER_SYNTAX"
INVALID_STRING_LENGTH: Final = "INVALID_STRING_LENGTH"
INVALID_ARRAY_MIN_ITEMS: Final = "INVALID_ARRAY_MIN_ITEMS"
INVALID_ARRAY_MAX_ITEMS: Final = "INVALID_ARRAY_MAX_ITEMS"
CURRENCY_NOT_SUPPORTED: Final = "CURRENCY_NOT_SUPPORTED"
DECIMAL_PRECISION: Final = "DECIMAL_PRECISION"
CANNOT_BE_ZERO_OR_NEGATIVE: Final = "CANNOT_BE_ZERO_OR_NEGATIVE"
INVALID_RESOURCE_ID: Final = "INVALID_RESOURCE_ID"
INVALID_TOKEN: Final = "INVALID_TOKEN"
ORDER_NOT_APPROVED: Final = "ORDER_NOT_APPROVED"
ORDER_ALREADY_CAPTURED: Final = "ORDER_ALREADY_CAPTURED"
INSTRUMENT_DECLINED: Final = "INSTRUMENT_DECLINED"
REFUND_AMOUNT_EXCEEDED: Final = "REFUND_AMOUNT_EXCEEDED"
CAPTURE_FULLY_REFUNDED: Final = "CAPTURE_FULLY_REFUNDED"
REFUND_NOT_ALLOWED: Final = "REFUND_NOT_ALLOWED"
REFUND_CAPTURE_CURRENCY_MISMATCH: Final = "REFUND_CAPTURE_CURRENCY_MISMATCH"
WEBHOOK_URL_ALREADY_EXISTS: Final = "WEBHOOK_URL_ALREADY_EXISTS"
WEBHOOK_NUMBER_LIMIT_EXCEEDED: Final = "WEBHOOK_NUMBER_LIMIT_EXCEEDED"
METHOD_NOT_SUPPORTED: Final = "METHOD_NOT_SUPPORTED"


@dataclass
class PayPalApiError(Exception):
    """Ends an API request with a PayPal error body."""

    status: int
    issue: str
    description: str
    field: str = ""
    location: str = "body"

    def __str__(self) -> str:
        return f"{self.status} {self.issue}: {self.description}"


def invalid_request(
    issue: str, description: str, *, field: str = "", location: str = "body"
) -> PayPalApiError:
    return PayPalApiError(400, issue, description, field, location)


def unprocessable(issue: str, description: str, *, field: str = "") -> PayPalApiError:
    return PayPalApiError(422, issue, description, field)


def not_found(description: str = "Specified resource ID does not exist.") -> PayPalApiError:
    return PayPalApiError(404, INVALID_RESOURCE_ID, description, location="path")


def authentication_failure() -> PayPalApiError:
    return PayPalApiError(
        401, INVALID_TOKEN, "The access token is missing, unknown or expired.", location="header"
    )


def method_not_supported() -> PayPalApiError:
    return PayPalApiError(405, METHOD_NOT_SUPPORTED, "Method not allowed here.", location="path")


def debug_id() -> str:
    return secrets.token_hex(7)[:13]


def error_body(error: PayPalApiError, *, api: str) -> dict[str, Any]:
    name, message = NAMES[error.status]
    detail: dict[str, Any] = {}
    if error.field:
        detail["field"] = error.field
    detail["location"] = error.location
    detail["issue"] = error.issue
    detail["description"] = error.description
    return {
        "name": name,
        "message": message,
        "debug_id": debug_id(),
        "details": [detail],
        "links": [
            {
                "href": f"https://developer.paypal.com/docs/api/{api}/#error-{error.issue}",
                "rel": "information_link",
                "method": "GET",
            }
        ],
    }


def error_response(error: PayPalApiError, *, api: str) -> HttpResponse:
    return HttpResponse(
        dumps(error_body(error, api=api)), status=error.status, content_type="application/json"
    )


def internal_error_response(*, api: str) -> HttpResponse:
    """500 INTERNAL_SERVER_ERROR, as PayPal answers when it failed on its side (no details)."""
    body = {
        "name": "INTERNAL_SERVER_ERROR",
        "message": "An internal server error has occurred.",
        "debug_id": debug_id(),
        "links": [
            {
                "href": f"https://developer.paypal.com/docs/api/{api}/#errors",
                "rel": "information_link",
                "method": "GET",
            }
        ],
    }
    return HttpResponse(dumps(body), status=500, content_type="application/json")


@dataclass
class OAuthError(Exception):
    """Ends a token request with an OAuth2 error body."""

    status: int
    error: str
    description: str


def invalid_client() -> OAuthError:
    return OAuthError(401, "invalid_client", "Client Authentication failed")


def oauth_error_response(error: OAuthError) -> HttpResponse:
    body = {"error": error.error, "error_description": error.description}
    response = HttpResponse(dumps(body), status=error.status, content_type="application/json")
    if error.status == 401:
        response["WWW-Authenticate"] = 'Basic realm="sandbox.paypal"'
    return response
