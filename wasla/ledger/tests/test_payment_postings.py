"""The ledger follows real payments end to end: hosted page → signed webhook → confirmation
(one fee posting, however many deliveries) → refund through the API → reversal."""

from __future__ import annotations

from decimal import Decimal

import pytest

from testsupport.factories import api_client_for
from testsupport.payments import balance
from wasla.ledger.accounts import AccountRole
from wasla.ledger.models import LedgerTransaction
from wasla.ledger.verify import ledger_faults
from wasla.payments.tests.test_refunds import paid_attempt, refund

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("provider", ["tap", "stripe"])
def test_a_paid_payment_books_one_fee_and_a_full_refund_reverses_it(sandbox, tenant, provider):
    attempt = paid_attempt(tenant, provider)
    fee = LedgerTransaction.objects.get(tenant=tenant)
    assert (fee.entry_type, fee.reference_id) == ("fee", f"settlement:{attempt.settlement.pk}")
    assert balance(tenant, AccountRole.FEE_INCOME) == Decimal("1.00")

    api = api_client_for(tenant)
    assert refund(api, attempt, "40.00").json()["status"] == "succeeded"
    assert LedgerTransaction.objects.filter(tenant=tenant).count() == 1  # fixed fee kept
    assert refund(api, attempt).json()["status"] == "succeeded"  # the rest: a full refund

    reversal = LedgerTransaction.objects.get(tenant=tenant, entry_type="reversal")
    assert reversal.reverses_id == fee.pk
    assert LedgerTransaction.objects.filter(tenant=tenant).count() == 2
    assert balance(tenant, AccountRole.FEE_INCOME) == 0
    assert balance(tenant, AccountRole.UNBILLED) == 0
    assert list(ledger_faults()) == []
