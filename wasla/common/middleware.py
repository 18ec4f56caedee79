from collections.abc import Callable
from urllib.parse import unquote_to_bytes

from django.conf import settings
from django.http import HttpRequest, HttpResponse, UnreadablePostError

from .problems import problem_response


class BodySizeLimitMiddleware:
    """Refuse oversize bodies with 413 before anything reads them; read to its end whatever
    body (within the limit) the view answered without reading.

    Why the latter: gunicorn's sync workers close the connection after each answer, and a
    socket closed with bytes still unread is reset. nginx, still sending the body upstream,
    then gets a broken pipe and answers its client 502 instead of our 404, 401 or 415 (the
    webhook endpoint refuses an unknown provider or token before it reads anything; found by
    chaos/test_fuzz.py, a few in 10,000 requests).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = settings.WASLA_MAX_BODY_BYTES
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return problem_response(400, "bad-content-length", "Invalid Content-Length")
        if length > limit:
            return problem_response(
                413, "body-too-large", "Request body too large", f"The limit is {limit} bytes."
            )
        response = self.get_response(request)
        if length and not hasattr(request, "_body"):  # `request.body` keeps what it read there
            _drain(request)
        return response


def _drain(request: HttpRequest) -> None:
    """Read what is left of the request's body (at most the limit) and drop it."""
    try:
        while request.read(64 * 1024):
            pass
    except UnreadablePostError:
        pass  # the client went away: nothing is left to read


class NulInUrlMiddleware:
    """Refuse a URL with a NUL character (in the path or, percent-decoded, the query string).

    PostgreSQL cannot hold NUL in text, so a path segment or filter carrying one fails in the
    database (a DataError, answered 500) wherever it is looked up; no URL of ours has one.
    The provider simulators (demo and tests only) are left alone: they answer such ids as the
    real providers do, with their own 404.
    """

    exempt_prefix = "/sandbox/"

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith(self.exempt_prefix):
            return self.get_response(request)
        query = unquote_to_bytes(request.META.get("QUERY_STRING", ""))
        if "\x00" in request.path or b"\x00" in query:
            return problem_response(
                400, "nul-in-url", "NUL character in URL", "URLs must not contain NUL (%00)."
            )
        return self.get_response(request)
