"""The books after a month of invoicing pass every outside check (issue 10): `verify_ledger`,
`bean-check` on the Beancount export and `hledger check` on the hledger one, and what both
exports say each account holds is what the ledger and the documents say.

The month, each step at its own moment (the ledger dates its postings by the clock, and the
hledger export asserts every posting's running balance in date order): payments in January in
SAR and KWD; a reversal and a fee reduction before the run; January's run; one invoice paid in
full by bank transfer, one in part, one not at all; refunds after invoicing of each, credited by
`credit_notes_issue` (the paid invoice's credit becomes the merchant's credit, the part-paid
one's amount due drops, the unpaid one is cleared by its credit note); a February payment and
February's run.
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from datetime import datetime
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from testsupport.invoicing import (
    bank_transfer_at,
    clock_at,
    ledger_verified,
    make_invoiceable_tenant,
    paid_payment_at,
    percentage_fee_plan,
    riyadh,
    run_month,
)
from testsupport.payments import refunded, standard_plan_in
from wasla.invoicing.credit_notes import credit_notes_issue
from wasla.invoicing.models import Invoice, MerchantCredit
from wasla.ledger.models import LedgerAccount
from wasla.payments.models import PaymentAttempt
from wasla.tenants.models import Tenant

from .books import books_agree

pytestmark = pytest.mark.django_db

D = Decimal
TRANSFERS, REFUNDS, CREDIT_NOTES = riyadh(2026, 2, 5), riyadh(2026, 2, 8), riyadh(2026, 2, 10)


def _pay(when: datetime, tenant: Tenant, amount: str, currency: str = "SAR") -> PaymentAttempt:
    return paid_payment_at(tenant, when, amount, currency)


def _refund(when: datetime, attempt: PaymentAttempt, amount: str) -> None:
    with clock_at(when):
        refunded(attempt, amount)


def _run(tenant: Tenant, month: int, currency: str = "SAR") -> Invoice:
    with clock_at(riyadh(2026, month + 1, 1)):
        invoice = run_month(tenant, 2026, month, currency)
    assert invoice is not None
    return invoice


def _month() -> list[tuple[Tenant, str]]:
    """The month of the module docstring; returns the (tenant, currency) books it wrote."""
    percentage_fee_plan()  # 1.00 SAR + 2.5 %, the percentage given back on a partial refund
    standard_plan_in("KWD")  # 1.000 KWD a payment
    acme, souq = make_invoiceable_tenant("acme"), make_invoiceable_tenant("souq")
    a_big = _pay(riyadh(2026, 1, 5), acme, "200.00")  # fee 6.00
    _pay(riyadh(2026, 1, 9), acme, "100.00")  # 3.50
    a_gone = _pay(riyadh(2026, 1, 12), acme, "40.00")  # 2.00, reversed before the run
    s_big = _pay(riyadh(2026, 1, 6), souq, "300.00")  # 8.50
    s_cut = _pay(riyadh(2026, 1, 7), souq, "50.00")  # 2.25, 0.50 back before the run
    s_kwd = _pay(riyadh(2026, 1, 8), souq, "25.000", "KWD")  # 1.000 KWD
    _refund(riyadh(2026, 1, 20), a_gone, "40.00")
    _refund(riyadh(2026, 1, 21), s_cut, "20.00")

    acme_jan, souq_jan, souq_kwd = _run(acme, 1), _run(souq, 1), _run(souq, 1, "KWD")
    assert (acme_jan.subtotal, acme_jan.vat_total, acme_jan.total) == (
        D("9.50"),
        D("1.43"),
        D("10.93"),
    )
    assert (souq_jan.subtotal, souq_jan.vat_total, souq_jan.total) == (
        D("10.25"),
        D("1.54"),
        D("11.79"),
    )
    assert (souq_kwd.subtotal, souq_kwd.vat_total, souq_kwd.total) == (D("1"), D("0.15"), D("1.15"))
    bank_transfer_at(acme_jan, TRANSFERS, D("10.93"), "SARIE-1")  # paid in full
    bank_transfer_at(souq_jan, TRANSFERS, D("5.00"), "SARIE-2")  # paid in part
    # ... and the KWD invoice not at all.

    _refund(REFUNDS, a_big, "50.00")  # 1.25 back on a paid invoice
    _refund(REFUNDS, s_big, "100.00")  # 2.50 back on a part-paid one
    _refund(REFUNDS, s_kwd, "25.000")  # the whole 1.000 KWD back on an unpaid one
    with clock_at(CREDIT_NOTES):
        notes = credit_notes_issue(now=CREDIT_NOTES)
    assert sorted((n.currency, n.subtotal, n.vat_total) for n in notes) == [
        ("KWD", D("1"), D("0.15")),
        ("SAR", D("1.25"), D("0.19")),
        ("SAR", D("2.50"), D("0.38")),
    ]
    for invoice in (acme_jan, souq_jan, souq_kwd):
        invoice.refresh_from_db()
    assert (acme_jan.status, acme_jan.amount_due) == ("paid", 0)
    assert MerchantCredit.objects.get(tenant=acme).amount == D("1.44")
    assert (souq_jan.status, souq_jan.amount_credited, souq_jan.amount_due) == (
        "issued",
        D("2.88"),
        D("3.91"),
    )
    assert (souq_kwd.status, souq_kwd.amount_credited, souq_kwd.amount_due) == (
        "paid",
        D("1.15"),
        0,
    )

    _pay(riyadh(2026, 2, 15), acme, "100.00")
    acme_feb = _run(acme, 2)
    assert (acme_feb.subtotal, acme_feb.vat_total, acme_feb.total) == (
        D("3.50"),
        D("0.53"),
        D("4.03"),
    )
    return [(acme, "SAR"), (souq, "SAR"), (souq, "KWD")]


def _export(fmt: str, path: Path) -> Path:
    out = StringIO()
    call_command("export_ledger", "--format", fmt, stdout=out)
    path.write_text(out.getvalue())
    return path


def _signed_balances() -> dict[tuple[str, str], Decimal]:
    """Each account's balance signed the plain-text-accounting way (credits negative)."""
    return {
        (a.code, a.currency): a.balance if a.is_debit_normal else -a.balance
        for a in LedgerAccount.objects.all()
    }


def test_books_after_invoicing_pass_verify_ledger_and_bean_check(tmp_path):
    books = _month()
    for tenant, currency in books:
        figures = books_agree(tenant, currency)
        assert figures.fees_standing == figures.invoiced - figures.credited + figures.not_invoiced
    assert books_agree(books[0][0], "SAR").receivable == D("4.03") - D("1.44")
    assert ledger_verified().strip() == "ledger ok"

    journal = _export("beancount", tmp_path / "wasla.beancount")
    checked = subprocess.run(
        [str(Path(sys.executable).with_name("bean-check")), str(journal)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert (checked.returncode, checked.stdout, checked.stderr) == (0, "", "")
    from beancount import loader
    from beancount.core import data

    entries, errors, _ = loader.load_file(str(journal))
    assert errors == []
    exported: dict[tuple[str, str], Decimal] = {}
    kinds: set[str | None] = set()
    for entry in entries:
        if isinstance(entry, data.Transaction):
            kinds.add(entry.payee)
            for posting in entry.postings:
                units = posting.units
                assert units is not None
                assert units.number is not None
                key = (posting.account, units.currency)
                exported[key] = exported.get(key, D(0)) + units.number
    assert {"fee", "reversal", "adjustment", "invoice", "payment", "credit_note"} <= kinds, kinds
    assert exported == _signed_balances()


@pytest.mark.skipif(
    shutil.which("hledger") is None and not os.environ.get("CI"),
    reason="hledger is not installed (make test installs it; CI never skips this)",
)
def test_books_after_invoicing_pass_hledger_check(tmp_path):
    _month()
    journal = _export("hledger", tmp_path / "wasla.journal")
    checked = subprocess.run(
        ["hledger", "-f", str(journal), "check"], capture_output=True, text=True, check=False
    )
    assert checked.returncode == 0, checked.stderr
    for (code, currency), signed in _signed_balances().items():
        query = [f"^{code}$", f"cur:{currency}", "-N", "--flat", "-O", "csv"]
        report = subprocess.run(
            ["hledger", "-f", str(journal), "balance", *query],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        rows = list(csv.reader(report.splitlines()))[1:]  # (account, amount); none when zero
        held = sum((D(amount.split()[0]) for _, amount in rows), D(0))
        assert held == signed, (code, currency, report)
    assert ledger_verified().strip() == "ledger ok"
