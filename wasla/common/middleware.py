from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from .problems import problem_response


class BodySizeLimitMiddleware:
    """Refuse oversize bodies with 413 before anything reads them."""

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
        return self.get_response(request)
