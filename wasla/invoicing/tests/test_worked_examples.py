"""The monthly invoice, to the halala, for worked examples: each payment confirmed (and refunded)
through the real payment services at a chosen moment, then the run for the month. The ledger
must verify and its Receivable, Unbilled and VAT balances must match the invoice
(docs/invariants.md, invariants 9 and 10)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from testsupport.invoicing import make_invoiceable_tenant, paid_payment_at, riyadh, run_month
from testsupport.payments import balance, refunded, standard_plan_in
from wasla.invoicing.models import Invoice
from wasla.ledger.accounts import AccountRole
from wasla.ledger.verify import ledger_faults
from wasla.settlement.models import FeePlanAssignment, SettlementRecord
from wasla.tenants.models import Tenant

pytestmark = pytest.mark.django_db

JAN = riyadh(2026, 1, 15, 12)


@dataclass(frozen=True)
class Example:
    currency: str = "SAR"
    terms: dict[str, str] = field(default_factory=dict)  # the tenant's overrides of "standard"
    payments: tuple[tuple[datetime, str], ...] = ()
    refunds: tuple[tuple[int, str], ...] = ()  # (index of the payment, amount)
    # (VAT rate, quantity, net, VAT) per line; then subtotal, VAT, total
    lines: tuple[tuple[str, int, str, str], ...] = ()
    totals: tuple[str, str, str] = ("0", "0", "0")
    unbilled_after: str = "0"  # fees still waiting for a later invoice


EXAMPLES = {
    "fixed fee, 1.00 a payment": Example(
        payments=((JAN, "100.00"), (JAN, "250.50"), (JAN, "10.00")),
        lines=(("15.00", 3, "3.00", "0.45"),),
        totals=("3.00", "0.45", "3.45"),
    ),
    # Per-payment VAT would be 0.00 + 0.00 + 0.00 + 0.38 = 0.38: VAT is on the aggregate.
    "percentage 2.5 %, VAT once on the aggregate": Example(
        terms={"fixed_fee_override": "0", "percentage_override": "2.5"},
        payments=((JAN, "1.20"), (JAN, "1.20"), (JAN, "1.20"), (JAN, "99.99")),
        lines=(("15.00", 4, "2.59", "0.39"),),
        totals=("2.59", "0.39", "2.98"),
    ),
    "hybrid 1.00 + 1.5 %, minimum 1.50, maximum 5.00": Example(
        terms={
            "percentage_override": "1.5",
            "minimum_fee_override": "1.50",
            "maximum_fee_override": "5.00",
        },
        payments=((JAN, "20.00"), (JAN, "100.00"), (JAN, "1000.00"), (JAN, "33.33")),
        lines=(("15.00", 4, "10.50", "1.58"),),
        totals=("10.50", "1.58", "12.08"),
    ),
    "a fee reduction before the run (partial refund gives the % part back)": Example(
        terms={"percentage_override": "2"},
        payments=((JAN, "200.00"), (JAN, "100.00")),
        refunds=((0, "50.00"),),  # fee 5.00 - 1.00
        lines=(("15.00", 2, "7.00", "1.05"),),
        totals=("7.00", "1.05", "8.05"),
    ),
    "a reversal before the run (full refund)": Example(
        payments=((JAN, "100.00"), (JAN, "40.00")),
        refunds=((1, "40.00"),),
        lines=(("15.00", 1, "1.00", "0.15"),),
        totals=("1.00", "0.15", "1.15"),
    ),
    "KWD, three decimals": Example(
        currency="KWD",
        terms={"fixed_fee_override": "0.250", "percentage_override": "1"},
        payments=((JAN, "12.345"), (JAN, "7.777")),  # 0.37345 -> 0.373, 0.32777 -> 0.328
        lines=(("15.00", 2, "0.701", "0.105"),),
        totals=("0.701", "0.105", "0.806"),
    ),
    "23:30 UTC on the last day of January is February in Riyadh": Example(
        payments=(
            (datetime(2026, 1, 31, 20, 59, tzinfo=UTC), "100.00"),  # 23:59 on 31 January
            (datetime(2026, 1, 31, 23, 30, tzinfo=UTC), "100.00"),  # 02:30 on 1 February
        ),
        lines=(("15.00", 1, "1.00", "0.15"),),
        totals=("1.00", "0.15", "1.15"),
        unbilled_after="1.00",
    ),
    "a straggler from December rides on January's invoice": Example(
        payments=((riyadh(2025, 12, 20), "100.00"), (JAN, "100.00")),
        lines=(("15.00", 2, "2.00", "0.30"),),
        totals=("2.00", "0.30", "2.30"),
    ),
}


def _assign(tenant: Tenant, currency: str, terms: dict[str, str]) -> None:
    standard_plan_in(currency)
    if terms:
        FeePlanAssignment.objects.create(
            tenant=tenant,
            plan_code="standard",
            currency=currency,
            effective_from=datetime(2025, 1, 1, tzinfo=UTC),
            **{name: Decimal(value) for name, value in terms.items()},
        )


@pytest.mark.parametrize("example", EXAMPLES.values(), ids=EXAMPLES.keys())
def test_the_invoice_of_a_worked_example(example: Example):
    tenant = make_invoiceable_tenant()
    _assign(tenant, example.currency, example.terms)
    attempts = [
        paid_payment_at(tenant, moment, amount, example.currency)
        for moment, amount in example.payments
    ]
    for index, amount in example.refunds:
        refunded(attempts[index], amount)

    invoice = run_month(tenant, 2026, 1, example.currency)

    assert invoice is not None
    assert invoice.status == Invoice.Status.ISSUED
    lines = [
        (str(line.vat_rate), line.quantity, str(line.net_amount), str(line.vat_amount))
        for line in invoice.lines.all()
    ]
    assert lines == [
        (rate, quantity, f"{Decimal(net):.3f}", f"{Decimal(vat):.3f}")
        for rate, quantity, net, vat in example.lines
    ]
    subtotal, vat, total = (Decimal(amount) for amount in example.totals)
    assert (invoice.subtotal, invoice.vat_total, invoice.total) == (subtotal, vat, total)
    assert invoice.amount_due == total
    assert invoice.amount_paid == 0
    assert invoice.total_operations == sum(quantity for _, quantity, _, _ in example.lines)
    assert list(ledger_faults(tenant_id=tenant.pk)) == []
    currency = example.currency
    assert balance(tenant, AccountRole.RECEIVABLE, currency) == total
    assert balance(tenant, AccountRole.VAT_OUTPUT, currency) == vat
    assert balance(tenant, AccountRole.UNBILLED, currency) == Decimal(example.unbilled_after)
    # Invariant 10: what the settlements still stand for is billed or still unbilled.
    billed = SettlementRecord.objects.filter(tenant=tenant, status="invoiced")
    assert billed.count() == invoice.total_operations
    assert sum(link.fee for link in invoice.settlement_links.all()) == subtotal
