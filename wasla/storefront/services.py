"""The storefront's checkout: an order for a product and its payment, through the same services
the API calls (`order_create`, `payment_checkout`), so the example store proves the API's path.

A shopper whose payment was declined, failed or was cancelled comes back to the product page
with the order's id and tries another method on the SAME order: `payment_checkout` allows a new
attempt on a pending order once no attempt is open (a partial unique index enforces it), so the
merchant sees one order with its attempts instead of one abandoned order per try.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass

from django.urls import reverse

from wasla.orders.models import Order
from wasla.orders.services import order_contact_complete, order_create
from wasla.payments.models import OPEN_STATUSES, PaymentAttempt
from wasla.payments.services import payment_checkout
from wasla.tenants.models import Tenant

from .models import Product


@dataclass(frozen=True)
class Shopper:
    """What the checkout form collected; empty strings where the method needs nothing."""

    email: str = ""
    phone: str = ""
    name: str = ""
    delivery_address: str = ""


@dataclass(frozen=True)
class RetryableOrder:
    """An unpaid order of this product whose last payment ended without money moving."""

    order: Order
    tried: frozenset[str]  # "provider:method" of its ended attempts, to offer the others first


def storefront_retryable_order(
    *, tenant: Tenant, product: Product, order_id: uuid.UUID
) -> RetryableOrder | None:
    """The order behind a "try another method" link, if it may still be paid from this page:
    pending, for this product's price, and with no payment under way."""
    order = (
        Order.objects.for_tenant(tenant)
        .filter(pk=order_id, status=Order.Status.PENDING)
        .filter(amount=product.price, currency=product.currency)
        .first()
    )
    if order is None:
        return None
    attempts = list(
        PaymentAttempt.objects.for_tenant(tenant)
        .filter(order=order)
        .values_list("provider", "method", "status")
    )
    if any(status in OPEN_STATUSES for _p, _m, status in attempts):
        return None
    return RetryableOrder(order=order, tried=frozenset(f"{p}:{m}" for p, m, _s in attempts))


def storefront_checkout(
    *,
    tenant: Tenant,
    product: Product,
    provider: str,
    method: str,
    shopper: Shopper,
    site_url: str,
    retry_order: Order | None = None,
) -> PaymentAttempt:
    """Place the order (or reuse the one being retried) and start paying it.

    The attempt's `return_url` is this product page with the order's id: the return page links
    there when the payment ended unpaid, and the shopper picks another method for the same
    order. Raises the services' `Problem`s (e.g. no active gateway, a payment in progress)."""
    if retry_order is None:
        order = order_create(
            tenant=tenant,
            reference=f"WEB-{secrets.token_hex(5).upper()}",
            amount=product.price,
            currency=product.currency,
            customer_email=shopper.email,
            customer_phone=shopper.phone,
            customer_name=shopper.name,
            delivery_address=shopper.delivery_address,
        )
        client_key = f"storefront-{order.id}"
    else:
        order = retry_order
        order_contact_complete(
            tenant=tenant,
            order_id=order.id,
            customer_phone=shopper.phone,
            customer_name=shopper.name,
            delivery_address=shopper.delivery_address,
        )
        # Each try is a new attempt, so a new key: the number of attempts before it. Two
        # clicks racing on one retry get one attempt; the other is refused as in progress.
        tries = PaymentAttempt.objects.for_tenant(tenant).filter(order=order).count()
        client_key = f"storefront-{order.id}-{tries}"
    product_path = reverse("store-product", args=[tenant.slug, product.pk])
    return payment_checkout(
        tenant=tenant,
        order_id=order.id,
        provider=provider,
        method=method,
        return_url=f"{site_url.rstrip('/')}{product_path}?order={order.id}",
        client_key=client_key,
    )
