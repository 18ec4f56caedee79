"""What a list of payments, orders, refunds or settlements may be narrowed by — one definition
for the API, the merchant portal, the staff dashboard and the CSV exports.

Each surface validates its own input its own way (the API answers a 400 problem, a page shows
the form's error) and hands the selectors a `ListFilters`; each selector maps the names onto its
model's fields with `filters_apply`. `created_after` is inclusive and `created_before`
exclusive, so consecutive ranges never count a row twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import date, datetime, time, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from django.db.models import Model, QuerySet

M = TypeVar("M", bound=Model)

# A day given without a time is a day in Saudi Arabia, where the merchants and their books are.
RIYADH = ZoneInfo("Asia/Riyadh")
MOMENT_YEARS = (1900, 2999)
MOMENT_HELP = (
    "An ISO 8601 date (2026-12-01, Riyadh midnight) or date and time "
    "(2026-12-01T09:30:00+03:00; without an offset, Riyadh time)."
)


@dataclass(frozen=True)
class ListFilters:
    status: str | None = None
    provider: str | None = None
    method: str | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None
    reference: str | None = None  # the order's reference (exact)

    @classmethod
    def of(cls, values: Mapping[str, Any]) -> ListFilters:
        """From validated input; names this dataclass doesn't know are ignored."""
        names = {field.name for field in fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in names and v not in (None, "")})

    def is_empty(self) -> bool:
        return all(getattr(self, field.name) is None for field in fields(self))


NO_FILTERS = ListFilters()


def filters_apply(
    queryset: QuerySet[M], filters: ListFilters, paths: Mapping[str, str]
) -> QuerySet[M]:
    """Narrow `queryset` by each filter given, through `paths`: filter name ("status",
    "provider", "method", "reference", "created") → its lookup path on the model
    ("payment_attempt__provider"). A filter set for a model without a path for it is the
    caller's error (ValueError), never silently ignored."""
    for name in ("status", "provider", "method", "reference"):
        value = getattr(filters, name)
        if value is not None:
            queryset = queryset.filter(**{_path(paths, name): value})
    if filters.created_after is not None:
        queryset = queryset.filter(**{f"{_path(paths, 'created')}__gte": filters.created_after})
    if filters.created_before is not None:
        queryset = queryset.filter(**{f"{_path(paths, 'created')}__lt": filters.created_before})
    return queryset


def _path(paths: Mapping[str, str], name: str) -> str:
    if name not in paths:
        raise ValueError(f"this list cannot be filtered by {name}")
    return paths[name]


def moment_parse(value: str) -> datetime:
    """An ISO 8601 date or date-time as an aware datetime: a date means Riyadh midnight, a time
    without an offset is Riyadh time. Anything else ("yesterday", "2026-13-01") is a
    ValueError, for the caller to answer as bad input."""
    text = value.strip()
    if not 10 <= len(text) <= 40 or not text[:4].isdigit() or not text.isascii():
        raise ValueError(MOMENT_HELP)
    try:
        if len(text) == 10:
            moment = day_start(date.fromisoformat(text))
        else:
            moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(MOMENT_HELP) from None
    if not MOMENT_YEARS[0] <= moment.year <= MOMENT_YEARS[1]:
        raise ValueError(MOMENT_HELP)  # year 1 or 9999 would overflow in UTC or a day later
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=RIYADH)


def day_start(day: date) -> datetime:
    """Riyadh midnight at the start of `day`."""
    return datetime.combine(day, time.min, tzinfo=RIYADH)


def day_after_start(day: date) -> datetime:
    """Riyadh midnight at the end of `day`: the exclusive bound of a range whose last day is
    `day` (a form's "to" date)."""
    return day_start(day + timedelta(days=1))
