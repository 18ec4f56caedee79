"""Idempotency-Key for mutating API calls.

missing → 400; same key + other request → 422; same key while the first runs → 409;
same key afterwards → the stored response, replayed. Not stored, so the client may send the
request again under the same key: a 5xx (nothing was decided), and a request refused for its
own input before anything happened (400 malformed or invalid, 413, 415), which changes nothing
and may be corrected. The body is read through the API's parser, the strict JSON reader
(`wasla.api.parsers`), so the fingerprint never walks what that reader refuses.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from wasla.common.problems import Conflict, Problem, Unprocessable
from wasla.tenants.auth import request_tenant

from .models import IdempotencyRecord

_KEY_RE = re.compile(r"[\x21-\x7e]{1,255}")


# Refused for its input, before the view did anything: not kept (see the module docstring).
INPUT_REFUSED = frozenset({400, 413, 415})


class IdempotencyKeyMissing(Problem):
    slug, title = "idempotency-key-missing", _("Idempotency-Key header required")


class IdempotencyKeyReused(Unprocessable):
    slug, title = "idempotency-key-reused", _("Idempotency-Key was used for another request")


class IdempotencyKeyInFlight(Conflict):
    slug, title = "idempotency-key-in-flight", _("A request with this Idempotency-Key is running")


def _fingerprint(request: Request) -> str:
    body = json.dumps(request.data, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(f"{request.method} {request.path}\n{body}".encode()).hexdigest()


ViewMethod = Callable[..., Response]


def idempotent(view_method: ViewMethod) -> ViewMethod:
    @wraps(view_method)
    def wrapper(self: APIView, request: Request, *args: Any, **kwargs: Any) -> Response:
        key = request.headers.get("Idempotency-Key", "")
        if not key:
            raise IdempotencyKeyMissing("Send a unique Idempotency-Key header with this request.")
        if not _KEY_RE.fullmatch(key):
            raise IdempotencyKeyMissing("Idempotency-Key must be 1-255 printable ASCII characters.")
        tenant = request_tenant(request)
        fingerprint = _fingerprint(request)  # parses the body: malformed JSON fails here, 400
        try:
            with transaction.atomic():
                record = IdempotencyRecord.objects.create(
                    tenant=tenant,
                    key=key,
                    method=request.method or "",
                    path=request.path,
                    fingerprint=fingerprint,
                )
        except IntegrityError:
            return _replay(tenant_id=tenant.pk, key=key, fingerprint=fingerprint)
        try:
            try:
                response = view_method(self, request, *args, **kwargs)
            except Exception as exc:
                response = self.handle_exception(exc)  # re-raises what is not an API error
        except BaseException:
            record.delete()
            raise
        if response.status_code >= 500 or response.status_code in INPUT_REFUSED:
            record.delete()
            return response
        IdempotencyRecord.objects.filter(pk=record.pk).update(
            state=IdempotencyRecord.State.DONE,
            response_status=response.status_code,
            response_body=response.data,
            response_content_type=response.content_type or "",
        )
        return response

    return wrapper


def _replay(*, tenant_id: int, key: str, fingerprint: str) -> Response:
    record = IdempotencyRecord.objects.get(tenant_id=tenant_id, key=key)
    if record.fingerprint != fingerprint:
        raise IdempotencyKeyReused("This Idempotency-Key was sent before with a different request.")
    if record.state != IdempotencyRecord.State.DONE:
        raise IdempotencyKeyInFlight("The first request with this key has not finished yet.")
    response = Response(
        record.response_body,
        status=record.response_status,
        content_type=record.response_content_type or None,
    )
    response["Idempotent-Replayed"] = "true"
    return response
