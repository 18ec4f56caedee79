"""OPTIONS on any API route: what the route is and which media types it speaks.

DRF's SimpleMetadata also describes the input of PUT/POST by calling `get_object()` and the
view's serializer; our views have neither a queryset nor an input serializer there (their input
serializers are nested), so that answered 500. The OpenAPI schema describes the input instead;
the `Allow` header lists the methods.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rest_framework.metadata import BaseMetadata
from rest_framework.request import Request

if TYPE_CHECKING:  # rest_framework.views imports the settings that name this module
    from rest_framework.views import APIView


class ApiMetadata(BaseMetadata):
    def determine_metadata(self, request: Request, view: APIView) -> dict[str, Any]:
        return {
            "name": view.get_view_name(),
            "description": view.get_view_description(),
            "renders": [renderer.media_type for renderer in view.renderer_classes],
            "parses": [parser.media_type for parser in view.parser_classes],
            "schema": "/api/schema/",
        }
