"""What the simulators' hosted pages share: their template engine, language and amounts.

The sandbox stands for third parties (Tap, Stripe, PayPal) and shares no code with `wasla`
(import-linter checks it), so it keeps its own small versions of what a page needs:

- each simulator renders with a private template `Engine` and no request; `page_engine` gives
  that engine Django's `i18n` library, so `{% load i18n %}` and `{% translate %}` work in the
  language the request activated (the site's LanguageMiddleware: the visitor's cookie, else
  Arabic); and `static`, for each simulator's stylesheet (a static file, as
  the site's Content-Security-Policy allows no inline style without the request's nonce);
- like a real provider's page, it has its own language switch: a link to `language_set`,
  which sets the same `wasla_language` cookie and sends the visitor back (a plain GET: a third
  party's page cannot post to the merchant's CSRF-protected /i18n/setlang/);
- `money_text` writes an amount with Babel in the active language (ر.س. after the number in
  Arabic, the ISO code before it in English), with the decimals the simulator gives.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Final
from urllib.parse import urlsplit

from babel import numbers as babel_numbers
from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template import Engine
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET

LIBRARIES: Final = {"i18n": "django.templatetags.i18n", "static": "django.templatetags.static"}
_PATTERNS: Final = {"ar": "#,##0{fraction}\u00a0¤", "en": "¤¤\u00a0#,##0{fraction}"}
SANDBOX_PREFIX: Final = "/sandbox/"


def page_engine(directory: Path) -> Engine:
    """A simulator's private engine over `directory`, with the i18n tags."""
    return Engine(dirs=[str(directory)], libraries=LIBRARIES)


def _locale() -> str:
    return "ar" if (translation.get_language() or "ar").startswith("ar") else "en"


def money_text(amount: Decimal, currency: str, exponent: int) -> str:
    """`Decimal("10.5"), "SAR", 2` → "10.50 ر.س." (Arabic) / "SAR 10.50" (English)."""
    locale = _locale()
    fraction = "." + "0" * exponent if exponent else ""
    return babel_numbers.format_currency(
        amount,
        currency.upper(),
        format=_PATTERNS[locale].format(fraction=fraction),
        locale=locale,
        currency_digits=False,
    )


@require_GET
def language_set(request: HttpRequest, code: str) -> HttpResponse:
    """The hosted pages' language switch: remember `code` in the site's language cookie and go
    back to the sandbox page the visitor came from (`next`, else the Referer), never elsewhere."""
    back = request.GET.get("next") or request.headers.get("referer", "")
    safe = url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    parts = urlsplit(back)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    response = HttpResponseRedirect(path if safe and path.startswith(SANDBOX_PREFIX) else "/")
    if code in dict(settings.LANGUAGES):
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            code,
            max_age=settings.LANGUAGE_COOKIE_AGE,
            samesite="Lax",  # as the site's own switch (LANGUAGE_COOKIE_SAMESITE)
            path="/",
        )
    return response
