"""The database is unreachable (restarting, failing over, connection killed): 503, not 500.

The client gets a problem response with `Retry-After`, and a connection that broke is closed so
the next request on this thread connects afresh instead of failing on the dead one. Every entry
point is covered: plain views (this middleware's `process_exception`), DRF views (their
exception handler sees the error first: `wasla.common.problems`) and middleware that reads the
database (`server_error`, the 500 handler Django calls for errors outside views).
"""

from __future__ import annotations

import sys
from collections.abc import Callable

from django.db import InterfaceError, OperationalError, connections
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults

from .problems import ServiceUnavailable, problem_response

DATABASE_UNAVAILABLE = (OperationalError, InterfaceError)
RETRY_AFTER_SECONDS = 5  # a PostgreSQL restart or failover takes seconds, not minutes


def close_broken_connections() -> None:
    """Close each connection of this thread that had an error and no longer answers."""
    for connection in connections.all(initialized_only=True):
        broken = connection.connection is not None and connection.errors_occurred
        if broken and not connection.is_usable():
            connection.close()


def database_unavailable() -> ServiceUnavailable:
    """The problem to answer with; closes the broken connections on the way."""
    close_broken_connections()
    problem = ServiceUnavailable("The database is not reachable right now; retry shortly.")
    problem.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return problem


def database_unavailable_response() -> JsonResponse:
    problem = database_unavailable()
    response = problem_response(problem.status, problem.slug, problem.title, problem.detail)
    for name, value in problem.headers.items():
        response[name] = value
    return response


class DatabaseUnavailableMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, DATABASE_UNAVAILABLE):
            return database_unavailable_response()
        return None


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: called while the exception is being handled, so it can still see it."""
    if isinstance(sys.exc_info()[1], DATABASE_UNAVAILABLE):
        return database_unavailable_response()
    return defaults.server_error(request)
