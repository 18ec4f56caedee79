"""Chargebacks opened at a provider, recorded for staff.

A dispute does not move the payment's status: staff answer it in the provider's dashboard. It
is linked to the attempt it disputes through the provider's payment reference the normalised
event carries (Stripe: the PaymentIntent), matched against the generic reference columns of
`PaymentAttempt`, never against a provider's own field names.
"""

from __future__ import annotations

import logging

from django.db.models import Q

from .models import PaymentAttempt, PaymentDispute, PaymentGatewayConfig
from .providers.base import ProviderEvent

logger = logging.getLogger(__name__)


def dispute_record(*, config: PaymentGatewayConfig, event: ProviderEvent) -> PaymentDispute:
    """Create or update the dispute `event` reports (one row per provider dispute id)."""
    raw = dict(event.raw)
    dispute, _created = PaymentDispute.objects.update_or_create(
        provider=config.provider,
        provider_reference=event.provider_reference,
        defaults={
            "tenant_id": config.tenant_id,
            "payment_attempt": _disputed_attempt(config=config, reference=event.payment_reference),
            "payment_reference": event.payment_reference,
            "amount": event.amount,
            "currency": event.currency,
            "reason": str(raw.get("reason") or "")[:100],
            "status": str(raw.get("status") or "")[:40],
            "raw": raw,
        },
    )
    logger.warning("dispute %s recorded for tenant %s", event.provider_reference, config.tenant_id)
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
