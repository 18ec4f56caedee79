"""What bench/dashboard.py measures: the pages (one `Page` each) and how one page is timed.

A page is (label, URL name, args, query, who). `who` says how the request is made and under
which role and scope its main SQL is re-run alone:
- "member": the portal's way, a logged-in owner of the largest tenant (app role, tenant GUC);
- "staff": the dashboard's and the admin's way, a logged-in superuser (platform role);
- "token": the API's way, `Authorization: Bearer` of the largest tenant (app role, tenant GUC).
Args and query may name `{placeholders}` filled from the seeded data (`Placeholders`). A page
whose URL name does not resolve is reported "skipped (not built)": the pages are being built
by others, and the bench runs as it is once they are merged.
"""

from __future__ import annotations

import re
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any

WARMUPS = 3


@dataclass(frozen=True)
class Page:
    label: str
    url_name: str
    args: tuple[str, ...] = ()
    query: str = ""
    who: str = "member"  # member | staff | token
    group: str = "portal"  # api | admin | portal | dashboard


PAGES: list[Page] = [
    # What exists today: the merchant API's lists and the admin's changelists.
    Page("API payments", "payment-list", who="token", group="api"),
    Page("API settlements", "settlement-list", who="token", group="api"),
    Page("API orders", "order-list", who="token", group="api"),
    Page(
        "admin payment attempts",
        "admin:payments_paymentattempt_changelist",
        who="staff",
        group="admin",
    ),
    Page(
        "admin payment attempts failed",
        "admin:payments_paymentattempt_changelist",
        query="status__exact=failed",
        who="staff",
        group="admin",
    ),
    Page(
        "admin settlements",
        "admin:settlement_settlementrecord_changelist",
        who="staff",
        group="admin",
    ),
    # The merchant portal's money pages (the largest tenant's owner).
    Page("portal overview", "portal:overview"),
    Page("portal payments", "portal:payments"),
    Page("portal payments refunded tap", "portal:payments", query="status=refunded&provider=tap"),
    Page("portal payment detail", "portal:payment", args=("{payment}",)),
    Page("portal settlements", "portal:settlements"),
    Page("portal settlement month", "portal:settlement_month", args=("{year}", "{month}")),
    Page("portal invoices", "portal:invoices"),
    # The staff dashboard (every tenant).
    Page("dashboard home", "dashboard:home", who="staff", group="dashboard"),
    Page(
        "dashboard home 30 days",
        "dashboard:home",
        query="date_from={d30}&date_to={today}",
        who="staff",
        group="dashboard",
    ),
    Page("dashboard payments", "dashboard:payments", who="staff", group="dashboard"),
    Page(
        "dashboard payments failed",
        "dashboard:payments",
        query="status=failed",
        who="staff",
        group="dashboard",
    ),
    Page("dashboard invoices", "dashboard:invoices", who="staff", group="dashboard"),
    Page(
        "dashboard simulator 90 days",
        "dashboard:simulator",
        query="currency=SAR&fixed_fee=1.00&percentage=2.5&date_from={d90}&date_to={today}",
        who="staff",
        group="dashboard",
    ),
]

# The CSV exports of every payment: (label, URL name, dataset, who). The dataset is the URL's
# argument when the URL takes one, else `dataset=` in the query.
EXPORTS: list[tuple[str, str, str, str]] = [
    ("dashboard export payments", "dashboard:export", "payments", "staff"),
    ("portal export payments", "portal:export", "payments", "member"),
]


@dataclass
class Timing:
    """A page's (or a statement's) request times in seconds, warm-ups left out."""

    seconds: list[float] = field(default_factory=list)

    @property
    def p50(self) -> float:
        return statistics.median(self.seconds)

    @property
    def p95(self) -> float:
        ordered = sorted(self.seconds)
        return ordered[max(0, round(0.95 * len(ordered)) - 1)]


@dataclass
class PageResult:
    page: Page
    url: str = ""
    note: str = ""  # "skipped (not built)", "HTTP 500", ...
    timing: Timing | None = None
    queries: int = 0
    sql_total: float | None = None  # all the page's statements once (the scope's own excluded)
    main_sql: str = ""
    slowest: list[tuple[float, str]] = field(default_factory=list)  # (seconds, statement)
    sql_timing: Timing | None = None

    @property
    def ratio(self) -> float | None:
        if self.timing is None or self.sql_timing is None or self.sql_timing.p95 <= 0:
            return None
        return self.timing.p95 / self.sql_timing.p95


def url_for(page_url_name: str, args: tuple[str, ...], query: str, fill: dict[str, str]) -> str:
    """The page's URL, placeholders filled; NoReverseMatch when it is not built yet."""
    from django.urls import reverse

    url = reverse(page_url_name, args=[arg.format(**fill) for arg in args])
    query = query.format(**fill)
    return f"{url}?{query}" if query else url


def page_measure(
    *,
    page: Page,
    get: Callable[[str], Any],
    scope: Callable[[], AbstractContextManager[Any]],
    fill: dict[str, str],
    repeat: int,
) -> PageResult:
    """Time `repeat` requests of the page after the warm-ups, then its slowest SELECT alone."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.urls import NoReverseMatch

    result = PageResult(page)
    try:
        result.url = url_for(page.url_name, page.args, page.query, fill)
    except NoReverseMatch:
        result.note = "skipped (not built)"
        return result
    statements: list[tuple[float, str, Any]] = []

    def record(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            if not many:
                statements.append((time.perf_counter() - started, sql, params))

    try:
        for _ in range(WARMUPS):
            status = _request(get, result.url)
            if status != 200:
                result.note = f"HTTP {status}"
                return result
        with connection.execute_wrapper(record), CaptureQueriesContext(connection) as captured:
            _request(get, result.url)
        result.queries = len(captured.captured_queries)
        result.sql_total = sum(seconds for seconds, _, _ in statements)
        ranked = sorted(statements, key=lambda s: s[0], reverse=True)
        result.slowest = [(seconds, _short(sql)) for seconds, sql, _ in ranked]
        timing = Timing()
        for _ in range(repeat):
            started = time.perf_counter()
            _request(get, result.url)
            timing.seconds.append(time.perf_counter() - started)
        result.timing = timing
    except Exception as error:  # a page that breaks is reported, the others still measured
        result.note = f"error: {type(error).__name__}: {error}"[:120]
        return result
    selects = [s for s in statements if s[1].lstrip().upper().startswith(("SELECT", "WITH"))]
    if selects:
        _, sql, params = max(selects, key=lambda s: s[0])
        result.main_sql = _short(sql)
        result.sql_timing = sql_measure(sql=sql, params=params, scope=scope, repeat=repeat)
    return result


def _short(sql: str) -> str:
    """The statement on one line, its select list elided: what it reads and how it filters."""
    flat = " ".join(sql.split())
    return re.sub(r"^SELECT (DISTINCT )?(.{120,}?) FROM ", r"SELECT \1… FROM ", flat, count=1)


def _request(get: Callable[[str], Any], url: str) -> int:
    response = get(url)
    if getattr(response, "streaming", False):
        for _ in response.streaming_content:
            pass
    else:
        _ = response.content
    return int(response.status_code)


def sql_measure(
    *, sql: str, params: Any, scope: Callable[[], AbstractContextManager[Any]], repeat: int
) -> Timing:
    """The statement alone, `repeat` times after the warm-ups, rows fetched, in the page's
    role and scope: one transaction, whose first statement sets the scope (a warm-up)."""
    from django.db import connection, transaction

    timing = Timing()
    with scope(), transaction.atomic():
        for run in range(WARMUPS + repeat):
            started = time.perf_counter()
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                if cursor.description is not None:
                    cursor.fetchall()
            if run >= WARMUPS:
                timing.seconds.append(time.perf_counter() - started)
    return timing


def selected(pages: list[Page], groups: set[str]) -> Iterator[Page]:
    return (page for page in pages if "all" in groups or page.group in groups)
