"""Receiving: verify a delivery on its raw bytes, store it once, queue it once committed.

Every delivery becomes a `WebhookEvent` row. Rejected ones (bad signature) are kept for the
audit trail with their body cut short. Verified ones are stored exactly once per (provider,
gateway config, event id) thanks to a unique index, so concurrent duplicates collapse into one
row and one processing. A signed delivery we cannot use (it does not parse, or names an absurd
amount or over-long ids) is refused, and kept only as a `failed` audit row whose columns fit.

The row is committed before anything is queued; the queueing runs on commit and can never fail
the delivery: with the broker down the provider still gets its 2xx, the row stays `received`
with `next_attempt_at = now`, and the sweeper re-drives it once the broker is back.
"""

from __future__ import annotations

import enum
import hashlib
import logging
from dataclasses import dataclass
from decimal import Decimal
from functools import partial

from django.db import IntegrityError, transaction
from django.utils import timezone

from wasla.common.scrub import scrub

from ..models import PaymentGatewayConfig, WebhookEvent
from ..orchestrator import PaymentOrchestrator
from ..providers.base import EventKind, ProviderEvent, WebhookPayloadUnreadable, WebhookRequest
from .tasks import webhook_event_enqueue

logger = logging.getLogger(__name__)

REJECTED_BODY_LIMIT = 16 * 1024  # what we keep of a delivery we could not verify or use
HEADER_VALUE_LIMIT = 1024  # characters kept of one header value
# Our amounts are numeric(14, 3): anything this large is not a payment, whoever signed it.
AMOUNT_LIMIT = Decimal(10) ** 11
REFERENCE_LIMIT = 255  # the provider references of attempts, refunds and disputes

Status = WebhookEvent.Status


class Receipt(enum.StrEnum):
    """What became of one delivery."""

    ACCEPTED = "accepted"  # verified, stored, queued for processing
    DUPLICATE = "duplicate"  # verified, already in the inbox: no effect
    REJECTED = "rejected"  # the signature does not verify: kept for the audit trail only
    UNREADABLE = "unreadable"  # signed, but nothing we can use: kept for the audit trail only


@dataclass(frozen=True)
class Delivery:
    receipt: Receipt
    detail: str = ""  # why, for a delivery that was refused


def webhook_receive(
    *, config: PaymentGatewayConfig, body: bytes, headers: dict[str, str]
) -> Delivery:
    """Verify and store one delivery; queue it for processing once the row is committed."""
    orchestrator = PaymentOrchestrator()
    request = WebhookRequest(body=body, headers=headers)
    stored_headers = _storable_headers(headers)
    if not orchestrator.validate_webhook(config, request):
        _store_refused(config, body, stored_headers, signed=False, reason="invalid signature")
        logger.warning(
            "webhook rejected: invalid signature provider=%s config=%s", config.provider, config.pk
        )
        return Delivery(Receipt.REJECTED, "invalid signature")
    try:
        event = orchestrator.parse_webhook(config, request)
        _check_storable(event)
    except WebhookPayloadUnreadable as exc:
        # Signed by the provider but not something we can use: refused (it will not read
        # better when the provider sends it again) and kept for staff, within our columns.
        logger.warning(
            "webhook unreadable: %s provider=%s config=%s", exc, config.provider, config.pk
        )
        _store_refused(config, body, stored_headers, signed=True, reason=f"unreadable: {exc}")
        return Delivery(Receipt.UNREADABLE, str(exc))
    stored = _store_verified(config, body, stored_headers, event)
    if stored is None:
        return Delivery(Receipt.DUPLICATE)
    # Celery's `delay_on_commit`, except that a broker failure is logged there, not raised into
    # the commit of whoever called us.
    transaction.on_commit(
        partial(webhook_event_enqueue, event_pk=stored.pk, tenant_id=config.tenant_id)
    )
    return Delivery(Receipt.ACCEPTED)


def _check_storable(event: ProviderEvent) -> None:
    """Refuse a parsed event whose values cannot be stored or acted on: ids longer than our
    columns, amounts no payment has. Raises WebhookPayloadUnreadable saying which. Of an event
    no handler acts on, only what the inbox row keeps (its id and type) is checked."""
    fields = WebhookEvent._meta
    limits = [
        ("event id", event.event_id, fields.get_field("event_id").max_length or 0),
        ("event type", event.event_type, fields.get_field("event_type").max_length or 0),
    ]
    amounts = []
    if event.kind != EventKind.OTHER:
        limits += [
            ("provider reference", event.provider_reference, REFERENCE_LIMIT),
            ("payment reference", event.payment_reference, REFERENCE_LIMIT),
            ("merchant reference", event.merchant_reference, REFERENCE_LIMIT),
            ("currency", event.currency, 3),
        ]
        amounts.append(event.amount)
        for refund in event.refunds:
            limits += [
                ("refund reference", refund.provider_reference, REFERENCE_LIMIT),
                ("refund currency", refund.currency, 3),
            ]
            amounts.append(refund.amount)
    for name, value, limit in limits:
        if len(value) > limit:
            raise WebhookPayloadUnreadable(f"the {name} is longer than {limit} characters")
    for amount in amounts:
        if amount is not None and not (amount.is_finite() and abs(amount) < AMOUNT_LIMIT):
            raise WebhookPayloadUnreadable(f"the amount {amount:.6g} is out of range")


def _store_verified(
    config: PaymentGatewayConfig, body: bytes, headers: dict[str, str], event: ProviderEvent
) -> WebhookEvent | None:
    """Insert a verified event once; None when it is already in the inbox."""
    try:
        with transaction.atomic():
            return WebhookEvent.objects.create(
                tenant_id=config.tenant_id,
                gateway_config=config,
                provider=config.provider,
                event_id=event.event_id,
                event_type=event.event_type,
                headers=headers,
                body=_as_text(body),
                signature_valid=True,
                status=Status.RECEIVED,
            )
    except IntegrityError:
        return None


def _store_refused(
    config: PaymentGatewayConfig,
    body: bytes,
    headers: dict[str, str],
    *,
    signed: bool,
    reason: str,
) -> None:
    """The audit row of a refused delivery: named by the hash of its body, cut short, already
    final (`rejected` when unsigned, `failed` when signed but unusable). A signed one is stored
    once however often it is sent, like any verified event."""
    row = WebhookEvent(
        tenant_id=config.tenant_id,
        gateway_config=config,
        provider=config.provider,
        event_id="sha256:" + hashlib.sha256(body).hexdigest(),
        headers=headers,
        body=_as_text(body[:REJECTED_BODY_LIMIT]),
        signature_valid=signed,
        status=Status.FAILED if signed else Status.REJECTED,
        error=reason[:REJECTED_BODY_LIMIT],
        processed_at=timezone.now(),
    )
    if not signed:
        row.save()  # unsigned rows are outside the unique index: nothing to collide with
        return
    try:
        with transaction.atomic():
            row.save()
    except IntegrityError:
        pass  # the same signed body, refused before


def _storable_headers(headers: dict[str, str]) -> dict[str, str]:
    """Headers as kept on the row: secrets scrubbed, values cut short, no NUL (which
    PostgreSQL's jsonb cannot hold)."""
    clean = {
        name.replace("\x00", "\ufffd"): value[:HEADER_VALUE_LIMIT].replace("\x00", "\ufffd")
        for name, value in headers.items()
    }
    return dict(scrub(clean))


def _as_text(body: bytes) -> str:
    # PostgreSQL text cannot hold NUL; a forged body may carry one, a JSON body never does.
    return body.decode("utf-8", errors="replace").replace("\x00", "\ufffd")
