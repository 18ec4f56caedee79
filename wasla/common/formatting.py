"""Amounts, dates and times as a person reads them, in the active language (Babel's CLDR data).

The one place pages, CSV-free exports and e-mails turn numbers into text: money is first
rounded by `round_money` (the currency's exponent, ROUND_HALF_UP), then written with the
currency's CLDR symbol in Arabic ("1,234.50 ر.س.") and its code in English ("SAR 1,234.50");
digits stay Latin in both, as Saudi invoices and bank statements write them. Times are shown
in the platform's time zone (Asia/Riyadh).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from babel import dates as babel_dates
from babel import numbers as babel_numbers
from django.utils import timezone, translation

from .money import MoneyError, currency_exponent, round_money

_PATTERNS = {
    # The currency symbol after the number in Arabic, the ISO code before it in English.
    "ar": "#,##0{fraction}\u00a0¤",
    "en": "¤¤\u00a0#,##0{fraction}",
}


def locale_of(language: str | None = None) -> str:
    """The Babel locale of a Django language code ("ar", "en"); the active one by default."""
    code = (language or translation.get_language() or "ar").split("-")[0]
    return "ar" if code == "ar" else "en"


def money_text(amount: Decimal | None, currency: str, language: str | None = None) -> str:
    """`Decimal("1234.5"), "SAR"` → "1,234.50 ر.س." (ar) / "SAR 1,234.50" (en)."""
    if amount is None:
        return "—"
    try:
        exponent = currency_exponent(currency)
        rounded = round_money(Decimal(amount), currency)
    except MoneyError:
        return f"{amount} {currency}"
    locale = locale_of(language)
    fraction = "." + "0" * exponent if exponent else ""
    pattern = _PATTERNS[locale].format(fraction=fraction)
    return babel_numbers.format_currency(
        rounded, currency, format=pattern, locale=locale, currency_digits=False
    )


def number_text(value: int | Decimal, language: str | None = None) -> str:
    """A count or ratio with grouping, Latin digits."""
    return babel_numbers.format_decimal(value, locale=locale_of(language))


def percent_text(ratio: Decimal | float | None, language: str | None = None) -> str:
    """0.9734 → "97.3%" (en) / "97.3٪" (ar)."""
    if ratio is None:
        return "—"
    return babel_numbers.format_percent(ratio, format="#,##0.0%", locale=locale_of(language))


def date_text(value: dt.date | dt.datetime | None, language: str | None = None) -> str:
    """6 December 2026 / ٦ ديسمبر ٢٠٢٦ style long date (Latin digits), in Riyadh time."""
    if value is None:
        return "—"
    if isinstance(value, dt.datetime):
        value = timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return babel_dates.format_date(value, format="d MMMM y", locale=locale_of(language))


def datetime_text(value: dt.datetime | None, language: str | None = None) -> str:
    """Date and minute in Riyadh time, e.g. "6 December 2026, 13:05"."""
    if value is None:
        return "—"
    local = timezone.localtime(value) if timezone.is_aware(value) else value
    day = babel_dates.format_date(local.date(), format="d MMMM y", locale=locale_of(language))
    return f"{day}، {local:%H:%M}" if locale_of(language) == "ar" else f"{day}, {local:%H:%M}"


def month_text(value: dt.date, language: str | None = None) -> str:
    """ "December 2026" / "ديسمبر 2026"."""
    return babel_dates.format_date(value, format="MMMM y", locale=locale_of(language))
