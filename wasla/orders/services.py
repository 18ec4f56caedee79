from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction

from wasla.common.money import MoneyError, round_money
from wasla.common.problems import Conflict, Unprocessable
from wasla.tenants.models import Tenant

from .models import Order


def order_create(
    *,
    tenant: Tenant,
    reference: str,
    amount: Decimal,
    currency: str = "SAR",
    customer_email: str = "",
    customer_phone: str = "",
    customer_name: str = "",
    delivery_address: str = "",
) -> Order:
    if currency not in settings.WASLA_CURRENCIES:
        raise Unprocessable(f"Currency {currency} is not accepted.")
    try:
        if amount <= 0 or round_money(amount, currency) != amount:
            raise Unprocessable(f"{amount} is not a positive, exact {currency} amount.")
    except MoneyError as exc:
        raise Unprocessable(str(exc)) from None
    try:
        with transaction.atomic():
            return Order.objects.create(
                tenant=tenant,
                reference=reference,
                amount=amount,
                currency=currency,
                customer_email=customer_email,
                customer_phone=customer_phone,
                customer_name=customer_name,
                delivery_address=delivery_address,
            )
    except IntegrityError:
        raise Conflict(f"An order with reference {reference!r} already exists.") from None


def order_contact_complete(
    *,
    tenant: Tenant,
    order_id: uuid.UUID,
    customer_phone: str = "",
    customer_name: str = "",
    delivery_address: str = "",
) -> bool:
    """Fill in how to reach the customer of a still-unpaid order (a shopper who tries another
    method may now need a mobile number for STC Pay, or a delivery address for cash on
    delivery). Only the values given replace the order's; a paid order is left as it was.
    One UPDATE; returns whether the order was pending and so took the values."""
    values = {
        name: value
        for name, value in (
            ("customer_phone", customer_phone),
            ("customer_name", customer_name),
            ("delivery_address", delivery_address),
        )
        if value
    }
    orders = Order.objects.for_tenant(tenant).filter(pk=order_id, status=Order.Status.PENDING)
    if not values:
        return orders.exists()
    return orders.update(**values) == 1


class OrderTransitionRefused(IntegrityError):
    """An order was not in the status a transition starts from: the caller's money step and
    the order disagree, so the caller's transaction must not commit."""


def order_mark_paid(*, order_id: uuid.UUID, paid_at: datetime) -> None:
    """`pending → paid`, compare-and-set in SQL (one UPDATE). The caller holds the order's row
    lock and runs this in the transaction that confirms the payment."""
    updated = Order.objects.filter(pk=order_id, status=Order.Status.PENDING).update(
        status=Order.Status.PAID, paid_at=paid_at
    )
    if updated != 1:
        current = Order.objects.filter(pk=order_id).values_list("status", flat=True).first()
        raise OrderTransitionRefused(f"order {order_id} was {current}, not pending, when paid")


REFUNDABLE_STATUSES = (Order.Status.PAID, Order.Status.PARTIALLY_REFUNDED)


def order_mark_refunded(*, order_id: uuid.UUID, full: bool) -> None:
    """`paid | partially_refunded → refunded` (`full`) or `→ partially_refunded`,
    compare-and-set in SQL (one UPDATE). The caller holds the order's row lock."""
    status = Order.Status.REFUNDED if full else Order.Status.PARTIALLY_REFUNDED
    updated = Order.objects.filter(pk=order_id, status__in=REFUNDABLE_STATUSES).update(
        status=status
    )
    if updated != 1:
        current = Order.objects.filter(pk=order_id).values_list("status", flat=True).first()
        raise OrderTransitionRefused(f"order {order_id} was {current} when {status}")
