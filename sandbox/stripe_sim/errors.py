"""Errors in Stripe's shape: `{"error": {"type": …, "code": …, "message": …, "param": …}}`.

`code` and `param` appear only when Stripe sends them (an invalid currency, for one, has no code).
"""

from __future__ import annotations

import json
from typing import Any, Final

from django.http import HttpResponse

INVALID_REQUEST: Final = "invalid_request_error"
IDEMPOTENCY: Final = "idempotency_error"
API_ERROR: Final = "api_error"


class StripeApiError(Exception):
    """Ends an API request with a Stripe error body and HTTP status."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: str | None = None,
        param: str | None = None,
        type: str = INVALID_REQUEST,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.param = param
        self.type = type

    def as_dict(self) -> dict[str, Any]:
        error: dict[str, Any] = {"type": self.type}
        if self.code is not None:
            error["code"] = self.code
            error["doc_url"] = f"https://stripe.com/docs/error-codes/{self.code.replace('_', '-')}"
        error["message"] = self.message
        if self.param is not None:
            error["param"] = self.param
        return {"error": error}


def invalid(message: str, *, param: str | None = None, code: str | None = None) -> StripeApiError:
    """400 invalid_request_error."""
    return StripeApiError(400, message, code=code, param=param)


def missing(param: str) -> StripeApiError:
    return invalid(f"Missing required param: {param}.", param=param, code="parameter_missing")


def unknown(param: str) -> StripeApiError:
    return invalid(f"Received unknown parameter: {param}", param=param, code="parameter_unknown")


def no_such(kind: str, object_id: str, *, param: str = "id") -> StripeApiError:
    """404 for an id that is unknown or belongs to another account: the two look the same."""
    return StripeApiError(
        404, f"No such {kind}: '{object_id}'", code="resource_missing", param=param
    )


def unrecognized_url(method: str, path: str) -> StripeApiError:
    return StripeApiError(
        404,
        f"Unrecognized request URL ({method}: {path}). Please see https://stripe.com/docs or we "
        "can help at https://support.stripe.com/.",
    )


def error_response(error: StripeApiError) -> HttpResponse:
    return HttpResponse(
        json.dumps(error.as_dict(), indent=2),
        status=error.status,
        content_type="application/json",
    )
