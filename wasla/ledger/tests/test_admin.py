"""The ledger admin: rows the database never lets change are read-only here too, and amounts
are written to the account currency's exponent."""

from __future__ import annotations

import pytest

from testsupport.payments import paid_payment
from wasla.ledger.models import FinancialLedgerEntry, LedgerAccount, LedgerTransaction

pytestmark = pytest.mark.django_db


def test_ledger_rows_cannot_be_added_changed_or_deleted(admin_client, tenant):
    paid_payment(tenant, "100.00")
    entry = FinancialLedgerEntry.objects.filter(tenant=tenant).first()
    assert entry is not None
    rows = {
        "financialledgerentry": entry.pk,
        "ledgertransaction": entry.transaction_id,
        "ledgeraccount": entry.account_id,
    }
    for model, pk in rows.items():
        base = f"/admin/ledger/{model}"
        assert admin_client.get(f"{base}/{pk}/change/").status_code == 200  # view only
        assert admin_client.post(f"{base}/{pk}/change/", {}).status_code == 403
        assert admin_client.get(f"{base}/{pk}/delete/").status_code == 403
        assert admin_client.get(f"{base}/add/").status_code == 403


def test_entries_and_balances_show_the_currencys_decimals(admin_client, tenant):
    admin_client.cookies["wasla_language"] = "en"
    paid_payment(tenant, "100.00")
    transaction = LedgerTransaction.objects.filter(tenant=tenant).first()
    account = LedgerAccount.objects.filter(tenant=tenant).exclude(balance=0).first()
    assert transaction is not None
    assert account is not None

    entries = admin_client.get("/admin/ledger/financialledgerentry/").text
    page = admin_client.get(f"/admin/ledger/ledgertransaction/{transaction.pk}/change/").text
    accounts = admin_client.get("/admin/ledger/ledgeraccount/").text

    assert "SAR\xa01.00" in entries  # Wasla's fee
    assert "SAR\xa01.00" in page
    assert "1.000" not in entries + page
    assert f"SAR\xa0{account.balance:.2f}" in accounts
    assert "Ledger entries" in admin_client.get("/admin/").text
