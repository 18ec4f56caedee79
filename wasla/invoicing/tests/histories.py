"""Random histories of payments, refunds and invoice payments around two monthly runs, for
the property in test_property_books.py: the data each example is made of, the Hypothesis
strategies that draw it, and the two things the property needs from it outside the services:
the tenant's fee plan as rows, and the fee that plan gives, computed here by hand.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import strategies as st

from testsupport.invoicing import riyadh
from wasla.common.money import round_money
from wasla.settlement.fees import RefundPolicy
from wasla.settlement.models import FeePlan, FeePlanAssignment
from wasla.tenants.models import Tenant

D = Decimal
START = datetime(2025, 12, 20, tzinfo=UTC)
DAYS = (datetime(2026, 3, 5, tzinfo=UTC) - START).days
BOUNDARIES = (  # in UTC; Riyadh is UTC+3
    datetime(2025, 12, 31, 20, 59, 59, tzinfo=UTC),  # 23:59:59 on 31 December: a straggler
    datetime(2025, 12, 31, 21, 0, tzinfo=UTC),  # midnight: January
    datetime(2026, 1, 19, 20, 59, 59, tzinfo=UTC),  # the last second of the first VAT rate
    datetime(2026, 1, 19, 21, 0, tzinfo=UTC),  # 20 January: a second plan version's VAT rate
    datetime(2026, 1, 31, 20, 59, 59, tzinfo=UTC),  # the last second of January
    datetime(2026, 1, 31, 21, 0, tzinfo=UTC),  # midnight: February
    datetime(2026, 1, 31, 23, 30, tzinfo=UTC),  # 23:30 UTC on the last day: 02:30 in February
    datetime(2026, 2, 28, 20, 59, 59, tzinfo=UTC),  # the last second of February
    datetime(2026, 2, 28, 23, 30, tzinfo=UTC),  # March in Riyadh: not billed by February's run
)
VAT_SWITCH = riyadh(2026, 1, 20)
assert BOUNDARIES[3] == VAT_SWITCH
FIXED = {"SAR": ["0.50", "1.00", "2.00"], "KWD": ["0.100", "0.250"]}
PERCENTAGES = ["0.5", "1.5", "2.5", "2.75", "1.375"]
BOUNDS = {"SAR": (D("1.50"), D("5.00")), "KWD": (D("0.150"), D("0.500"))}
AMOUNTS = {
    "SAR": st.one_of(
        st.decimals(D("0.50"), D("30.00"), places=2), st.decimals(D("1"), D("5000"), places=2)
    ),
    "KWD": st.decimals(D("0.050"), D("900"), places=3),
}
ALL = 100  # a refund or transfer of 100 % of what is left


@dataclass(frozen=True)
class Plan:
    fixed: Decimal
    percentage: Decimal
    minimum: Decimal | None
    maximum: Decimal | None
    refund_policy: str
    vat_rate: Decimal
    vat_rate_from_20_january: Decimal | None  # a second plan version with another VAT rate


@dataclass(frozen=True)
class Payment:
    tenant: int
    currency: str
    moment: datetime
    amount: Decimal


Share = tuple[int, int]  # (index of the payment, percent of what is left to refund)


@dataclass(frozen=True)
class History:
    plans: tuple[dict[str, Plan], ...]  # per tenant: its currencies and their plans
    payments: tuple[Payment, ...]
    refunds_before: tuple[Share, ...]
    transfers: tuple[tuple[int, ...], ...]  # per January invoice: percents of what is due
    refunds_after: tuple[Share, ...]


@st.composite
def plans(draw: st.DrawFn, currency: str) -> Plan:
    kind = draw(st.sampled_from(["fixed", "percentage", "hybrid"]))
    fixed = D(0) if kind == "percentage" else D(draw(st.sampled_from(FIXED[currency])))
    percentage = D(0) if kind == "fixed" else D(draw(st.sampled_from(PERCENTAGES)))
    low, high = BOUNDS[currency]
    hybrid = kind == "hybrid"
    return Plan(
        fixed=fixed,
        percentage=percentage,
        minimum=draw(st.sampled_from([None, low])) if hybrid else None,
        maximum=draw(st.sampled_from([None, high])) if hybrid else None,
        refund_policy=draw(st.sampled_from(RefundPolicy.values)),
        vat_rate=draw(st.sampled_from([D("15.00"), D("15.00"), D("0.00")])),
        vat_rate_from_20_january=draw(st.sampled_from([None, D("5.00")])),
    )


@st.composite
def histories(draw: st.DrawFn) -> History:
    currencies = draw(
        st.lists(
            st.sampled_from([("SAR",), ("SAR",), ("KWD",), ("SAR", "KWD")]), min_size=1, max_size=3
        )
    )
    moments = st.one_of(
        st.sampled_from(BOUNDARIES),
        st.builds(
            lambda day, second: START + timedelta(days=day, seconds=second),
            st.integers(0, DAYS - 1),
            st.integers(0, 86399),
        ),
    )
    payments = []
    for _ in range(draw(st.integers(1, 10))):
        tenant = draw(st.integers(0, len(currencies) - 1))
        currency = draw(st.sampled_from(currencies[tenant]))
        payments.append(Payment(tenant, currency, draw(moments), draw(AMOUNTS[currency])))
    shares = st.lists(
        st.tuples(st.integers(0, len(payments) - 1), st.sampled_from([ALL, ALL, 10, 33, 99])),
        max_size=4,
    )
    return History(
        plans=tuple({c: draw(plans(c)) for c in these} for these in currencies),
        payments=tuple(payments),
        refunds_before=tuple(draw(shares)),
        transfers=tuple(
            tuple(draw(st.lists(st.sampled_from([ALL, 40, 75]), max_size=2))) for _ in range(6)
        ),
        refunds_after=tuple(draw(shares)),
    )


def plan_assign(tenant: Tenant, currency: str, plan: Plan) -> None:
    """`plan` as the tenant's own plan code in `currency` (two versions when its VAT changes)."""
    code = f"p-{tenant.slug}-{currency.lower()}"
    terms = {
        "code": code,
        "name": code,
        "currency": currency,
        "fixed_fee": plan.fixed,
        "percentage": plan.percentage,
        "minimum_fee": plan.minimum,
        "maximum_fee": plan.maximum,
        "refund_policy": plan.refund_policy,
    }
    FeePlan.objects.create(
        version=1, vat_rate=plan.vat_rate, effective_from=datetime(2025, 1, 1, tzinfo=UTC), **terms
    )
    if plan.vat_rate_from_20_january is not None:
        FeePlan.objects.create(
            version=2, vat_rate=plan.vat_rate_from_20_january, effective_from=VAT_SWITCH, **terms
        )
    FeePlanAssignment.objects.create(
        tenant=tenant,
        plan_code=code,
        currency=currency,
        effective_from=datetime(2025, 1, 1, tzinfo=UTC),
    )


def expected_fee(plan: Plan, payment: Payment) -> tuple[Decimal, Decimal]:
    """(fee, VAT rate) by the plan's terms, computed here independently of the fee engine."""
    raw = plan.fixed + plan.percentage * payment.amount / 100
    if plan.minimum is not None:
        raw = max(raw, plan.minimum)
    if plan.maximum is not None:
        raw = min(raw, plan.maximum)
    switched = plan.vat_rate_from_20_january is not None and payment.moment >= VAT_SWITCH
    rate = plan.vat_rate_from_20_january if switched else plan.vat_rate
    return round_money(min(raw, payment.amount), payment.currency), rate  # type: ignore[return-value]


def _plan(
    fixed: str,
    percentage: str,
    policy: str,
    *,
    minimum: Decimal | None = None,
    maximum: Decimal | None = None,
    vat_rate_from_20_january: Decimal | None = None,
) -> Plan:
    return Plan(
        D(fixed), D(percentage), minimum, maximum, policy, D("15.00"), vat_rate_from_20_january
    )


def _at(moment: datetime, tenant: int, amount: str, currency: str = "SAR") -> Payment:
    return Payment(tenant, currency, moment, D(amount))


# One history that meets every case at least once, whatever the random ones draw: a straggler,
# two VAT rates on one invoice, a February payment at 23:30 UTC on 31 January, a March one,
# KWD, a reversal and a fee reduction before the run, an invoice paid in full then credited
# (merchant credit), one paid in part then credited, an unpaid one credited.
EVERY_CASE = History(
    plans=(
        {
            "SAR": _plan(
                "1.00",
                "2.5",
                RefundPolicy.PERCENTAGE_BACK,
                minimum=BOUNDS["SAR"][0],
                maximum=BOUNDS["SAR"][1],
                vat_rate_from_20_january=D("5.00"),
            ),
            "KWD": _plan("0", "1.375", RefundPolicy.PROPORTIONAL),
        },
        {"SAR": _plan("0", "2.5", RefundPolicy.PERCENTAGE_BACK)},
    ),
    payments=(
        _at(BOUNDARIES[0], 0, "100.00"),  # 0: December
        _at(riyadh(2026, 1, 10), 0, "200.00"),  # 1
        _at(BOUNDARIES[3], 0, "50.00"),  # 2: the 5 % VAT version
        _at(BOUNDARIES[6], 0, "80.00"),  # 3: February
        _at(BOUNDARIES[8], 0, "10.00"),  # 4: March
        _at(riyadh(2026, 1, 15), 0, "12.345", "KWD"),  # 5
        _at(riyadh(2026, 1, 16), 0, "7.777", "KWD"),  # 6
        _at(riyadh(2026, 1, 5), 1, "300.00"),  # 7
        _at(riyadh(2026, 1, 6), 1, "40.00"),  # 8
        _at(riyadh(2026, 1, 7), 1, "60.00"),  # 9
    ),
    refunds_before=((8, ALL), (9, 50)),
    transfers=((ALL,), (40,), ()),  # January's invoices: tenant 0 SAR, KWD; tenant 1 SAR
    refunds_after=((1, 50), (6, 50), (7, 10)),
)
