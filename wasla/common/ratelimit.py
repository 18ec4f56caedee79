"""Rate limits per API token and per client address, shared by every worker through Redis.

`RateLimitMiddleware` counts, before any view or database work:

- the API (`/api/`): per client address (`api_ip`), then per bearer token (`api_token`, keyed
  by the token's SHA-256, so the cache never holds a token); a token's limit is its own: another
  token from the same address is not affected below the address's limit;
- the webhooks (`/webhooks/`): per client address only (`webhook_ip`), generous: see the
  settings' comment for why a provider must never be paced by it;
- the sign-in and password-reset forms (POST): per client address (`login_ip`); the lock-out of
  a username after wrong passwords is django-axes's job (settings: AXES_*).

The counting is django-ratelimit's (`get_usage`: a fixed window per key, counted with Redis's
atomic INCR, and the seconds left in it, which become `Retry-After`). Over the limit: 429,
problem+json on the API and webhooks, the translated page on the sign-in forms (problem+json
there too for a client that does not accept HTML).

Redis down or hung (the cache's socket timeouts, config/settings/base.py, make it an error):
the request goes through (fail open), after one failed cache call, and a warning is logged.
Refusing every payment, webhook and sign-in because the counter store is gone would turn a
cache outage into a full outage; the sign-in lock-out (kept in PostgreSQL) still stands.

django-ratelimit is used as a library, not an installed app: its system check refuses the
in-process cache, which the single-process demo uses on purpose (one process shares its counters
with itself); production and the tests count in Redis (CACHE_URL).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django_ratelimit.core import get_usage

from .client_ip import client_ip
from .problems import problem_response

logger = logging.getLogger(__name__)

API_PREFIX = "/api/"
WEBHOOK_PREFIX = "/webhooks/"
SIGN_IN_URL_NAMES = ("portal:login", "portal:password_reset", "admin:login")


def _ip_key(group: str, request: HttpRequest) -> str:
    return client_ip(request)


def _token_key(group: str, request: HttpRequest) -> str:
    return hashlib.sha256(_bearer(request).encode()).hexdigest()


def _bearer(request: HttpRequest) -> str:
    scheme, _sep, credentials = str(request.META.get("HTTP_AUTHORIZATION", "")).partition(" ")
    return credentials.strip() if scheme.lower() == "bearer" else ""


class CacheUnavailable(Exception):
    """The counters could not be read or written (Redis down, hung or refusing)."""


def rate_limit_wait(request: HttpRequest, *, name: str, key: Callable[..., str]) -> int | None:
    """Count this request against limit `name`: the seconds to wait when over it, else None.

    Raises CacheUnavailable when the cache cannot be reached.
    """
    rate = settings.WASLA_RATE_LIMITS[name]
    try:
        usage = get_usage(request, group=f"wasla.{name}", key=key, rate=rate, increment=True)
    except Exception as error:  # any cache failure: redis errors, timeouts, refused connections
        raise CacheUnavailable(f"{type(error).__name__}: {error}") from error
    if usage is None or not usage["should_limit"]:
        return None
    # The window's last second is its own (django-ratelimit's window end is inclusive): the
    # next one starts a second after it, which is when a retry is counted afresh.
    return max(1, int(usage["time_left"]) + 1)


def _sign_in_paths() -> set[str]:
    return {reverse(name) for name in SIGN_IN_URL_NAMES}


class RateLimitMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if settings.WASLA_RATE_LIMITS_ENABLED:
            try:
                refused = self._check(request)
            except CacheUnavailable as error:  # fail open: one warning, no further cache call
                logger.warning("rate limits not applied: cache unavailable (%s)", error)
                refused = None
            if refused is not None:
                return refused
        return self.get_response(request)

    def _check(self, request: HttpRequest) -> HttpResponse | None:
        path = request.path_info
        if path.startswith(API_PREFIX):
            wait = rate_limit_wait(request, name="api_ip", key=_ip_key)
            if wait is None and _bearer(request):
                wait = rate_limit_wait(request, name="api_token", key=_token_key)
            return None if wait is None else _problem(wait)
        if path.startswith(WEBHOOK_PREFIX):
            wait = rate_limit_wait(request, name="webhook_ip", key=_ip_key)
            return None if wait is None else _problem(wait)
        if request.method == "POST" and path in _sign_in_paths():
            wait = rate_limit_wait(request, name="login_ip", key=_ip_key)
            if wait is None:
                return None
            # A person at the form gets the page; a program asking for JSON, the problem.
            return _page(request, wait) if request.accepts("text/html") else _problem(wait)
        return None


def _problem(wait: int) -> HttpResponse:
    response = problem_response(
        429,
        "throttled",
        _("Too many requests"),
        _("Too many requests; retry after %(seconds)s seconds.") % {"seconds": wait},
    )
    response["Retry-After"] = str(wait)
    return response


def _page(request: HttpRequest, wait: int) -> HttpResponse:
    context: dict[str, Any] = {"retry_after_minutes": max(1, (wait + 59) // 60)}
    response = render(request, "common/lockout.html", context, status=429)
    response["Retry-After"] = str(wait)
    return response
