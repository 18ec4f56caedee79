"""/api/docs/: drf-spectacular's Swagger UI, its inline start-up script carrying the request's
Content-Security-Policy nonce (api/swagger_ui.html)."""

from typing import Any

from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularSwaggerView
from rest_framework.request import Request
from rest_framework.response import Response


class ApiDocsView(SpectacularSwaggerView):
    template_name = "api/swagger_ui.html"

    @extend_schema(exclude=True)
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        response = super().get(request, *args, **kwargs)
        # drf-spectacular opens the page to cross-origin openers (unsafe-none) for Swagger UI's
        # OAuth2 pop-up; the API signs in with bearer tokens, so the site's same-origin holds.
        response["Cross-Origin-Opener-Policy"] = "same-origin"
        return response
