"""Template filters for what people read: `{% load display %}`.

`{{ amount|amount:currency }}`, `{{ when|when }}`, `{{ day|day }}`, `{{ month|month }}`,
`{{ ratio|percent }}`, `{{ n|count }}` — each one call into `wasla.common.formatting`, in the
language of the request.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django import template

from wasla.common import formatting

register = template.Library()


@register.filter
def amount(value: Decimal | None, currency: str) -> str:
    return formatting.money_text(value, currency)


@register.filter
def when(value: dt.datetime | None) -> str:
    return formatting.datetime_text(value)


@register.filter
def day(value: dt.date | dt.datetime | None) -> str:
    return formatting.date_text(value)


@register.filter
def month(value: dt.date) -> str:
    return formatting.month_text(value)


@register.filter
def percent(value: Decimal | float | None) -> str:
    return formatting.percent_text(value)


@register.filter
def count(value: int | Decimal) -> str:
    return formatting.number_text(value)
