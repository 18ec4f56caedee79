"""The demo's past: two calendar months (Asia/Riyadh) of paid orders for each demo tenant, the
months before the one the seeding clock falls in, so the demo has settlements and ledger
postings to invoice.

Each order is paid through the services a webhook's confirmation uses (`payment_apply_result`,
and `payment_collect` for cash on delivery), with the payment's own time passed in as `now`:
attempt, order and settlement are dated inside their month and the fee is booked by the real
settlement subscriber. A refund is cash handed back for a cash-on-delivery order
(`refund_record_cash`), made before the month is invoiced.

Deterministic and idempotent: a tenant's orders of a month come from a random generator seeded
by the tenant and the month, with references `DEMO-YYYYMM-NN`; an order that exists is skipped,
so seeding again adds nothing.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from wasla.common.money import round_money
from wasla.orders.models import Order
from wasla.orders.services import order_create
from wasla.payments.gateways import gateway_config_active
from wasla.payments.models import PaymentAttempt
from wasla.payments.providers.base import PaymentResult, PaymentStatus
from wasla.payments.refunds import refund_record_cash
from wasla.payments.services import payment_apply_result, payment_checkout, payment_collect
from wasla.settlement.selectors import month_bounds
from wasla.tenants.context import tenant_context
from wasla.tenants.models import Tenant

RIYADH = ZoneInfo("Asia/Riyadh")
ORDERS_PER_MONTH = (14, 19)  # at least, at most
# (provider, method) and how often shoppers pick it: mada leads, as in Saudi checkouts.
CHANNELS: list[tuple[tuple[str, str], int]] = [
    (("tap", "mada"), 5),
    (("tap", "stcpay"), 2),
    (("tap", "card"), 2),
    (("stripe", "card"), 3),
    (("paypal", "paypal"), 1),
    (("cod", "cod"), 3),
]
# One order of each month is cash on delivery with cash handed back before invoicing: in the
# older month all of it (the settlement is reversed), in the newer one half (the fee is kept).
REFUNDED_POSITION = {True: 3, False: 10}  # by "is the older month"
# What a checkout's provider answer would have named the payment, by provider.
REFERENCE_PREFIX = {"tap": "chg_TS", "stripe": "cs_test_", "paypal": "PAYID-"}
CUSTOMERS = [
    ("+966557877988", "sara.alqahtani@example.com"),
    ("+966501234567", "faisal.alharbi@example.com"),
    ("+966544321098", "noura.alotaibi@example.com"),
    ("+966533456789", "abdullah.alshehri@example.com"),
    ("+966569871234", "reem.alghamdi@example.com"),
]


@dataclass(frozen=True)
class PastOrder:
    reference: str
    amount: Decimal
    provider: str
    method: str
    paid_at: datetime
    customer: tuple[str, str]  # phone, email
    refund: Decimal | None  # cash handed back before invoicing


def demo_months(*, now: datetime) -> list[tuple[int, int]]:
    """The two calendar months (Asia/Riyadh) before the one `now` falls in, oldest first."""
    local = now.astimezone(RIYADH)
    previous = (local.year, local.month - 1) if local.month > 1 else (local.year - 1, 12)
    year, month = previous
    before = (year, month - 1) if month > 1 else (year - 1, 12)
    return [before, previous]


def demo_orders_plan(
    *, slug: str, prices: list[Decimal], year: int, month: int, oldest: bool
) -> list[PastOrder]:
    """The tenant's orders of one month, the same on every call."""
    rng = random.Random(f"{slug}:{year}-{month:02d}")  # noqa: S311 (repeatable, not secret)
    start, end = month_bounds(year=year, month=month)
    days = (end - start).days
    moments = sorted(
        start
        + timedelta(days=rng.randrange(days), hours=rng.randint(9, 22), minutes=rng.randrange(60))
        for _ in range(rng.randint(*ORDERS_PER_MONTH))
    )
    channels, weights = zip(*CHANNELS, strict=True)
    orders = []
    for position, paid_at in enumerate(moments, start=1):
        amount = rng.choice(prices) * rng.choice((1, 1, 1, 2, 3))
        provider, method = rng.choices(channels, weights)[0]
        refund = None
        if position == REFUNDED_POSITION[oldest]:
            provider, method = "cod", "cod"
            refund = amount if oldest else round_money(amount / 2, "SAR")
        orders.append(
            PastOrder(
                reference=f"DEMO-{year}{month:02d}-{position:02d}",
                amount=amount,
                provider=provider,
                method=method,
                paid_at=paid_at,
                customer=rng.choice(CUSTOMERS),
                refund=refund,
            )
        )
    return orders


def demo_history_seed(*, tenant: Tenant, prices: list[Decimal], now: datetime) -> int:
    """Pay the tenant's orders of the two months before `now` that are not there yet; returns
    how many were added (none on a second run)."""
    added = 0
    with tenant_context(tenant.pk):
        months = demo_months(now=now)
        for year, month in months:
            plan = demo_orders_plan(
                slug=tenant.slug,
                prices=prices,
                year=year,
                month=month,
                oldest=(year, month) == months[0],
            )
            existing = set(
                Order.objects.for_tenant(tenant)
                .filter(reference__in=[past.reference for past in plan])
                .values_list("reference", flat=True)
            )
            for past in plan:
                if past.reference not in existing:
                    _order_pay(tenant=tenant, past=past)
                    added += 1
    return added


def _order_pay(*, tenant: Tenant, past: PastOrder) -> None:
    phone, email = past.customer
    order = order_create(
        tenant=tenant,
        reference=past.reference,
        amount=past.amount,
        customer_phone=phone,
        customer_email=email,
    )
    if past.provider == "cod":
        attempt = payment_checkout(
            tenant=tenant,
            order_id=order.id,
            provider="cod",
            method="cod",
            return_url="",
            client_key=f"demo-{past.reference}",
        )
        attempt = payment_collect(tenant=tenant, attempt_id=attempt.id, now=past.paid_at)
    else:
        # The attempt as the checkout left it, then the provider's confirmation applied by the
        # service its verified webhook calls, at the time the payment was made.
        attempt = PaymentAttempt.objects.create(
            tenant=tenant,
            order=order,
            gateway_config=gateway_config_active(tenant=tenant, provider=past.provider),
            provider=past.provider,
            method=past.method,
            amount=order.amount,
            currency=order.currency,
            idempotency_key=f"{tenant.pk}:demo-{past.reference}",
        )
        digest = hashlib.sha256(f"{tenant.slug}:{past.reference}".encode()).hexdigest()
        attempt = payment_apply_result(
            attempt_id=attempt.id,
            result=PaymentResult(
                status=PaymentStatus.PAID,
                provider_reference=REFERENCE_PREFIX[past.provider] + digest[:24].upper(),
                amount=attempt.amount,
                currency=attempt.currency,
            ),
            now=past.paid_at,
        )
    # The shopper placed the order a few minutes before paying.
    placed_at = past.paid_at - timedelta(minutes=4)
    Order.objects.filter(pk=order.pk).update(created_at=placed_at)
    PaymentAttempt.objects.filter(pk=attempt.pk).update(created_at=placed_at)
    if past.refund is not None:
        refund_record_cash(
            tenant=tenant,
            attempt_id=attempt.id,
            amount=past.refund,
            reason="Returned by the customer",
            receipt=f"R-{past.reference}",
        )
