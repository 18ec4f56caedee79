"""GET /api/v1/ledger/entries/: the tenant's own entries, paginated, amounts as strings."""

from __future__ import annotations

import pytest

from testsupport.factories import api_client_for
from testsupport.payments import paid_payment, refunded
from wasla.ledger.accounts import AccountRole

pytestmark = pytest.mark.django_db

URL = "/api/v1/ledger/entries/"


def test_lists_the_tenants_entries_newest_first(tenant, other_tenant):
    attempt = paid_payment(tenant)
    refunded(attempt, "100.00")
    paid_payment(other_tenant, "50.000", currency="KWD")
    response = api_client_for(tenant).get(URL)
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 4
    newest = body["results"][0]
    assert newest["entry_type"] == "reversal"
    assert {r["account"] for r in body["results"]} == {
        AccountRole.UNBILLED.code_for(tenant.slug),
        AccountRole.FEE_INCOME.code_for(tenant.slug),
    }
    fee_income = next(
        r for r in body["results"] if r["entry_type"] == "fee" and r["account_type"] == "income"
    )
    assert (fee_income["debit"], fee_income["credit"], fee_income["balance_after"]) == (
        "0.00",
        "1.00",
        "1.00",
    )
    other = api_client_for(other_tenant).get(URL).json()
    assert other["count"] == 2
    assert {r["credit"] for r in other["results"]} == {"0.000", "1.000"}  # KWD: 3 decimals


def test_filters_and_pagination(tenant):
    for _ in range(3):
        paid_payment(tenant)
    api = api_client_for(tenant)
    income = AccountRole.FEE_INCOME.code_for(tenant.slug)
    by_account = api.get(URL, {"account": income}).json()
    assert by_account["count"] == 3
    assert [r["balance_after"] for r in by_account["results"]] == ["3.00", "2.00", "1.00"]
    assert api.get(URL, {"entry_type": "reversal"}).json()["count"] == 0
    assert api.get(URL, {"currency": "SAR"}).json()["count"] == 6
    reference = by_account["results"][0]["reference_id"]
    assert api.get(URL, {"reference_id": reference}).json()["count"] == 2
    page = api.get(URL, {"limit": 2, "offset": 1}).json()
    assert (page["count"], len(page["results"])) == (6, 2)


@pytest.mark.parametrize(
    "query",
    [
        {"entry_type": "bogus"},
        {"currency": "XXX"},
        {"account": "Income:Fees:<script>"},
        {"account": "A" * 201},
        {"reference_id": "x" * 101},
        {"reference_id": "a\x00b"},
    ],
)
def test_bad_filters_are_400_problems(tenant, query):
    response = api_client_for(tenant).get(URL, query)
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/problem+json")


def test_needs_a_token(client):
    assert client.get(URL).status_code in (401, 403)
