"""Staff sessions are short: they end when the browser closes, and at the latest
WASLA_STAFF_SESSION_SECONDS after sign-in (8 hours by default: a working day).

Django's session has one expiry: a cookie that outlives the browser (SESSION_COOKIE_AGE) or one
that dies with it (`set_expiry(0)`), whose server side then lasts SESSION_COOKIE_AGE (two
weeks). So a staff sign-in gets the browser-session cookie and a deadline in the session, which
the middleware enforces on every request. Merchants keep Django's default session.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse

DEADLINE_KEY = "wasla_staff_session_deadline"


@receiver(user_logged_in, dispatch_uid="wasla.common.staff_session")
def staff_session_start(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    if request is None or not getattr(user, "is_staff", False):
        return
    request.session.set_expiry(0)  # the cookie dies with the browser
    request.session[DEADLINE_KEY] = int(time.time()) + settings.WASLA_STAFF_SESSION_SECONDS


class StaffSessionExpiryMiddleware:
    """Signs out a session past its staff deadline; the request goes on signed out."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        deadline = request.session.get(DEADLINE_KEY)
        if deadline is not None and time.time() >= deadline:
            logout(request)
        return self.get_response(request)
