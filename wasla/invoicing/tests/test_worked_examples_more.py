"""More worked examples for the monthly invoice, to the halala: the cases issue 10 lists met
together and at their edges, which test_worked_examples.py meets one at a time.

Each row is checked by the same function as the first table (imported under a name pytest does
not collect twice): the invoice's lines, subtotal, VAT and total, what stays unbilled, the
ledger verified and its Receivable, Unbilled and VAT balances.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from testsupport.invoicing import riyadh
from wasla.settlement.models import FeePlan

from .test_worked_examples import JAN, Example
from .test_worked_examples import test_the_invoice_of_a_worked_example as invoice_matches

pytestmark = pytest.mark.django_db

KWD_TERMS = {"fixed_fee_override": "0.250", "percentage_override": "1"}

MORE = {
    # 0.250 + 1 % of 12.345 = 0.37345 -> 0.373 (a straggler from the last second of December);
    # the payment at 23:30 UTC on 31 January (0.328) waits for February's invoice.
    "KWD at both month ends: a December straggler in, 23:30 UTC on 31 January out": Example(
        currency="KWD",
        terms=KWD_TERMS,
        payments=(
            (datetime(2025, 12, 31, 20, 59, 59, tzinfo=UTC), "12.345"),
            (datetime(2026, 1, 31, 23, 30, tzinfo=UTC), "7.777"),
        ),
        lines=(("15.00", 1, "0.373", "0.056"),),
        totals=("0.373", "0.056", "0.429"),
        unbilled_after="0.328",
    ),
    # Fees 1.250, 0.750, 0.350; 1 % of the 40.000 refunded goes back (1.250 -> 0.850) and the
    # 50.000 payment refunded in full is reversed.
    "KWD: a fee reduction and a reversal before the run": Example(
        currency="KWD",
        terms=KWD_TERMS,
        payments=((JAN, "100.000"), (JAN, "50.000"), (JAN, "10.000")),
        refunds=((0, "40.000"), (1, "50.000")),
        lines=(("15.00", 2, "1.200", "0.180"),),
        totals=("1.200", "0.180", "1.380"),
    ),
    # 1.00 + 2 % of 200.00 = 5.00; two refunds of 50.00 give 1.00 back each, the rest reverses
    # the 3.00 left: the payment bills nothing, only the 100.00 one (3.00) does.
    "two partial refunds, then the rest: reductions then a reversal": Example(
        terms={"percentage_override": "2"},
        payments=((JAN, "200.00"), (JAN, "100.00")),
        refunds=((0, "50.00"), (0, "50.00"), (0, "100.00")),
        lines=(("15.00", 1, "3.00", "0.45"),),
        totals=("3.00", "0.45", "3.45"),
    ),
    # 1.00 + 1.5 %, maximum 5.00: 0.50 and 0.99 are capped at the payment itself, 10,000.00 at
    # the maximum; VAT 15 % of 6.49 = 0.9735 -> 0.97, once.
    "hybrid: fees capped at the payment and at the maximum": Example(
        terms={"percentage_override": "1.5", "maximum_fee_override": "5.00"},
        payments=((JAN, "0.50"), (JAN, "0.99"), (JAN, "10000.00")),
        lines=(("15.00", 3, "6.49", "0.97"),),
        totals=("6.49", "0.97", "7.46"),
    ),
    # A partial refund gives the percentage part back, never the fixed part: 1.00 + 10 % of
    # 40.00 = 5.00, capped at 3.00; refunding 39.99 would give 4.00 back, but only the 2.00
    # above the fixed 1.00 goes.
    "a reduction never takes the fee below its fixed part": Example(
        terms={"percentage_override": "10", "maximum_fee_override": "3.00"},
        payments=((JAN, "40.00"),),
        refunds=((0, "39.99"),),
        lines=(("15.00", 1, "1.00", "0.15"),),
        totals=("1.00", "0.15", "1.15"),
    ),
}


@pytest.mark.parametrize("example", MORE.values(), ids=MORE.keys())
def test_the_invoice_of_another_worked_example(example: Example):
    invoice_matches(example)


def test_a_vat_rate_change_in_the_month_gives_one_line_per_rate():
    """The plan's VAT rate changes on 20 January: each fee keeps the rate of the version that
    earned it, and each rate gets its own line, VAT once on its aggregate."""
    latest = FeePlan.objects.filter(code="standard").order_by("-version").first()
    assert latest is not None
    FeePlan.objects.create(
        code="standard",
        name="Standard at 5 % VAT",
        version=latest.version + 1,
        currency="SAR",
        fixed_fee=Decimal("1.00"),
        vat_rate=Decimal("5.00"),
        effective_from=riyadh(2026, 1, 20),
    )
    invoice_matches(
        Example(
            payments=(
                (riyadh(2026, 1, 10), "100.00"),
                (riyadh(2026, 1, 19, 23, 59), "100.00"),
                (riyadh(2026, 1, 20), "100.00"),
            ),
            lines=(("5.00", 1, "1.00", "0.05"), ("15.00", 2, "2.00", "0.30")),
            totals=("3.00", "0.35", "3.35"),
        )
    )
