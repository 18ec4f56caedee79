"""The fee engine as pure functions: a table of worked examples, then properties (Hypothesis)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wasla.common.money import MoneyError, currency_exponent, round_money
from wasla.settlement.fees import (
    FeeBreakdown,
    RefundPolicy,
    ResolvedFeePlan,
    fee_compute,
    refund_fee_delta,
)

D = Decimal


def plan(
    fixed: str = "0",
    pct: str = "0",
    minimum: str | None = None,
    maximum: str | None = None,
    currency: str = "SAR",
    policy: str = RefundPolicy.PERCENTAGE_BACK,
) -> ResolvedFeePlan:
    return ResolvedFeePlan(
        plan_id=7,
        code="test",
        version=3,
        currency=currency,
        fixed_fee=D(fixed),
        percentage=D(pct),
        minimum_fee=None if minimum is None else D(minimum),
        maximum_fee=None if maximum is None else D(maximum),
        vat_rate=D("15.00"),
        refund_policy=policy,
    )


# (case, plan, gross, currency, expected fee, min applied, max applied, capped at gross)
WORKED_EXAMPLES = [
    ("default: 1.00 SAR fixed", plan("1.00"), "100.00", "SAR", "1.00", False, False, False),
    ("fixed on a big payment", plan("1.00"), "25000.00", "SAR", "1.00", False, False, False),
    ("percentage 2.5 %", plan(pct="2.5"), "100.00", "SAR", "2.50", False, False, False),
    ("percentage rounds half up", plan(pct="2.5"), "10.10", "SAR", "0.25", False, False, False),
    ("hybrid 1 SAR + 2.5 %", plan("1.00", "2.5"), "200.00", "SAR", "6.00", False, False, False),
    ("hybrid 1 SAR + 1.75 %", plan("1.00", "1.75"), "99.99", "SAR", "2.75", False, False, False),
    ("minimum lifts it", plan(pct="1", minimum="2.00"), "50.00", "SAR", "2.00", True, False, False),
    (
        "minimum not needed",
        plan(pct="1", minimum="2.00"),
        "500.00",
        "SAR",
        "5.00",
        False,
        False,
        False,
    ),
    (
        "maximum caps it",
        plan("1.00", "2.5", maximum="50.00"),
        "10000.00",
        "SAR",
        "50.00",
        False,
        True,
        False,
    ),
    (
        "maximum not reached",
        plan("1.00", "2.5", maximum="50.00"),
        "100.00",
        "SAR",
        "3.50",
        False,
        False,
        False,
    ),
    ("never more than gross", plan("1.00"), "0.50", "SAR", "0.50", False, False, True),
    ("minimum above gross: gross", plan(minimum="5.00"), "3.00", "SAR", "3.00", True, False, True),
    (
        "KWD keeps 3 decimals",
        plan("0.100", "1.25", currency="KWD"),
        "12.345",
        "KWD",
        "0.254",
        False,
        False,
        False,
    ),
    (
        "KWD half up at 0.0005",
        plan(pct="0.5", currency="KWD"),
        "0.100",
        "KWD",
        "0.001",
        False,
        False,
        False,
    ),
    (
        "KWD just below 0.0005",
        plan(pct="0.5", currency="KWD"),
        "0.099",
        "KWD",
        "0.000",
        False,
        False,
        False,
    ),
    ("half up at exactly 0.005", plan(pct="0.5"), "1.00", "SAR", "0.01", False, False, False),
    ("just below 0.005 rounds down", plan(pct="0.5"), "0.99", "SAR", "0.00", False, False, False),
    (
        "0.125 SAR rounds half up to 0.13",
        plan(pct="12.5"),
        "1.00",
        "SAR",
        "0.13",
        False,
        False,
        False,
    ),
    (
        "KWD hybrid",
        plan("0.005", "0.5", currency="KWD"),
        "1.000",
        "KWD",
        "0.010",
        False,
        False,
        False,
    ),
    ("zero fee plan", plan(), "100.00", "SAR", "0.00", False, False, False),
]


@pytest.mark.parametrize(
    ("case", "terms", "gross", "currency", "fee", "min_applied", "max_applied", "capped"),
    WORKED_EXAMPLES,
    ids=[row[0] for row in WORKED_EXAMPLES],
)
def test_worked_examples(case, terms, gross, currency, fee, min_applied, max_applied, capped):
    breakdown = fee_compute(plan=terms, gross=D(gross), currency=currency)
    assert breakdown.fee == D(fee)
    assert str(breakdown.fee) == fee  # exactly the currency's decimals
    assert (breakdown.minimum_applied, breakdown.maximum_applied, breakdown.capped_at_gross) == (
        min_applied,
        max_applied,
        capped,
    )


def test_rounding_happens_once_on_the_total():
    # The percentage part is kept exact in the breakdown; only the fee is rounded.
    breakdown = fee_compute(plan=plan("1.00", "1.125"), gross=D("10.00"), currency="SAR")
    assert breakdown.percentage_part == D("0.11250")
    assert breakdown.fee == D("1.11")
    breakdown = fee_compute(plan=plan("1.00", "1.15"), gross=D("10.00"), currency="SAR")
    assert (breakdown.percentage_part, breakdown.fee) == (D("0.1150"), D("1.12"))  # half up


def test_the_snapshot_holds_the_whole_breakdown_as_strings():
    breakdown = fee_compute(
        plan=plan("1.00", "2.5", maximum="50.00"), gross=D("100.00"), currency="SAR"
    )
    snapshot = breakdown.as_snapshot()
    assert snapshot == {
        "plan": "test",
        "plan_id": 7,
        "plan_version": 3,
        "assignment_id": None,
        "override_used": False,
        "overrides": [],
        "currency": "SAR",
        "gross": "100.00",
        "fixed": "1.00",
        "fixed_part": "1.00",
        "percentage": "2.5",
        "percentage_part": "2.5",
        "minimum_fee": None,
        "maximum_fee": "50.00",
        "minimum_applied": False,
        "maximum_applied": False,
        "capped_at_gross": False,
        "fee": "3.50",
        "vat_rate": "15.00",
        "refund_policy": "percentage_back",
    }
    with pytest.raises(AttributeError):
        breakdown.fee = D(0)  # type: ignore[misc]  # frozen


@pytest.mark.parametrize(
    "bad",
    [
        {"fixed": "-1.00"},
        {"fixed": "1.005"},  # SAR has two decimals
        {"pct": "100.01"},
        {"pct": "-0.1"},
        {"minimum": "5.00", "maximum": "4.00"},
        {"policy": "whatever"},
    ],
)
def test_impossible_plans_are_refused(bad):
    with pytest.raises(MoneyError):
        plan(**bad)


def test_a_payment_in_another_currency_than_the_plan_is_refused():
    with pytest.raises(MoneyError):
        fee_compute(plan=plan("1.00"), gross=D("10.000"), currency="KWD")
    with pytest.raises(MoneyError):
        fee_compute(plan=plan("1.00"), gross=D("10.001"), currency="SAR")


# ---- properties -------------------------------------------------------------------------------

CURRENCIES = ["SAR", "KWD", "BHD", "USD"]


@st.composite
def plan_and_gross(draw):
    currency = draw(st.sampled_from(CURRENCIES))
    places = currency_exponent(currency)

    def amount(max_value: int) -> Decimal:
        units = draw(st.integers(min_value=0, max_value=max_value * 10**places))
        return Decimal(units).scaleb(-places)

    minimum = amount(100) if draw(st.booleans()) else None
    maximum = amount(1000) if draw(st.booleans()) else None
    if minimum is not None and maximum is not None and minimum > maximum:
        minimum, maximum = maximum, minimum
    pct = Decimal(draw(st.integers(min_value=0, max_value=100 * 10**4))).scaleb(-4)
    terms = ResolvedFeePlan(
        plan_id=1,
        code="p",
        version=1,
        currency=currency,
        fixed_fee=amount(50),
        percentage=pct,
        minimum_fee=minimum,
        maximum_fee=maximum,
        vat_rate=D("15"),
        refund_policy=RefundPolicy.PERCENTAGE_BACK,
    )
    gross = amount(1_000_000)
    if gross == 0:
        gross = Decimal(1).scaleb(-places)
    return terms, gross


@given(plan_and_gross())
def test_fee_properties(case):
    terms, gross = case
    breakdown: FeeBreakdown = fee_compute(plan=terms, gross=gross, currency=terms.currency)
    fee = breakdown.fee
    assert fee >= 0
    assert fee <= gross
    if terms.maximum_fee is not None:
        assert fee <= terms.maximum_fee
    if terms.minimum_fee is not None and terms.minimum_fee <= gross:
        assert fee >= terms.minimum_fee
    assert fee == round_money(fee, terms.currency)
    assert fee.as_tuple().exponent == -currency_exponent(terms.currency)
    uncapped = terms.fixed_fee + terms.percentage * gross / 100
    if not (breakdown.minimum_applied or breakdown.maximum_applied or breakdown.capped_at_gross):
        assert fee == round_money(uncapped, terms.currency)


@given(plan_and_gross(), st.data())
def test_refunds_never_give_back_more_than_the_fee(case, data):
    terms, gross = case
    breakdown = fee_compute(plan=terms, gross=gross, currency=terms.currency)
    snapshot = breakdown.as_snapshot()
    policy = data.draw(st.sampled_from(RefundPolicy.values))
    snapshot["refund_policy"] = policy
    remaining, refunded = breakdown.fee, Decimal(0)
    places = currency_exponent(terms.currency)
    while refunded < gross:
        units = data.draw(
            st.integers(min_value=1, max_value=int((gross - refunded).scaleb(places)))
        )
        amount = Decimal(units).scaleb(-places)
        refunded += amount
        delta = refund_fee_delta(
            snapshot=snapshot,
            fee=breakdown.fee,
            gross=gross,
            remaining_fee=remaining,
            refund_amount=amount,
            full=refunded == gross,
            currency=terms.currency,
        )
        assert delta <= 0
        remaining += delta
        assert remaining >= 0
        if policy == RefundPolicy.PERCENTAGE_BACK and refunded < gross:
            assert remaining >= min(breakdown.fixed_part, breakdown.fee)  # fixed part kept
    expected = breakdown.fee if policy == RefundPolicy.KEEP_FEE else Decimal(0)
    assert remaining == expected


# (policy, fee snapshot terms, gross, refund, full, remaining before, expected delta)
REFUND_EXAMPLES = [
    (RefundPolicy.PERCENTAGE_BACK, plan("1.00"), "100.00", "30.00", False, "1.00", "0.00"),
    (RefundPolicy.PERCENTAGE_BACK, plan("1.00"), "100.00", "100.00", True, "1.00", "-1.00"),
    (RefundPolicy.PERCENTAGE_BACK, plan("1.00", "2.5"), "200.00", "50.00", False, "6.00", "-1.25"),
    (RefundPolicy.PERCENTAGE_BACK, plan("1.00", "2.5"), "200.00", "150.00", True, "4.75", "-4.75"),
    (
        RefundPolicy.PERCENTAGE_BACK,
        plan("1.00", "2.5", maximum="3.00"),
        "200.00",
        "150.00",
        False,
        "3.00",
        "-2.00",
    ),
    (RefundPolicy.KEEP_FEE, plan("1.00", "2.5"), "200.00", "50.00", False, "6.00", "0.00"),
    (RefundPolicy.KEEP_FEE, plan("1.00", "2.5"), "200.00", "200.00", True, "6.00", "0.00"),
    (RefundPolicy.PROPORTIONAL, plan("1.00", "2.5"), "200.00", "50.00", False, "6.00", "-1.50"),
    (RefundPolicy.PROPORTIONAL, plan("1.00"), "3.00", "1.00", False, "1.00", "-0.33"),
    (RefundPolicy.PROPORTIONAL, plan("1.00"), "3.00", "2.00", True, "0.67", "-0.67"),
]


@pytest.mark.parametrize(
    ("policy", "terms", "gross", "refund", "full", "remaining", "delta"), REFUND_EXAMPLES
)
def test_refund_policy_examples(policy, terms, gross, refund, full, remaining, delta):
    breakdown = fee_compute(plan=terms, gross=D(gross), currency="SAR")
    snapshot = {**breakdown.as_snapshot(), "refund_policy": policy}
    assert refund_fee_delta(
        snapshot=snapshot,
        fee=breakdown.fee,
        gross=D(gross),
        remaining_fee=D(remaining),
        refund_amount=D(refund),
        full=full,
        currency="SAR",
    ) == D(delta)


def test_a_pre_engine_snapshot_refunds_by_the_default_policy():
    legacy = {"plan": "standard", "plan_version": "1", "fixed": "1.00", "percentage": "0"}
    kwargs = {"fee": D("1.00"), "gross": D("100.00"), "remaining_fee": D("1.00"), "currency": "SAR"}
    assert refund_fee_delta(snapshot=legacy, refund_amount=D("40"), full=False, **kwargs) == 0
    assert refund_fee_delta(snapshot=legacy, refund_amount=D("100"), full=True, **kwargs) == D(
        "-1.00"
    )
