"""`manage.py reconcile` checks the invoicing books per tenant and currency: clean books report
nothing; a row tampered with behind the application's back (raw SQL as the superuser, its
guards switched off for that session only) is reported with its tenant, currency, expected and
actual amounts, and the command exits 1."""

from __future__ import annotations

import json
from decimal import Decimal
from io import StringIO

import psycopg
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from testsupport.credit_notes import merchant_credit_left
from testsupport.database import database_owner
from testsupport.invoicing import (
    make_invoiceable_tenant,
    paid_payment_at,
    percentage_fee_plan,
    riyadh,
    run_month,
)
from wasla.invoicing.models import Invoice, MerchantCreditUse
from wasla.invoicing.reconciliation import invoicing_differences
from wasla.settlement.reconcile_checks import reconcile_checks_run
from wasla.tenants.models import Tenant

D = Decimal


def _books(tenant: Tenant) -> Invoice:
    """January paid, a refund after it (credit 6.90), February using the credit: every kind of
    document and posting the identities cover. Returns February's invoice."""
    merchant_credit_left(tenant)
    paid_payment_at(tenant, riyadh(2026, 2, 14), "400.00")
    february = run_month(tenant, 2026, 2)
    assert february is not None
    assert february.amount_credit_applied == D("6.90")
    return february


def _reconcile_json() -> tuple[int, dict]:  # type: ignore[type-arg]
    out = StringIO()
    try:
        call_command("reconcile", "--json", stdout=out)
    except CommandError as error:
        return error.returncode, json.loads(out.getvalue())
    return 0, json.loads(out.getvalue())


@pytest.mark.django_db
def test_clean_books_have_no_difference():
    percentage_fee_plan()
    for _ in range(2):
        _books(make_invoiceable_tenant())

    assert invoicing_differences() == []
    assert reconcile_checks_run() == []
    code, body = _reconcile_json()
    assert (code, body["books_differences"], body["settlement_differences"]) == (0, [], [])


def _as_superuser(*statements: tuple[str, list[object]]) -> None:
    """Run `statements` as the owner of the tables (the test database's superuser) with the
    triggers off for that session only, committed: a hand edit that bypasses every guard."""
    own = connection.settings_dict
    with psycopg.connect(
        host=own["HOST"], port=own["PORT"], dbname=own["NAME"], user=database_owner()
    ) as owner:
        owner.execute("SET session_replication_role = replica")
        for sql, params in statements:
            owner.execute(sql, params)


@pytest.mark.django_db(transaction=True)
def test_tampered_rows_are_reported_with_tenant_currency_expected_and_actual(
    close_thread_connections,
):
    percentage_fee_plan()
    clean, tampered = make_invoiceable_tenant(), make_invoiceable_tenant()
    _books(clean)
    february = _books(tampered)
    use = MerchantCreditUse.objects.get(invoice=february)

    _as_superuser(
        # A billed fee raised by a halala: the documents no longer bill the fees.
        (
            "UPDATE invoicing_invoicesettlement SET fee = fee + 0.01 WHERE invoice_id = %s",
            [february.pk],
        ),
        # A credit use erased: the merchant seems to hold credit the ledger does not show.
        ("DELETE FROM invoicing_merchantcredituse WHERE id = %s", [use.pk]),
        # VAT moved to the net on the invoice: totals still add up, VAT Output does not.
        (
            "UPDATE invoicing_invoice SET vat_total = vat_total - 1, subtotal = subtotal + 1"
            " WHERE id = %s",
            [february.pk],
        ),
    )

    differences = reconcile_checks_run()
    found = {(d.kind, d.tenant_id, d.currency, d.expected, d.actual) for d in differences}
    assert found == {
        # invoices - credit notes: 9.50 + 12.00 (was 11.00) - 6.00 = 15.50;
        # fees billed 9.50 + 11.01 less 6.00 given back = 14.51
        ("fees_billed", tampered.pk, "SAR", D("14.51"), D("15.50")),
        # amounts due 0 + 5.75, unused credit now 6.90: -1.15 expected, the ledger says 5.75
        ("receivable", tampered.pk, "SAR", D("-1.15"), D("5.75")),
        # VAT: 1.43 + 0.65 - 0.90 = 1.18 on the documents, 2.18 in the ledger
        ("vat_output", tampered.pk, "SAR", D("1.18"), D("2.18")),
    }

    code, body = _reconcile_json()
    assert code == 1
    assert {d["kind"] for d in body["books_differences"]} == {
        "fees_billed",
        "receivable",
        "vat_output",
    }
    row = next(d for d in body["books_differences"] if d["kind"] == "receivable")
    assert row == {
        "check": "invoicing",
        "kind": "receivable",
        "tenant_id": tampered.pk,
        "currency": "SAR",
        "expected": "-1.150",
        "actual": "5.750",
        "detail": "ledger Receivable vs invoice amounts due - unused merchant credit",
    }
    text = StringIO()
    with pytest.raises(CommandError):
        call_command("reconcile", stdout=text)
    assert (
        f"invoicing/receivable: tenant={tampered.pk} SAR: expected -1.150, actual 5.750"
        in text.getvalue()
    )
