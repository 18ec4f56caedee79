"""verify_ledger on sound and tampered books; the Beancount and hledger exports."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from decimal import Decimal
from io import StringIO
from pathlib import Path

import psycopg
import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from testsupport.database import database_owner
from wasla.common.money import format_amount
from wasla.ledger.accounts import AccountRole
from wasla.ledger.models import FinancialLedgerEntry, LedgerAccount, LedgerTransaction

from .books import effective_fees, populate

pytestmark = pytest.mark.django_db

LEDGER_TABLES = ["ledger_ledgertransaction", "ledger_financialledgerentry"]


def _tamper(sql: str, params: list) -> None:
    """Edit committed ledger rows as the tables' owner could, with every trigger of the ledger
    tables off meanwhile (one owner transaction: the triggers are back on at its commit). The
    application role can do none of this."""
    own = connection.settings_dict
    with psycopg.connect(
        host=own["HOST"], port=own["PORT"], dbname=own["NAME"], user=database_owner()
    ) as owner:
        for table in LEDGER_TABLES:
            owner.execute(f"ALTER TABLE {table} DISABLE TRIGGER ALL")
        owner.execute(sql, params)
        for table in LEDGER_TABLES:
            owner.execute(f"ALTER TABLE {table} ENABLE TRIGGER ALL")


def _verify(*args: str) -> str:
    out = StringIO()
    call_command("verify_ledger", *args, stdout=out)
    return out.getvalue()


def _an_entry(code_role: AccountRole, slug: str) -> FinancialLedgerEntry:
    return (
        FinancialLedgerEntry.objects.filter(account__code=code_role.code_for(slug))
        .order_by("id")
        .first()
    )


def test_verify_ledger_passes_on_sound_books():
    populate()
    assert _verify().strip() == "ledger ok"
    assert _verify("--tenant", "acme").strip() == "ledger ok"
    with pytest.raises(CommandError, match="no tenant"):
        _verify("--tenant", "nobody")


TAMPERING = {
    "transaction-balance": (
        "UPDATE ledger_financialledgerentry SET debit = debit + 1 WHERE id = %s",
        AccountRole.UNBILLED,
    ),
    "balance-chain": (
        "UPDATE ledger_financialledgerentry SET balance_after = balance_after + 1 WHERE id = %s",
        AccountRole.FEE_INCOME,
    ),
    "hash-chain": (
        "UPDATE ledger_ledgertransaction SET reference_id = 'settlement:0'"
        " WHERE id = (SELECT transaction_id FROM ledger_financialledgerentry WHERE id = %s)",
        AccountRole.UNBILLED,
    ),
}


@pytest.mark.django_db(transaction=True)  # the owner edits committed rows
@pytest.mark.parametrize("check", sorted(TAMPERING))
def test_verify_ledger_finds_the_first_tampered_row(check):
    populate()
    sql, role = TAMPERING[check]
    entry = _an_entry(role, "acme")
    _tamper(sql, [entry.pk])
    with pytest.raises(CommandError, match=rf"ledger broken: {check}: "):
        _verify()
    with pytest.raises(CommandError, match=check):
        _verify("--tenant", "acme")
    assert _verify("--tenant", "souq-1").strip() == "ledger ok"  # other books untouched


@pytest.mark.django_db(transaction=True)  # the owner edits committed rows
def test_verify_ledger_finds_a_removed_transaction():
    populate()
    tx = LedgerTransaction.objects.filter(tenant__slug="acme").order_by("sequence")[1]
    _tamper("DELETE FROM ledger_financialledgerentry WHERE transaction_id = %s", [tx.pk])
    _tamper("DELETE FROM ledger_ledgertransaction WHERE id = %s", [tx.pk])
    with pytest.raises(CommandError, match="balance-chain"):
        _verify()


@pytest.mark.django_db(transaction=True)  # the owner edits committed rows
def test_the_hash_chain_catches_a_gap_even_when_balances_are_repaired():
    populate()
    last = LedgerTransaction.objects.filter(tenant__slug="acme").order_by("-sequence").first()
    _tamper("UPDATE ledger_ledgertransaction SET sequence = sequence + 1 WHERE id = %s", [last.pk])
    with pytest.raises(CommandError, match=r"hash-chain: .*sequence follows"):
        _verify()


def test_verify_ledger_sees_account_balances_that_do_not_sum_to_zero():
    populate()
    account = LedgerAccount.objects.get(code=AccountRole.FEE_INCOME.code_for("acme"))
    LedgerAccount.objects.filter(pk=account.pk).update(balance=account.balance + 1)
    with pytest.raises(CommandError, match="books-sum"):
        _verify()


@pytest.mark.django_db(transaction=True)
def test_verify_ledger_exit_status(tmp_path):
    populate()
    env = {**os.environ, "DATABASE_URL": _test_database_url()}
    manage = [sys.executable, "manage.py", "verify_ledger"]
    ok = subprocess.run(manage, env=env, capture_output=True, text=True, check=False)
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.strip().splitlines()[-1] == "ledger ok"
    entry = _an_entry(AccountRole.FEE_INCOME, "souq-1")
    _tamper("UPDATE ledger_financialledgerentry SET credit = credit + 1 WHERE id = %s", [entry.pk])
    broken = subprocess.run(manage, env=env, capture_output=True, text=True, check=False)
    assert broken.returncode == 1
    assert f"transaction {entry.transaction_id}" in broken.stderr


def _test_database_url() -> str:
    settings = connection.settings_dict
    return f"postgres://{settings['USER']}@{settings['HOST']}:{settings['PORT']}/{settings['NAME']}"


def _export(fmt: str, *args: str) -> str:
    out = StringIO()
    call_command("export_ledger", "--format", fmt, *args, stdout=out)
    return out.getvalue()


def _beancount_balances(path: Path) -> dict[tuple[str, str], Decimal]:
    from beancount import loader
    from beancount.core import data

    entries, errors, _ = loader.load_file(str(path))
    assert errors == []
    balances: dict[tuple[str, str], Decimal] = {}
    for entry in entries:
        if isinstance(entry, data.Transaction):
            for posting in entry.postings:
                key = (posting.account, posting.units.currency)
                balances[key] = balances.get(key, Decimal(0)) + posting.units.number
    return balances


def test_the_beancount_export_passes_bean_check_and_its_income_is_the_fees(tmp_path):
    tenants = populate()
    journal = tmp_path / "wasla.beancount"
    journal.write_text(_export("beancount"))
    bean_check = Path(sys.executable).with_name("bean-check")
    checked = subprocess.run(
        [str(bean_check), str(journal)], capture_output=True, text=True, check=False
    )
    assert (checked.returncode, checked.stdout, checked.stderr) == (0, "", "")

    balances = _beancount_balances(journal)
    for tenant in tenants:
        income = AccountRole.FEE_INCOME.code_for(tenant.slug)
        fees = effective_fees(tenant)
        assert fees  # every tenant has settlements
        for currency, fee in fees.items():
            assert -balances[(income, currency)] == fee, (tenant.slug, currency)
    assert effective_fees(tenants[1])["KWD"] == Decimal("1.000")
    assert "balance Income:Fees:Acme" in journal.read_text()


def test_a_tampered_balance_fails_bean_check(tmp_path):
    populate()
    text = _export("beancount")
    line = next(line for line in text.splitlines() if " balance Income:Fees:Acme " in line)
    journal = tmp_path / "tampered.beancount"
    number = line.split()[-2]
    forged = line.replace(number, str(Decimal(number) - 1))  # one riyal more income claimed
    journal.write_text(text.replace(line, forged))
    bean_check = Path(sys.executable).with_name("bean-check")
    checked = subprocess.run([str(bean_check), str(journal)], capture_output=True, check=False)
    assert checked.returncode != 0


def test_the_export_of_one_tenant_holds_only_its_books(tmp_path):
    populate()
    text = _export("beancount", "--tenant", "acme")
    assert ":Acme" in text
    assert "Souq-1" not in text
    assert "Odd" not in text
    journal = tmp_path / "acme.beancount"
    journal.write_text(text)
    assert (
        subprocess.run(
            [str(Path(sys.executable).with_name("bean-check")), str(journal)], check=False
        ).returncode
        == 0
    )


_POSTING = re.compile(r"^    (\S+)  (-?\d+\.\d+) ([A-Z]{3}) = (-?\d+\.\d+) ([A-Z]{3})$")


def test_the_hledger_export_is_balanced_and_asserts_every_balance_after():
    populate()
    text = _export("hledger")
    declared = set(re.findall(r"^account (\S+)  ; type: [ALRX]$", text, re.M))
    assert {a.code for a in LedgerAccount.objects.all()} == declared
    transactions = [block for block in text.split("\n\n") if re.match(r"\d{4}-\d\d-\d\d ", block)]
    assert len(transactions) == LedgerTransaction.objects.count() + 1  # + closing balances
    running: dict[tuple[str, str], Decimal] = {}
    for block in transactions:
        sums: dict[str, Decimal] = {}
        for line in block.splitlines()[1:]:
            match = _POSTING.match(line)
            assert match, line
            account, amount, currency, asserted, asserted_currency = match.groups()
            assert currency == asserted_currency
            key = (account, currency)
            running[key] = running.get(key, Decimal(0)) + Decimal(amount)
            assert running[key] == Decimal(asserted), line
            sums[currency] = sums.get(currency, Decimal(0)) + Decimal(amount)
        assert all(total == 0 for total in sums.values()), block


@pytest.mark.skipif(
    shutil.which("hledger") is None and not os.environ.get("CI"),
    reason="hledger is not installed (make test installs it; CI never skips this)",
)
def test_hledger_accepts_the_export(tmp_path):
    tenants = populate()
    journal = tmp_path / "wasla.journal"
    journal.write_text(_export("hledger"))
    checked = subprocess.run(
        ["hledger", "-f", str(journal), "check"], capture_output=True, text=True, check=False
    )
    assert checked.returncode == 0, checked.stderr
    income = AccountRole.FEE_INCOME.code_for(tenants[0].slug)
    report = subprocess.run(
        ["hledger", "-f", str(journal), "balance", f"^{income}$", "-N", "--flat"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    expected = format_amount(effective_fees(tenants[0])["SAR"], "SAR")
    assert f"-{expected} SAR  {income}" in report
