"""The portal's first page (/merchant/): this month and last month in figures, and the last
30 days in three charts (daily volume, method mix, paid vs failed), each with its numbers in
a table beside it for whoever does not see the chart."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from babel import dates as babel_dates
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from wasla.common.formatting import date_text, locale_of
from wasla.common.money import round_money

from .access import member_view
from .labels import label_of
from .selectors import overview_get


def _day_label(day: dt.date) -> str:
    """A chart axis's short day ("7 Nov" / "7 نوفمبر"); the tooltips and the table say more."""
    return babel_dates.format_date(day, format="d MMM", locale=locale_of())


@require_GET
@member_view()
def overview_page(request: HttpRequest) -> HttpResponse:
    overview = overview_get(tenant=request.tenant)  # type: ignore[attr-defined]
    daily = overview.daily
    charts: dict[str, Any] = {
        "days": [_day_label(day) for day in daily.days],
        "dates": [date_text(day) for day in daily.days],
        "volume": {
            currency: [str(round_money(amount, currency)) for amount in series]
            for currency, series in daily.volume.items()
        },
        "paid": daily.paid,
        "failed": daily.failed,
        "methods": {
            "labels": [label_of(method, "method") for method, _ in overview.methods],
            "counts": [n for _, n in overview.methods],
        },
    }
    context = {
        "overview": overview,
        "charts": charts,
        "volume_totals": {
            currency: sum(series, Decimal(0)) for currency, series in daily.volume.items()
        },
        "paid_total": sum(daily.paid),
        "failed_total": sum(daily.failed),
    }
    return render(request, "portal/overview.html", context)
