"""Each page runs a fixed number of statements, whatever the number of payments: the same with
3 payments as with 30 (and with invoices, refunds, webhooks and tenants to match)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from testsupport.factories import make_tenant
from testsupport.payments import paid_payment, refunded
from wasla.dashboard.rollups import FULL_DAYS, rollup_refresh

pytestmark = pytest.mark.django_db


def _grow(n: int) -> None:
    for i in range(n):
        attempt = paid_payment(make_tenant(), f"{10 + i}.00")
        if i % 3 == 0:
            refunded(attempt, "5.00")
    rollup_refresh(since=timezone.localdate() - dt.timedelta(days=FULL_DAYS))


def _counts(client) -> dict[str, int]:  # type: ignore[no-untyped-def]
    today = timezone.localdate()
    pages = {
        "home": (reverse("dashboard:home"), {}),
        "payments": (reverse("dashboard:payments"), {}),
        "invoices": (reverse("dashboard:invoices"), {}),
        "simulator": (
            reverse("dashboard:simulator"),
            {
                "currency": "SAR",
                "percentage": "2",
                "date_from": str(today - dt.timedelta(days=1)),
                "date_to": str(today),
            },
        ),
    }
    counts = {}
    for name, (url, query) in pages.items():
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url, query).status_code == 200
        counts[name] = len(captured.captured_queries)
    return counts


def test_pages_run_the_same_statements_for_3_and_30_payments(staff_client):
    _grow(3)
    few = _counts(staff_client)
    _grow(27)
    many = _counts(staff_client)
    assert few == many
    # With the SAVEPOINT and RELEASE of the read transaction (wasla/common/db/reads.py).
    assert few["home"] <= 22, few


@pytest.mark.django_db(transaction=True)
def test_a_page_is_one_transaction_with_one_scope_statement(staff_client):
    """In autocommit mode, as in production, each scoped statement would be its own BEGIN,
    set_config, statement, COMMIT; the page's reads share one transaction instead. The audit
    row commits on its own first, so a page that fails is still on record."""
    _grow(3)
    with CaptureQueriesContext(connection) as captured:
        assert staff_client.get(reverse("dashboard:home")).status_code == 200
    statements = [q["sql"] for q in captured.captured_queries]
    shown = "\n".join(s[:120] for s in statements)
    # Django logs a statement once it returns: an autocommit statement in a scope shows as
    # BEGIN, set_config, COMMIT, then the statement. The audit row is one of those; the page's
    # reads must all follow in ONE transaction: BEGIN, set_config, the reads, COMMIT.
    audit = next(i for i, s in enumerate(statements) if "tenants_platformaccesslog" in s)
    rest = statements[audit + 1 :]
    begin = next(i for i, s in enumerate(rest) if s.upper().startswith("BEGIN"))
    end = next(i for i, s in enumerate(rest) if s.upper().startswith("COMMIT"))
    page = rest[begin + 1 : end]
    assert sum("set_config(" in s for s in page) == 1, shown  # the scope, once
    assert sum(s.lstrip().upper().startswith(("SELECT", "WITH")) for s in page) >= 10, shown
    assert rest[end + 1 :] == [], shown  # nothing read outside it
