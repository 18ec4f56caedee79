"""Error reports to Sentry (sentry-sdk), only when SENTRY_DSN is set.

What leaves the process is scrubbed first (`scrub_event`, the SDK's `before_send` and
`before_send_transaction`; breadcrumbs through `before_breadcrumb`): values of secret-looking
keys (the log redaction's list: secret, password, token, authorization, cookie, signature,
cvc, otp, ...) and of personal-data keys (email, phone, mobile, name, address, street, city,
district, postal code, IBAN, national id, IP), card numbers and provider secrets in any text,
e-mail addresses and Saudi mobile numbers in any text. The SDK is also told not to send what
it would otherwise add by itself: no default PII (user IP, cookies, the user's name), no local
variables of stack frames, no request bodies (and default PII stays off, the SDK's default).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from .logs import REDACTED, is_secret_key, redact_text

_PERSONAL_KEY = re.compile(
    r"e-?mail|phone|mobile|msisdn|(^|_)name$|first_?name|last_?name|full_?name|username|"
    r"address|street|city|district|postal|zip|building|iban|national_?id|iqama|ip_address|"
    r"^ip$|customer|buyer|card_?holder|holder_?name",
    re.IGNORECASE,
)
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
# Saudi mobiles (+9665..., 009665..., 05...) and any long international number.
_PHONE = re.compile(r"(?:\+|00)\d{9,14}\b|\b05\d{8}\b")
# Keys of Sentry's own event structure that are never personal data whatever their name says.
_STRUCTURE_KEYS = frozenset(
    {
        "event_id",
        "level",
        "logger",
        "platform",
        "timestamp",
        "type",
        "module",
        "function",
        "filename",
        "abs_path",
        "lineno",
        "in_app",
        "transaction",
        "server_name",
        "release",
        "environment",
        "sdk",
        "contexts",
        "exception",
        "values",
        "stacktrace",
        "frames",
        "mechanism",
        "breadcrumbs",
        "category",
        "message",
        "formatted",
        "params",
        "tags",
    }
)


def _scrub_text(text: str) -> str:
    return _PHONE.sub(REDACTED, _EMAIL.sub(REDACTED, redact_text(text)))


def _scrub(value: Any, depth: int = 0) -> Any:
    if depth > 12:
        return REDACTED
    if isinstance(value, str):
        return _scrub_text(value)
    if isinstance(value, Mapping):
        return {
            key: (
                REDACTED
                if key not in _STRUCTURE_KEYS
                and (is_secret_key(key) or _PERSONAL_KEY.search(str(key)))
                else _scrub(item, depth + 1)
            )
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [_scrub(item, depth + 1) for item in value]
    return value


def scrub_event(event: dict[str, Any], hint: Any = None) -> dict[str, Any]:
    """A copy of a Sentry event (or breadcrumb) with secrets and personal data removed.

    The user is reduced to its id; request cookies, headers other than a few harmless ones, and
    the body are dropped outright."""
    event = dict(event)
    user = event.get("user")
    if isinstance(user, Mapping):
        event["user"] = {"id": user["id"]} if "id" in user else {}
    request = event.get("request")
    if isinstance(request, Mapping):
        request = dict(request)
        request.pop("cookies", None)
        request.pop("data", None)
        request.pop("env", None)
        headers = request.get("headers")
        if isinstance(headers, Mapping):
            request["headers"] = {
                k: v
                for k, v in headers.items()
                if k.lower() in ("content-type", "content-length", "user-agent", "x-request-id")
            }
        if request.get("query_string"):
            request["query_string"] = REDACTED
        event["request"] = request
    return dict(_scrub(event))


def scrub_breadcrumb(crumb: dict[str, Any], hint: Any = None) -> dict[str, Any]:
    return dict(_scrub(crumb))


def sentry_init(
    *,
    dsn: str,
    environment: str = "production",
    release: str | None = None,
    traces_sample_rate: float = 0.0,
    transport: Any = None,
) -> bool:
    """Start the SDK when `dsn` is set (returns whether it did). `transport` replaces the HTTP
    one (tests capture envelopes with a fake)."""
    if not dsn:
        return False
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration

    options: dict[str, Any] = {
        "dsn": dsn,
        "environment": environment,
        "release": release,
        "include_local_variables": False,
        "max_request_body_size": "never",
        "traces_sample_rate": traces_sample_rate,
        "before_send": scrub_event,
        "before_send_transaction": scrub_event,
        "before_breadcrumb": scrub_breadcrumb,
        "integrations": [DjangoIntegration(), CeleryIntegration()],
    }
    if transport is not None:
        options["transport"] = transport
    sentry_sdk.init(**options)
    return True
