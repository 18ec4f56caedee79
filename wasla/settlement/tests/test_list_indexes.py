"""The indexes behind the lists newest first: a tenant's payments, orders and settlements, and
every tenant's payments (the staff dashboard); and the covering index of the fee simulator.

Measured by bench/dashboard.py at a million payments: with only the tenant index, the API's and
the portal's first page fetched and sorted every row of a large tenant. Each index exists with
its columns, and the list's own query can be answered from it without a sort (with sorting
disabled, the planner has to take it: an index of other columns would leave a Sort node).
Here, at the top of the three apps, one file covers all three.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from django.db import connection, transaction
from django.db.models import QuerySet

from wasla.orders.selectors import order_list
from wasla.payments.models import PaymentAttempt
from wasla.payments.selectors import payment_list
from wasla.settlement.selectors import settlement_list
from wasla.tenants.context import tenant_context
from wasla.tenants.models import Tenant

LISTS: list[tuple[Callable[..., Any], str]] = [
    (payment_list, "attempt_tenant_created"),
    (order_list, "order_tenant_created"),
    (settlement_list, "settlement_tenant_created"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("selector", "index"), LISTS, ids=[name for _, name in LISTS])
def test_a_tenants_list_newest_first_reads_its_index(
    tenant: Tenant, selector: Callable[..., Any], index: str
) -> None:
    queryset = selector(tenant=tenant)
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(
            cursor, queryset.model._meta.db_table
        )
    assert constraints[index]["index"]
    assert constraints[index]["columns"] == ["tenant_id", "created_at", "id"]

    with tenant_context(tenant.pk):
        _assert_read_off(queryset[:50], index)


@pytest.mark.django_db
def test_every_tenants_payments_newest_first_read_their_index() -> None:
    """Staff (the platform scope this test runs in) list a date range across every tenant."""
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(
            cursor, PaymentAttempt._meta.db_table
        )
    assert constraints["attempt_created"]["columns"] == ["created_at", "id"]
    since = datetime(2026, 1, 1, tzinfo=UTC)
    newest = PaymentAttempt.objects.filter(created_at__gte=since).order_by("-created_at", "-id")
    _assert_read_off(newest[:50], "attempt_created")


def _assert_read_off(queryset: QuerySet[Any], index: str) -> None:
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_sort = off")
        plan = queryset.explain()
    assert index in plan, plan
    assert "Sort" not in plan, plan


@pytest.mark.django_db
def test_the_fee_simulators_replay_is_an_index_only_scan() -> None:
    """The simulator sums a period's settlements of one currency across every tenant; the
    covering index holds every column it reads, so the table itself is not visited."""
    from django.db.models import Count, Sum

    from wasla.settlement.models import SettlementRecord

    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(
            cursor, SettlementRecord._meta.db_table
        )
    assert constraints["settlement_currency_paid_cover"]["columns"] == [
        "currency",
        "payment_paid_at",
        "tenant_id",
        "status",
        "gross_amount",
        "wasla_fee",
    ]
    replay = (
        SettlementRecord.objects.filter(
            currency="SAR",
            payment_paid_at__gte=datetime(2026, 1, 1, tzinfo=UTC),
            payment_paid_at__lt=datetime(2026, 4, 1, tzinfo=UTC),
        )
        .exclude(status=SettlementRecord.Status.REVERSED)
        .values("tenant_id")
        .annotate(n=Count("*"), fees=Sum("wasla_fee"), gross=Sum("gross_amount"))
        .order_by()
    )
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("SET LOCAL enable_bitmapscan = off")
        plan = replay.explain()
    assert "Index Only Scan using settlement_currency_paid_cover" in plan, plan
