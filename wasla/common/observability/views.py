"""GET /metrics for Prometheus: not public. With no WASLA_METRICS_TOKEN set the endpoint does
not exist (404); with one, a scrape must send `Authorization: Bearer <token>` (else 401)."""

from __future__ import annotations

import hmac

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from ..problems import problem_response
from .metrics import registry_for_scrape


@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    token = getattr(settings, "WASLA_METRICS_TOKEN", "")
    if not token:
        return problem_response(404, "not-found", "Not found")
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        given.strip().encode(), token.encode()
    ):
        response = problem_response(401, "unauthorized", "Metrics need their bearer token")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse(generate_latest(registry_for_scrape()), content_type=CONTENT_TYPE_LATEST)
