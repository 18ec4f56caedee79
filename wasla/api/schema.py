"""The OpenAPI schema tells the truth about errors too: each operation lists the problem
responses it can give (application/problem+json), from one place instead of per view."""

from __future__ import annotations

from typing import Any

import uritemplate
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import ResolvedComponent

from wasla.common.problems import PROBLEM_CONTENT_TYPE


class TenantTokenScheme(OpenApiAuthenticationExtension):
    target_class = "wasla.tenants.auth.TenantTokenAuthentication"
    name = "tenantToken"

    def get_security_definition(self, auto_schema: AutoSchema) -> dict[str, str]:
        return {"type": "http", "scheme": "bearer", "description": "The merchant's API token."}


# An RFC 9457 problem; `errors` (validation problems) maps each field to its messages.
PROBLEM_SCHEMA = {
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string", "format": "uri"},
        "title": {"type": "string"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string"},
        "errors": {"type": "object", "additionalProperties": True},
    },
}

_DESCRIPTIONS = {
    400: "Malformed request, invalid field or query parameter, or Idempotency-Key missing.",
    401: "No valid API token.",
    404: "No such object for this merchant.",
    409: "Conflict with the current state, or the same Idempotency-Key is still running.",
    413: "Request body too large.",
    415: "The body is not application/json.",
    422: "Valid request that cannot be processed, or an Idempotency-Key reused for another one.",
    429: "Rate limit of the API token or the client address reached; retry after Retry-After.",
    502: "The payment provider did not answer usably.",
    503: "Temporarily unavailable (database or provider circuit); retry after Retry-After.",
}
_ALWAYS = (400, 401, 429, 503)
_WITH_PATH_OBJECT = (404,)
_WRITES = (409, 413, 415, 422, 502)


class ApiSchema(AutoSchema):
    def _get_format_parameters(self) -> list[dict[str, Any]]:
        # No `?format=`: the media type is chosen by Accept alone, and ApiView refuses a query
        # parameter the view does not read (a view with two renderers would otherwise list it).
        return []

    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        problem = ResolvedComponent(
            name="Problem", type=ResolvedComponent.SCHEMA, object="Problem", schema=PROBLEM_SCHEMA
        )
        self.registry.register_on_missing(problem)
        ref = problem.ref
        for status in self._problem_statuses():
            response: dict[str, Any] = {
                "description": _DESCRIPTIONS[status],
                "content": {PROBLEM_CONTENT_TYPE: {"schema": ref}},
            }
            if status in (429, 503):
                response["headers"] = {
                    "Retry-After": {
                        "schema": {"type": "integer"},
                        "description": "Seconds to wait before retrying.",
                    }
                }
            responses.setdefault(str(status), response)
        return responses

    def _problem_statuses(self) -> list[int]:
        statuses = list(_ALWAYS)
        if uritemplate.variables(self.path):
            statuses.extend(_WITH_PATH_OBJECT)
        if self.method in ("POST", "PUT", "PATCH"):
            statuses.extend(_WRITES)
        return sorted(set(statuses))
