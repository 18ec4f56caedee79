"""Refunds: requested through the API, or made in the provider's dashboard and learnt from
its webhook, each recorded exactly once.

A refund is a `RefundRecord` created `pending` under the attempt's row lock before the provider
is called, so concurrent requests can never together refund more than was paid: the pending
ones already count. The provider is called with no lock held, with an idempotency key derived
from the refund id. Its answer (or webhook) is applied under the locks again: the refund
succeeds once, the attempt's `refunded_amount` grows (CHECK ≤ amount), attempt and order move to
`partially_refunded` / `refunded`, and `RefundSucceeded` is emitted in that transaction (the
settlement app records the fee consequence).
"""

from __future__ import annotations

import logging
import uuid
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Q, Sum
from django.utils.translation import gettext_lazy as _

from wasla.common.money import MoneyError, round_money
from wasla.common.problems import NotFound, Unprocessable
from wasla.orders.services import order_mark_refunded
from wasla.tenants.models import Tenant

from .events import RefundSucceeded, emit
from .models import PAID_STATUSES, PaymentAttempt, PaymentGatewayConfig, RefundRecord, WebhookEvent
from .orchestrator import PaymentOrchestrator
from .providers.base import (
    ProviderError,
    ProviderEvent,
    ProviderUnreachable,
    RefundRequest,
    RefundResult,
    RefundStatus,
)
from .providers.registry import provider_class
from .services import EventNotReady, attempt_lock, order_lock

logger = logging.getLogger(__name__)


class RefundNotAllowed(Unprocessable):
    slug, title = "refund-not-allowed", _("The payment cannot be refunded")


class RefundExceedsPayment(Unprocessable):
    slug, title = "refund-exceeds-payment", _("The refund is larger than what is left to refund")


def provider_refund_key(refund: RefundRecord) -> str:
    """Derived from the refund id: every retry of one refund reuses it."""
    return f"wasla-refund-{refund.id.hex}"


def _reserved(attempt: PaymentAttempt) -> Decimal:
    """Succeeded plus pending refunds of the attempt: what is no longer refundable."""
    total = attempt.refunds.filter(
        status__in=[RefundRecord.Status.PENDING, RefundRecord.Status.SUCCEEDED]
    ).aggregate(total=Sum("amount"))["total"]
    return total or Decimal(0)


def refund_request(
    *,
    tenant: Tenant,
    attempt_id: uuid.UUID,
    amount: Decimal | None,
    reason: str,
    client_key: str,
) -> RefundRecord:
    """Refund (part of) a paid payment. `amount=None` refunds the rest."""
    key = f"{tenant.pk}:{client_key}"
    refund = RefundRecord.objects.filter(idempotency_key=key).first()
    if refund is None:
        refund = _refund_reserve(
            tenant=tenant, attempt_id=attempt_id, amount=amount, reason=reason, key=key
        )
    if refund.status != RefundRecord.Status.PENDING or refund.provider_reference:
        return refund
    return _refund_send(refund=refund)


@transaction.atomic
def _refund_reserve(
    *,
    tenant: Tenant,
    attempt_id: uuid.UUID,
    amount: Decimal | None,
    reason: str,
    key: str,
    source: str = RefundRecord.Source.API,
) -> RefundRecord:
    attempt = PaymentAttempt.objects.for_tenant(tenant).filter(pk=attempt_id).first()
    if attempt is None:
        raise NotFound("No such payment.")
    order_lock(order_id=attempt.order_id)
    attempt = attempt_lock(attempt_id=attempt.id)
    if attempt.status not in (PaymentAttempt.Status.PAID, PaymentAttempt.Status.PARTIALLY_REFUNDED):
        raise RefundNotAllowed(f"The payment is {attempt.status}.")
    if provider_class(attempt.provider).collected_offline and source == RefundRecord.Source.API:
        raise RefundNotAllowed("Cash-on-delivery refunds are recorded by staff.")
    left = attempt.amount - _reserved(attempt)
    if amount is None:
        amount = left
    try:
        if amount <= 0 or round_money(amount, attempt.currency) != amount:
            raise RefundNotAllowed(f"{amount} is not a positive, exact {attempt.currency} amount.")
    except MoneyError as exc:
        raise RefundNotAllowed(str(exc)) from None
    if amount > left:
        raise RefundExceedsPayment(f"At most {left} {attempt.currency} can still be refunded.")
    try:
        with transaction.atomic():
            return RefundRecord.objects.create(
                tenant_id=attempt.tenant_id,
                payment_attempt=attempt,
                provider=attempt.provider,
                amount=amount,
                currency=attempt.currency,
                reason=reason,
                idempotency_key=key,
                source=source,
            )
    except IntegrityError:
        return RefundRecord.objects.get(idempotency_key=key)


def refund_record_cash(
    *, tenant: Tenant, attempt_id: uuid.UUID, amount: Decimal | None, reason: str, receipt: str
) -> RefundRecord:
    """Staff record cash handed back for a cash-on-delivery payment. `receipt` (the courier's
    or the shop's receipt number) makes recording the same refund twice a no-op."""
    attempt = PaymentAttempt.objects.for_tenant(tenant).filter(pk=attempt_id).first()
    if attempt is None:
        raise NotFound("No such payment.")
    if not provider_class(attempt.provider).collected_offline:
        raise RefundNotAllowed("Only cash-on-delivery refunds are recorded by hand.")
    key = f"{tenant.pk}:cash:{receipt}"
    refund = RefundRecord.objects.filter(idempotency_key=key).first() or _refund_reserve(
        tenant=tenant,
        attempt_id=attempt_id,
        amount=amount,
        reason=reason,
        key=key,
        source=RefundRecord.Source.STAFF,
    )
    return refund_apply_result(
        refund_id=refund.id,
        result=RefundResult(
            status=RefundStatus.SUCCEEDED,
            provider_reference="",
            amount=refund.amount,
            currency=refund.currency,
        ),
    )


def _refund_send(*, refund: RefundRecord) -> RefundRecord:
    attempt = refund.payment_attempt
    request = RefundRequest(
        refund_id=str(refund.id),
        idempotency_key=provider_refund_key(refund),
        payment_reference=attempt.provider_payment_reference or attempt.provider_reference or "",
        amount=refund.amount,
        currency=refund.currency,
        reason=refund.reason,
    )
    try:
        result = PaymentOrchestrator().refund(attempt.gateway_config, request)
    except ProviderError as exc:
        return refund_apply_result(
            refund_id=refund.id,
            result=RefundResult(
                status=RefundStatus.FAILED,
                provider_reference="",
                amount=refund.amount,
                currency=refund.currency,
                failure_message=f"{exc.code}: {exc.message}",
            ),
        )
    except ProviderUnreachable as exc:
        # Outcome unknown: the refund stays pending (and reserved) until the provider's
        # webhook or a retry with the same key settles it.
        logger.warning("refund %s: provider unreachable: %s", refund.id, exc)
        RefundRecord.objects.filter(pk=refund.pk).update(failure_message=f"unreachable: {exc}")
        refund.refresh_from_db()
        return refund
    return refund_apply_result(refund_id=refund.id, result=result)


def refund_apply_result(*, refund_id: uuid.UUID, result: RefundResult) -> RefundRecord:
    """Apply the provider's word on a refund, once. Locks: order → attempt → refund."""
    attempt_id, order_id = (
        RefundRecord.objects.filter(pk=refund_id)
        .values_list("payment_attempt_id", "payment_attempt__order_id")
        .get()
    )
    with transaction.atomic():
        order_lock(order_id=order_id)
        attempt = attempt_lock(attempt_id=attempt_id)
        refund = RefundRecord.objects.select_for_update().get(pk=refund_id)
        if result.provider_reference and not refund.provider_reference:
            refund.provider_reference = result.provider_reference
        if result.raw:
            refund.raw_response = dict(result.raw)
        if refund.status != RefundRecord.Status.PENDING or result.status == RefundStatus.PENDING:
            refund.save()
            return refund  # settled already, or nothing new: never move backwards
        if result.status == RefundStatus.FAILED:
            refund.status = RefundRecord.Status.FAILED
            refund.failure_message = result.failure_message
            refund.save()
            return refund
        refund.status = RefundRecord.Status.SUCCEEDED
        refund.save()
        _attempt_refunded(attempt=attempt, refund=refund)
        return refund


def _attempt_refunded(*, attempt: PaymentAttempt, refund: RefundRecord) -> None:
    attempt.refunded_amount += refund.amount
    full = attempt.refunded_amount >= attempt.amount
    if full:
        attempt.mark_refunded()
    else:
        attempt.mark_partially_refunded()
    attempt.save()
    order_mark_refunded(order_id=attempt.order_id, full=full)
    emit(
        RefundSucceeded(
            tenant_id=attempt.tenant_id,
            refund_id=refund.id,
            attempt_id=attempt.id,
            order_id=attempt.order_id,
            amount=refund.amount,
            currency=refund.currency,
            refunded_total=attempt.refunded_amount,
            full=full,
        )
    )


def refund_apply_event(
    *, config: PaymentGatewayConfig, event: ProviderEvent
) -> WebhookEvent.Status:
    """A verified refund webhook: confirm our refund, or record one made in the dashboard.

    Returns the inbox status. Raises EventNotReady when the payment it refunds is not (yet)
    known as paid here, e.g. when the refund's webhook overtook the payment's.
    """
    if not event.refunds:
        return WebhookEvent.Status.IGNORED
    for result in event.refunds:
        _refund_apply_one(config=config, result=result)
    return WebhookEvent.Status.PROCESSED


def _refund_apply_one(*, config: PaymentGatewayConfig, result: RefundResult) -> None:
    attempts = PaymentAttempt.objects.filter(tenant_id=config.tenant_id, provider=config.provider)
    refund = None
    if result.provider_reference:
        refund = RefundRecord.objects.filter(
            tenant_id=config.tenant_id,
            provider=config.provider,
            provider_reference=result.provider_reference,
        ).first()
    if refund is None and result.merchant_reference:
        try:
            ours = uuid.UUID(result.merchant_reference)
        except ValueError:
            ours = None
        refund = (
            RefundRecord.objects.filter(
                pk=ours, tenant_id=config.tenant_id, provider=config.provider
            ).first()
            if ours
            else None
        )
    if refund is not None:
        refund_apply_result(refund_id=refund.id, result=result)
        return
    attempt = (
        attempts.filter(
            Q(provider_payment_reference=result.payment_reference)
            | Q(provider_reference=result.payment_reference)
        ).first()
        if result.payment_reference
        else None
    )
    if attempt is None or attempt.status not in PAID_STATUSES:
        raise EventNotReady(f"payment {result.payment_reference or '?'} is not paid here yet")
    refund = _refund_record_external(attempt=attempt, result=result)
    refund_apply_result(refund_id=refund.id, result=result)


def _refund_record_external(*, attempt: PaymentAttempt, result: RefundResult) -> RefundRecord:
    """A refund made in the provider's dashboard, recorded once per provider refund id."""
    try:
        with transaction.atomic():
            return RefundRecord.objects.create(
                tenant_id=attempt.tenant_id,
                payment_attempt=attempt,
                provider=attempt.provider,
                amount=result.amount,
                currency=result.currency or attempt.currency,
                reason="made in the provider's dashboard",
                provider_reference=result.provider_reference,
                idempotency_key=f"{attempt.provider}:{result.provider_reference}",
                source=RefundRecord.Source.PROVIDER,
            )
    except IntegrityError:
        return RefundRecord.objects.get(
            provider=attempt.provider, provider_reference=result.provider_reference
        )


def refund_list_for_payment(*, tenant: Tenant, attempt_id: uuid.UUID) -> list[RefundRecord]:
    return list(
        RefundRecord.objects.for_tenant(tenant)
        .filter(payment_attempt_id=attempt_id)
        .order_by("created_at")
    )
