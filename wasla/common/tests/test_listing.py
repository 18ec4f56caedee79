"""Reading a list's created range: ISO 8601 dates are Riyadh days, date-times keep their
offset (none: Riyadh time), anything else is refused."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from wasla.common.listing import ListFilters, day_after_start, day_start, moment_parse

RIYADH = ZoneInfo("Asia/Riyadh")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-12-01", datetime(2026, 12, 1, tzinfo=RIYADH)),
        ("2026-12-01T09:30", datetime(2026, 12, 1, 9, 30, tzinfo=RIYADH)),
        ("2026-12-01T09:30:00+03:00", datetime(2026, 12, 1, 6, 30, tzinfo=UTC)),
        ("2026-11-30T21:00:00Z", datetime(2026, 12, 1, tzinfo=RIYADH)),
        (" 2026-12-01 ", datetime(2026, 12, 1, tzinfo=RIYADH)),
    ],
)
def test_moments(text, expected):
    assert moment_parse(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "yesterday",
        "2026-13-01",
        "2026-02-30",
        "01/12/2026",
        "\u0662\u0660\u0662\u0666-12-01",  # Arabic-Indic digits
        "2026-12-01T25:00",
        "9" * 50,
        "0001-01-01T00:00+14:00",
        "9999-12-31",
    ],
)
def test_not_moments(text):
    with pytest.raises(ValueError, match="ISO 8601"):
        moment_parse(text)


def test_day_bounds():
    assert day_start(date(2026, 12, 31)) == datetime(2026, 12, 31, tzinfo=RIYADH)
    assert day_after_start(date(2026, 12, 31)) == datetime(2027, 1, 1, tzinfo=RIYADH)


def test_filters_of_validated_input():
    filters = ListFilters.of({"status": "paid", "provider": "", "year": 2026, "method": None})
    assert filters == ListFilters(status="paid")
    assert not filters.is_empty()
    assert ListFilters.of({}).is_empty()
