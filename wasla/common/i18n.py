"""Which language a request is answered in: Arabic first, English on request.

Pages (storefront, portal, dashboard, admin, the sandbox's hosted pages) speak the language the
visitor picked with the switch on every page (`/i18n/setlang/`, Django's `set_language`, kept in
a cookie) and Arabic otherwise, whatever the browser's Accept-Language says: Wasla is a Saudi
product. The machine-facing paths (API, webhooks, health) follow `Accept-Language` and answer in
English when it asks for nothing we have, so an integrator's client sees the same problem titles
it always did unless it asks for Arabic.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.translation.trans_real import parse_accept_lang_header

MACHINE_PREFIXES = ("/api/", "/webhooks/", "/healthz", "/readyz")
MACHINE_DEFAULT = "en"


def supported(code: str | None) -> str | None:
    if not code:
        return None
    try:
        return translation.get_supported_language_variant(code)
    except LookupError:
        return None


def request_language(request: HttpRequest) -> str:
    if request.path.startswith(MACHINE_PREFIXES):
        return _from_accept_language(request.META.get("HTTP_ACCEPT_LANGUAGE", ""))
    chosen = supported(request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME))
    return chosen or settings.LANGUAGE_CODE


def _from_accept_language(header: str) -> str:
    """The first language of the header we speak, in the client's order of preference."""
    for lang, _quality in parse_accept_lang_header(header):
        found = supported(lang)
        if found:
            return found
    return MACHINE_DEFAULT


class LanguageMiddleware:
    """Activates the request's language (see the module docstring) for the whole response."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        language = request_language(request)
        with translation.override(language):
            request.LANGUAGE_CODE = language  # type: ignore[attr-defined]
            response = self.get_response(request)
        if request.path.startswith(MACHINE_PREFIXES):
            patch_vary_headers(response, ("Accept-Language",))
        else:
            patch_vary_headers(response, ("Cookie",))
        response.headers.setdefault("Content-Language", language)
        return response
