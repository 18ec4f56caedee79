"""Concurrent postings, each thread on its own connection released together by a barrier."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import transaction

from testsupport.factories import make_tenant
from testsupport.payments import balance
from testsupport.threads import in_threads
from wasla.ledger.accounts import AccountRole
from wasla.ledger.models import LedgerTransaction
from wasla.ledger.services import PostingLine, ledger_post
from wasla.ledger.verify import ledger_faults
from wasla.tenants.context import tenant_context

pytestmark = pytest.mark.django_db(transaction=True)

THREADS = 8


def _fee(tenant, key: str, amount: Decimal) -> LedgerTransaction:
    # In the tenant's scope and one transaction, as the payment confirmation posts.
    with tenant_context(tenant.pk), transaction.atomic():
        return ledger_post(
            tenant_id=tenant.pk,
            entry_type=LedgerTransaction.EntryType.FEE,
            reference_id=key,
            idempotency_key=key,
            lines=[
                PostingLine.dr(AccountRole.UNBILLED, tenant.slug, amount, "SAR"),
                PostingLine.cr(AccountRole.FEE_INCOME, tenant.slug, amount, "SAR"),
            ],
        )


@pytest.mark.parametrize("repeat", range(5))
def test_concurrent_postings_on_one_tenant_keep_both_chains(close_thread_connections, repeat):
    tenant = make_tenant()  # no accounts yet: the threads also race to create them
    amounts = [Decimal(i + 1) for i in range(THREADS)]
    results = in_threads(THREADS, lambda i: _fee(tenant, f"k{i}", amounts[i]))

    assert all(isinstance(r, LedgerTransaction) for r in results), results
    sequences = sorted(r.sequence for r in results)
    assert sequences == list(range(1, THREADS + 1))
    assert balance(tenant, AccountRole.FEE_INCOME) == sum(amounts)
    assert balance(tenant, AccountRole.UNBILLED) == sum(amounts)
    assert list(ledger_faults(tenant_id=tenant.pk)) == []


@pytest.mark.parametrize("repeat", range(3))
def test_the_same_key_from_many_threads_posts_once(close_thread_connections, repeat):
    tenant = make_tenant()
    results = in_threads(THREADS, lambda i: _fee(tenant, "same", Decimal("1.00")))

    assert {r.pk for r in results} == {results[0].pk}, results
    assert LedgerTransaction.objects.filter(tenant=tenant).count() == 1
    assert balance(tenant, AccountRole.FEE_INCOME) == Decimal("1.00")


@pytest.mark.parametrize("repeat", range(3))
def test_tenants_post_concurrently_into_their_own_books(close_thread_connections, repeat):
    tenants = [make_tenant() for _ in range(4)]
    results = in_threads(THREADS, lambda i: _fee(tenants[i % 4], f"k{i}", Decimal("1.00")))

    assert all(isinstance(r, LedgerTransaction) for r in results), results
    for tenant in tenants:
        assert balance(tenant, AccountRole.FEE_INCOME) == Decimal("2.00")
        chain = LedgerTransaction.objects.filter(tenant=tenant).order_by("sequence")
        assert [t.sequence for t in chain] == [1, 2]
    assert list(ledger_faults()) == []
