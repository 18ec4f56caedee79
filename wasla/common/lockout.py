"""django-axes's answer to a locked-out sign-in (AXES_LOCKOUT_CALLABLE): the translated page,
429 with Retry-After, the same page the sign-in rate limit answers with."""

from __future__ import annotations

from typing import Any

from axes.helpers import get_cool_off, get_failure_limit
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None, credentials: Any = None
) -> HttpResponse:
    cool_off = get_cool_off(request)
    seconds = int(cool_off.total_seconds()) if cool_off else 0
    context = {
        "failure_limit": get_failure_limit(request, credentials),
        "retry_after_minutes": max(1, (seconds + 59) // 60),
    }
    response = render(request, "common/lockout.html", context, status=429)
    if seconds:
        response["Retry-After"] = str(seconds)
    return response
