"""Errors in Stripe's shape: `{"error": {"type": …, "code": …, "message": …, "param": …}}`.

`code` and `param` appear only when Stripe sends them (an invalid currency, for one, has no code).
A card error (402) also carries `decline_code`, `charge`, `payment_intent` and `payment_method`.
"""

from __future__ import annotations

import json
from typing import Any, Final

from django.http import HttpResponse

INVALID_REQUEST: Final = "invalid_request_error"
IDEMPOTENCY: Final = "idempotency_error"
API_ERROR: Final = "api_error"
CARD_ERROR: Final = "card_error"


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
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.param = param
        self.type = type
        self.extra = extra or {}

    def as_dict(self) -> dict[str, Any]:
        error: dict[str, Any] = {"type": self.type}
        if self.code is not None:
            error["code"] = self.code
            error["doc_url"] = f"https://stripe.com/docs/error-codes/{self.code.replace('_', '-')}"
        error["message"] = self.message
        if self.param is not None:
            error["param"] = self.param
        error.update(self.extra)
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


def no_such_param(kind: str, object_id: str, *, param: str) -> StripeApiError:
    """400 for a parameter naming an unknown object (or another account's): Stripe answers 404
    only for the object in the URL."""
    return StripeApiError(
        400, f"No such {kind}: '{object_id}'", code="resource_missing", param=param
    )


def card_error(
    message: str, *, code: str, decline_code: str, extra: dict[str, Any] | None = None
) -> StripeApiError:
    """402 card_error: a card was declined (`extra`: the charge, intent, payment method)."""
    return StripeApiError(
        402,
        message,
        code=code,
        type=CARD_ERROR,
        extra={"decline_code": decline_code, **(extra or {})},
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
