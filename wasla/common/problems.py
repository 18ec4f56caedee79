"""RFC 9457 problem+json errors with stable `type` URIs, for the API and the webhook views.

Titles are `gettext_lazy`: a problem is defined at import time but answered in the language of
the request (the API follows Accept-Language, English unless the client asks for Arabic), so
the text is only made a string when the body is built. `type` URIs and slugs never change
with the language: clients match on them.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.views import defaults
from rest_framework import exceptions as drf_exceptions
from rest_framework.response import Response

logger = logging.getLogger(__name__)

PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEM_BASE = "https://docs.wasla.sa/problems/"


class Problem(Exception):
    """A domain error that maps one-to-one to a problem response."""

    status = 400
    slug = "bad-request"
    title: str | Promise = _("Bad request")

    def __init__(self, detail: str | Promise = "", *, extra: dict[str, Any] | None = None) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.extra = extra or {}
        self.headers: dict[str, str] = {}  # response headers the problem calls for (Retry-After)

    def body(self) -> dict[str, Any]:
        return problem_body(self.status, self.slug, self.title, self.detail, **self.extra)


def problem_body(
    status: int, slug: str, title: str | Promise, detail: str | Promise, **extra: Any
) -> dict[str, Any]:
    """The body, with lazy texts made strings now, in the active language."""
    return {
        "type": PROBLEM_BASE + slug,
        "title": str(title),
        "status": status,
        "detail": str(detail),
        **extra,
    }


def problem_response(
    status: int, slug: str, title: str | Promise, detail: str | Promise = "", **extra: Any
) -> JsonResponse:
    return JsonResponse(
        problem_body(status, slug, title, detail or title, **extra),
        status=status,
        content_type=PROBLEM_CONTENT_TYPE,
        json_dumps_params={"ensure_ascii": False},
    )


# URLs whose clients are programs: their errors, 404 included, are problem+json, not HTML pages.
PROBLEM_PATH_PREFIXES = ("/api/", "/webhooks/")


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """handler404: an unknown API or webhook URL answers like the rest of the API."""
    if request.path.startswith(PROBLEM_PATH_PREFIXES):
        return problem_response(404, "not-found", _("Not found"), _("No such resource."))
    return defaults.page_not_found(request, exception)


class NotFound(Problem):
    status, slug, title = 404, "not-found", _("Not found")


class Conflict(Problem):
    status, slug, title = 409, "conflict", _("Conflict")


class Unprocessable(Problem):
    status, slug, title = 422, "unprocessable", _("Request cannot be processed")


class ProviderUnavailable(Problem):
    status, slug, title = 502, "provider-unavailable", _("Payment provider unavailable")


class ServiceUnavailable(Problem):
    status, slug, title = 503, "service-unavailable", _("Service temporarily unavailable")


_DRF_SLUGS: dict[type[drf_exceptions.APIException], tuple[str, Promise]] = {
    drf_exceptions.ParseError: ("malformed-request", _("Malformed request body")),
    drf_exceptions.ValidationError: ("validation-error", _("Invalid request")),
    drf_exceptions.NotAuthenticated: ("not-authenticated", _("Authentication required")),
    drf_exceptions.AuthenticationFailed: ("not-authenticated", _("Authentication failed")),
    drf_exceptions.PermissionDenied: ("forbidden", _("Forbidden")),
    drf_exceptions.NotFound: ("not-found", _("Not found")),
    drf_exceptions.MethodNotAllowed: ("method-not-allowed", _("Method not allowed")),
    drf_exceptions.NotAcceptable: ("not-acceptable", _("Not acceptable")),
    drf_exceptions.UnsupportedMediaType: ("unsupported-media-type", _("Unsupported media type")),
    drf_exceptions.Throttled: ("throttled", _("Too many requests")),
}


def drf_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF EXCEPTION_HANDLER: every error leaves as application/problem+json."""
    if isinstance(exc, OperationalError | InterfaceError):
        from .outage import database_unavailable  # outage builds on this module

        exc = database_unavailable()
    if isinstance(exc, Problem):
        response = _problem(exc.body())
        for name, value in exc.headers.items():
            response[name] = value
        return response
    if isinstance(exc, Http404):
        exc = drf_exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = drf_exceptions.PermissionDenied()
    if not isinstance(exc, drf_exceptions.APIException):
        return None  # a real bug: let Django log it and answer 500
    slug, title = next(
        (v for k, v in _DRF_SLUGS.items() if isinstance(exc, k)), ("error", _("Request failed"))
    )
    extra: dict[str, Any] = {}
    detail: str | Promise
    if isinstance(exc, drf_exceptions.ValidationError):
        extra["errors"] = exc.detail
        detail = _("One or more fields are invalid.")
    else:
        detail = str(exc.detail)
    response = _problem(problem_body(exc.status_code, slug, title, detail, **extra))
    if isinstance(exc, drf_exceptions.NotAuthenticated | drf_exceptions.AuthenticationFailed):
        response["WWW-Authenticate"] = 'Bearer realm="wasla"'
    return response


def _problem(body: dict[str, Any]) -> Response:
    return Response(body, status=body["status"], content_type=PROBLEM_CONTENT_TYPE)
