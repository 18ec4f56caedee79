"""Chargebacks opened at a provider, recorded for staff.

A dispute does not move the payment's status: staff answer it in the provider's dashboard, and
`PaymentDisputed` tells the apps above (in the same transaction) that it was opened or changed. It
is linked to the attempt it disputes through the provider's payment reference the normalised
event carries (Stripe: the PaymentIntent), matched against the generic reference columns of
`PaymentAttempt`, never against a provider's own field names.
"""

from __future__ import annotations

import logging

from django.db.models import Q

from .events import PaymentDisputed, emit
from .models import PaymentAttempt, PaymentDispute, PaymentGatewayConfig
from .providers.base import ProviderEvent

logger = logging.getLogger(__name__)


def dispute_record(*, config: PaymentGatewayConfig, event: ProviderEvent) -> PaymentDispute:
    """Create or update the dispute `event` reports (one row per provider dispute id), and
    announce it. Runs inside the transaction that processes the webhook."""
    raw = dict(event.raw)
    attempt = _disputed_attempt(config=config, reference=event.payment_reference)
    dispute, _created = PaymentDispute.objects.update_or_create(
        provider=config.provider,
        provider_reference=event.provider_reference,
        defaults={
            "tenant_id": config.tenant_id,
            "payment_attempt": attempt,
            "payment_reference": event.payment_reference,
            "amount": event.amount,
            "currency": event.currency,
            "reason": str(raw.get("reason") or "")[:100],
            "status": str(raw.get("status") or "")[:40],
            "raw": raw,
        },
    )
    logger.warning("dispute %s recorded for tenant %s", event.provider_reference, config.tenant_id)
    emit(
        PaymentDisputed(
            tenant_id=config.tenant_id,
            dispute_id=dispute.pk,
            provider=config.provider,
            provider_reference=dispute.provider_reference,
            attempt_id=attempt.pk if attempt is not None else None,
            order_id=attempt.order_id if attempt is not None else None,
            amount=dispute.amount,
            currency=dispute.currency,
            reason=dispute.reason,
            status=dispute.status,
        )
    )
    return dispute


def _disputed_attempt(*, config: PaymentGatewayConfig, reference: str) -> PaymentAttempt | None:
    """The attempt whose captured money (or, failing that, whose payment object) is
    `reference`; None when the payment is not ours or the event names none."""
    if not reference:
        return None
    return (
        PaymentAttempt.objects.filter(tenant_id=config.tenant_id, provider=config.provider)
        .filter(Q(provider_payment_reference=reference) | Q(provider_reference=reference))
        .order_by("-provider_payment_reference")  # the captured money's match first
        .first()
    )
