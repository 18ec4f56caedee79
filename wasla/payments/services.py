"""Checkout, confirmation and cancellation of payments.

Locks are always taken in the order: webhook event → order → attempt, through the helpers
below, and never held across a provider call: a provider is called between two transactions.
Every money state change goes through `payment_apply_result`, whatever brought the news (a
verified webhook, a server-side fetch, the provider's answer to our own request).

What other apps do about a payment (the settlement and its fee posting, the fee-plan check
before a checkout) they do as subscribers of the events in `events.py`, called inside the same
transaction; payments imports none of them.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from wasla.common.observability.logs import log_context_from
from wasla.common.problems import NotFound, Problem, ProviderUnavailable, Unprocessable
from wasla.orders.models import Order
from wasla.orders.services import order_mark_paid
from wasla.tenants.models import Tenant

from .events import PaymentCheckoutRequested, PaymentConfirmed, emit
from .gateways import gateway_config_active
from .models import OPEN_STATUSES, PaymentAttempt, PaymentGatewayConfig
from .orchestrator import PaymentOrchestrator
from .problems import (
    OrderNotPayable,
    PaymentInProgress,
    PaymentNotCancellable,
)
from .providers.base import PaymentResult, PaymentStatus, ProviderError, ProviderUnreachable
from .providers.registry import UnknownProvider, provider_class
from .resilience import CircuitOpen, ProviderCircuitOpen

logger = logging.getLogger(__name__)


class EventNotReady(Exception):
    """A verified event about something we do not know yet (an out-of-order delivery, e.g. a
    refund before its payment): park it and try again later; it changes nothing now."""


def order_lock(*, order_id: uuid.UUID) -> Order:
    return Order.objects.select_for_update().get(pk=order_id)


def attempt_lock(*, attempt_id: uuid.UUID) -> PaymentAttempt:
    return PaymentAttempt.objects.select_for_update().get(pk=attempt_id)


def payment_checkout(
    *,
    tenant: Tenant,
    order_id: uuid.UUID,
    provider: str,
    method: str,
    return_url: str,
    client_key: str,
) -> PaymentAttempt:
    """Start paying an order: one attempt, one provider call with an idempotency key.

    `client_key` is the caller's Idempotency-Key. A retry with the same key re-drives the same
    attempt (and so the same provider idempotency key); it never creates a second one.
    """
    try:
        methods = provider_class(provider).methods
    except UnknownProvider:
        raise Unprocessable(f"Unknown provider {provider!r}.") from None
    if method not in methods:
        raise Unprocessable(f"{provider} does not take {method!r} payments.")
    config = gateway_config_active(tenant=tenant, provider=provider)
    attempt_key = f"{tenant.pk}:{client_key}"

    existing = PaymentAttempt.objects.for_tenant(tenant).filter(idempotency_key=attempt_key).first()
    if existing is None:
        existing = _attempt_create(
            tenant=tenant,
            order_id=order_id,
            config=config,
            method=method,
            return_url=return_url,
            attempt_key=attempt_key,
        )
    if existing.status == PaymentAttempt.Status.CREATED or (
        existing.status == PaymentAttempt.Status.PENDING and not existing.provider_reference
    ):
        return _attempt_start(attempt=existing)
    return existing


@transaction.atomic
def _attempt_create(
    *,
    tenant: Tenant,
    order_id: uuid.UUID,
    config: PaymentGatewayConfig,
    method: str,
    return_url: str,
    attempt_key: str,
) -> PaymentAttempt:
    if not Order.objects.for_tenant(tenant).filter(pk=order_id).exists():
        raise NotFound("No such order.")
    order = order_lock(order_id=order_id)
    if order.status != Order.Status.PENDING:
        raise OrderNotPayable(f"The order is {order.status}.")
    if PaymentAttempt.objects.filter(order=order, status__in=OPEN_STATUSES).exists():
        raise PaymentInProgress("Finish or cancel the pending payment first.")
    if method == PaymentAttempt.Method.STCPAY and not order.customer_phone:
        raise Unprocessable("STC Pay needs the customer's mobile number on the order.")
    # Subscribers may refuse the checkout (e.g. NoFeePlan) before any attempt exists.
    emit(
        PaymentCheckoutRequested(
            tenant_id=tenant.pk,
            order_id=order.pk,
            provider=config.provider,
            method=method,
            amount=order.amount,
            currency=order.currency,
            requested_at=timezone.now(),
        )
    )
    try:
        with transaction.atomic():
            return PaymentAttempt.objects.create(
                tenant=tenant,
                order=order,
                gateway_config=config,
                provider=config.provider,
                method=method,
                amount=order.amount,
                currency=order.currency,
                idempotency_key=attempt_key,
                return_url=return_url,
            )
    except IntegrityError:
        # The partial unique index saw a concurrent open attempt that our check could not.
        raise PaymentInProgress("Finish or cancel the pending payment first.") from None


@log_context_from(payment_attempt="attempt.id")
def _attempt_start(*, attempt: PaymentAttempt) -> PaymentAttempt:
    """Call the provider (no lock held), then record what it said."""
    try:
        result = PaymentOrchestrator().create_payment(attempt)
    except ProviderError as exc:
        return _attempt_record_failure(attempt=attempt, code=exc.code, message=exc.message)
    except CircuitOpen as exc:  # nothing was sent: the attempt stays `created`
        raise ProviderCircuitOpen.from_circuit(exc, payment=str(attempt.id)) from None
    except ProviderUnreachable as exc:
        # The outcome is unknown: the attempt stays pending for reconciliation.
        logger.warning("payment create unreachable attempt=%s: %s", attempt.id, exc)
        with transaction.atomic():
            locked = attempt_lock(attempt_id=attempt.id)
            if locked.status == PaymentAttempt.Status.CREATED:
                locked.mark_pending()
                locked.failure_message = f"provider unreachable: {exc}"
                locked.save()
        raise ProviderUnavailable(
            "The payment provider did not answer; retry with the same Idempotency-Key.",
            extra={"payment": str(attempt.id)},
        ) from None
    return payment_apply_result(attempt_id=attempt.id, result=result)


def _attempt_record_failure(*, attempt: PaymentAttempt, code: str, message: str) -> PaymentAttempt:
    with transaction.atomic():
        locked = attempt_lock(attempt_id=attempt.id)
        if locked.is_open:
            locked.mark_failed()
            locked.failure_code = code[:100]
            locked.failure_message = message
            locked.save()
        return locked


def payment_and_order_lock(*, attempt_id: uuid.UUID) -> PaymentAttempt:
    """Lock an attempt's order, then the attempt, in one statement: the attempt with its order
    joined, `FOR UPDATE OF order, attempt` — PostgreSQL locks the rows of a join in the order
    the OF clause names them (test_payment_lock_order.py shows it), so this keeps the order →
    attempt lock order of `order_lock` then `attempt_lock`. The attempt's `order` is the
    locked order."""
    return (
        PaymentAttempt.objects.select_related("order")
        .select_for_update(of=("order", "self"))
        .get(pk=attempt_id)
    )


@log_context_from(payment_attempt="attempt_id")
def payment_apply_result(
    *,
    attempt_id: uuid.UUID,
    result: PaymentResult,
    now: datetime | None = None,
    savepoint: bool = True,
) -> PaymentAttempt:
    """Apply what the provider says about an attempt, exactly once.

    `now` is the confirmation time (the clock when not given): the attempt's and the order's
    `paid_at` and the settlement's month follow it. `savepoint=False` is for a caller whose own
    atomic block rolls back whole when this raises (webhook processing): inside it, this joins
    that block instead of opening a savepoint (two statements fewer); called on its own it is a
    transaction either way.

    Confirmation is one transaction: attempt status + order status + the `PaymentConfirmed`
    subscribers (the settlement and its fee posting); if any of them raises, nothing of it
    stays. A result that would move the attempt backwards (e.g. "pending" for a paid attempt)
    changes nothing.
    """
    with transaction.atomic(savepoint=savepoint):
        attempt = payment_and_order_lock(attempt_id=attempt_id)
        order = attempt.order
        if attempt.provider_reference and attempt.provider_reference != result.provider_reference:
            raise Problem(
                f"provider reference {result.provider_reference} does not belong to {attempt.id}"
            )
        if attempt.status == PaymentAttempt.Status.CREATED:
            attempt.mark_pending()
        if not attempt.provider_reference:
            attempt.provider_reference = result.provider_reference
            attempt.redirect_url = result.redirect_url
        if result.raw:
            attempt.raw_response = dict(result.raw)

        if not attempt.is_open:
            if result.status == PaymentStatus.PAID and attempt.status in (
                PaymentAttempt.Status.FAILED,
                PaymentAttempt.Status.CANCELLED,
            ):
                # Money moved after we gave up on the attempt: staff must refund it.
                logger.error("payment captured after it ended attempt=%s", attempt.id)
            attempt.save()
            return attempt
        if result.status == PaymentStatus.PAID:
            if (result.amount, result.currency) != (attempt.amount, attempt.currency):
                logger.error(
                    "amount mismatch attempt=%s expected=%s %s got=%s %s",
                    attempt.id,
                    attempt.amount,
                    attempt.currency,
                    result.amount,
                    result.currency,
                )
                attempt.mark_failed()
                attempt.failure_code = "amount_mismatch"
                attempt.failure_message = f"provider reports {result.amount} {result.currency}"
            else:
                paid_at = now if now is not None else timezone.now()
                attempt.mark_paid()
                attempt.paid_at = paid_at
                attempt.provider_payment_reference = result.payment_reference
                attempt.save()
                order_mark_paid(order_id=order.pk, paid_at=paid_at)
                emit(
                    PaymentConfirmed(
                        tenant_id=attempt.tenant_id,
                        attempt_id=attempt.id,
                        order_id=attempt.order_id,
                        provider=attempt.provider,
                        amount=attempt.amount,
                        currency=attempt.currency,
                        paid_at=paid_at,
                    )
                )
                return attempt
        elif result.status == PaymentStatus.FAILED:
            attempt.mark_failed()
            attempt.failure_code, attempt.failure_message = (
                result.failure_code,
                result.failure_message,
            )
        elif result.status == PaymentStatus.CANCELLED:
            attempt.mark_cancelled()
            attempt.failure_code, attempt.failure_message = (
                result.failure_code,
                result.failure_message,
            )
        attempt.save()
        return attempt


def payment_cancel(*, tenant: Tenant, attempt_id: uuid.UUID) -> PaymentAttempt:
    """Cancel a pending attempt (merchant's request), after the provider confirms it was not
    paid."""
    attempt = PaymentAttempt.objects.for_tenant(tenant).filter(pk=attempt_id).first()
    if attempt is None:
        raise NotFound("No such payment.")
    return _attempt_cancel(attempt=attempt, code="cancelled_by_merchant")


def payment_abandon(*, attempt_id: uuid.UUID) -> PaymentAttempt | None:
    """The customer came back through the provider's cancel link: cancel the attempt if the
    provider confirms it was not paid. The link proves nothing by itself, so the provider is
    asked first; a paid attempt stays paid."""
    attempt = PaymentAttempt.objects.filter(pk=attempt_id).first()
    if attempt is None or not attempt.is_open:
        return attempt
    try:
        return _attempt_cancel(attempt=attempt, code="cancelled_by_customer")
    except (PaymentNotCancellable, ProviderUnavailable) as exc:
        logger.info("abandon of %s not applied: %s", attempt_id, exc)
        return PaymentAttempt.objects.get(pk=attempt_id)


def payment_return_visited(*, attempt_id: uuid.UUID) -> None:
    """The customer is back from the provider. Providers that confirm on return (PayPal, whose
    approval must be captured) are asked for the payment now; the others' webhooks decide."""
    provider = PaymentAttempt.objects.filter(pk=attempt_id).values_list("provider", flat=True)
    name = provider.first()
    if name is not None and provider_class(name).confirm_on_return:
        payment_refresh(attempt_id=attempt_id)


def payment_refresh(*, attempt_id: uuid.UUID) -> PaymentAttempt | None:
    """Ask the provider for an open attempt's real state and apply it: a server-side fetch is,
    with a verified webhook, the only news that may move money state."""
    attempt = PaymentAttempt.objects.select_related("gateway_config").filter(pk=attempt_id).first()
    if attempt is None or not attempt.is_open or not attempt.provider_reference:
        return attempt
    try:
        result = PaymentOrchestrator().verify_payment(
            attempt.gateway_config, attempt.provider_reference
        )
    except (ProviderUnreachable, ProviderError) as exc:
        logger.info("refresh of %s skipped: %s", attempt_id, exc)
        return attempt
    return payment_apply_result(attempt_id=attempt.id, result=result)


def payment_collect(
    *, tenant: Tenant, attempt_id: uuid.UUID, now: datetime | None = None
) -> PaymentAttempt:
    """Cash on delivery collected: confirm the payment through the webhook confirmation path,
    collected at `now` (the clock when not given)."""
    attempt = PaymentAttempt.objects.for_tenant(tenant).filter(pk=attempt_id).first()
    if attempt is None:
        raise NotFound("No such payment.")
    if not provider_class(attempt.provider).collected_offline:
        raise Unprocessable("Only cash-on-delivery payments are collected.")
    if attempt.status == PaymentAttempt.Status.PAID:
        return attempt
    if not attempt.is_open:
        raise PaymentNotCancellable(f"The payment is {attempt.status}.")
    return payment_apply_result(
        attempt_id=attempt.id,
        result=PaymentResult(
            status=PaymentStatus.PAID,
            provider_reference=attempt.provider_reference or "",
            amount=attempt.amount,
            currency=attempt.currency,
        ),
        now=now,
    )


def _attempt_cancel(*, attempt: PaymentAttempt, code: str) -> PaymentAttempt:
    if not attempt.is_open:
        raise PaymentNotCancellable(f"The payment is {attempt.status}.")
    if attempt.provider_reference:
        try:
            result = PaymentOrchestrator().verify_payment(
                attempt.gateway_config, attempt.provider_reference
            )
        except (ProviderUnreachable, ProviderError) as exc:
            raise ProviderUnavailable(
                f"Could not confirm with the provider that the payment was not made: {exc}"
            ) from None
        if result.status != PaymentStatus.PENDING:
            attempt = payment_apply_result(attempt_id=attempt.id, result=result)
            if attempt.status == PaymentAttempt.Status.PAID:
                raise PaymentNotCancellable("The customer has already paid.")
            return attempt
    with transaction.atomic():
        order_lock(order_id=attempt.order_id)
        attempt = attempt_lock(attempt_id=attempt.id)
        if not attempt.is_open:
            raise PaymentNotCancellable(f"The payment is {attempt.status}.")
        attempt.mark_cancelled()
        attempt.failure_code = code
        attempt.save()
    return attempt
