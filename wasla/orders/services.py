from __future__ import annotations

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
            )
    except IntegrityError:
        raise Conflict(f"An order with reference {reference!r} already exists.") from None
