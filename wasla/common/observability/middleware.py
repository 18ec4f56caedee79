"""Each HTTP request gets a request id, bound to every line it logs and echoed in the answer."""

from __future__ import annotations

import time
from collections.abc import Callable

import structlog
from django.http import HttpRequest, HttpResponse

from .logs import request_id_from

logger = structlog.get_logger("wasla.request")

REQUEST_ID_HEADER = "X-Request-ID"


class RequestContextMiddleware:
    """Bind `request_id` (the caller's X-Request-ID when sane, else a new one) for the request,
    answer it in X-Request-ID, and log one line per request: method, path (never the query
    string, which may carry a signed link), status and duration. What was bound around the
    request (a test's, a server thread's) comes back afterwards."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        outer = structlog.contextvars.get_contextvars()
        structlog.contextvars.clear_contextvars()
        request_id = request_id_from(request.headers.get(REQUEST_ID_HEADER))
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            response[REQUEST_ID_HEADER] = request_id
            logger.info(
                "request",
                method=request.method,
                path=request.path,
                status=response.status_code,
                duration_ms=round((time.perf_counter() - started) * 1000, 1),
            )
            return response
        finally:
            structlog.contextvars.clear_contextvars()
            structlog.contextvars.bind_contextvars(**outer)
