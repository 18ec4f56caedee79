"""Limit/offset pagination with bounds: a value out of range is a 400, never a database error.

DRF's LimitOffsetPagination silently replaces a malformed `limit` or `offset` with its default
and passes any positive integer on to SQL, where one beyond a bigint fails in PostgreSQL.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from rest_framework.exceptions import ValidationError
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.request import Request

if TYPE_CHECKING:  # rest_framework.views imports the settings that name this module
    from rest_framework.views import APIView

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
MAX_OFFSET = 1_000_000_000

_DIGITS = re.compile(r"[0-9]{1,12}")  # ASCII only: int() would also take "١٢" or " 12_0"


class BoundedLimitOffsetPagination(LimitOffsetPagination):
    default_limit = DEFAULT_LIMIT
    max_limit = MAX_LIMIT

    def get_limit(self, request: Request) -> int:
        value = self._bounded(request, self.limit_query_param, 1, MAX_LIMIT)
        return DEFAULT_LIMIT if value is None else value

    def get_offset(self, request: Request) -> int:
        value = self._bounded(request, self.offset_query_param, 0, MAX_OFFSET)
        return 0 if value is None else value

    @staticmethod
    def _bounded(request: Request, name: str, low: int, high: int) -> int | None:
        raw = request.query_params.getlist(name)
        if not raw:
            return None
        if len(raw) > 1:
            raise ValidationError({name: ["Give this parameter once."]})
        if not _DIGITS.fullmatch(raw[0]) or not low <= int(raw[0]) <= high:
            raise ValidationError({name: [f"An integer from {low} to {high}."]})
        return int(raw[0])

    def get_schema_operation_parameters(self, view: APIView) -> list[dict[str, Any]]:
        bounds = {
            self.limit_query_param: {"minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
            self.offset_query_param: {"minimum": 0, "maximum": MAX_OFFSET, "default": 0},
        }
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"].update(bounds[parameter["name"]])
        return parameters
