"""PayPal webhook events read into the normalised `ProviderEvent`: PayPal's event names, its
capture and refund status vocabularies, and the shapes of its resources (Orders v2 bodies are
acted on; REST v1 ones are stored and ignored). Bodies are read with the strict JSON reader;
whatever cannot be read raises WebhookPayloadUnreadable.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from wasla.common import strictjson
from wasla.common.money import parse_amount
from wasla.common.scrub import scrub

from ..base import (
    EventKind,
    PaymentStatus,
    ProviderEvent,
    RefundResult,
    RefundStatus,
    WebhookPayloadUnreadable,
)

logger = logging.getLogger(__name__)

# What reading a PayPal object can raise when it is not one: missing keys, wrong types, invalid
# JSON (strictjson.MalformedJSON and MoneyError are ValueErrors), absurd numbers.
UNREADABLE = (KeyError, IndexError, TypeError, ValueError, ArithmeticError, AttributeError)

CAPTURE_STATUSES = {
    "COMPLETED": PaymentStatus.PAID,
    "PARTIALLY_REFUNDED": PaymentStatus.PAID,
    "REFUNDED": PaymentStatus.PAID,
    "PENDING": PaymentStatus.PENDING,
    "DECLINED": PaymentStatus.FAILED,
    "FAILED": PaymentStatus.FAILED,
}
PAYMENT_EVENTS = {
    "CHECKOUT.ORDER.APPROVED",
    "CHECKOUT.ORDER.COMPLETED",
    "PAYMENT.CAPTURE.COMPLETED",
    "PAYMENT.CAPTURE.PENDING",
    "PAYMENT.CAPTURE.DENIED",
    "PAYMENT.CAPTURE.DECLINED",
}
REFUND_EVENTS = {"PAYMENT.CAPTURE.REFUNDED", "PAYMENT.CAPTURE.REVERSED"}
WEBHOOK_EVENTS = PAYMENT_EVENTS | REFUND_EVENTS


def event_parse(body: bytes) -> ProviderEvent:
    """One webhook body (already verified) as the normalised event."""
    try:
        event = strictjson.loads(body, parse_float=Decimal)
        event_id, event_type = str(event["id"]), str(event["event_type"])
        resource = event.get("resource") or {}
        if not isinstance(resource, dict):
            raise TypeError("resource is not an object")
    except UNREADABLE as exc:
        raise WebhookPayloadUnreadable(f"unreadable PayPal event: {exc}") from None
    try:
        return _event(event, event_id, event_type, resource)
    except UNREADABLE as exc:
        raise WebhookPayloadUnreadable(f"unreadable PayPal {event_type}: {exc}") from None


def _event(
    event: Mapping[str, Any],
    event_id: str,
    event_type: str,
    resource: Mapping[str, Any],
) -> ProviderEvent:
    common: dict[str, Any] = {
        "event_id": event_id,
        "event_type": event_type,
        "raw": scrub(event),
    }
    amount, currency = _resource_amount(resource)
    if str(event.get("resource_version") or "") != "2.0":
        # REST v1 bodies (`amount.total`, `state`, no order): not what Orders v2 sends us;
        # stored and ignored.
        logger.info("PayPal %s event %s has the v1 shape: ignored", event_type, event_id)
        return ProviderEvent(
            kind=EventKind.OTHER,
            provider_reference=str(resource.get("id", "")),
            status=None,
            amount=amount,
            currency=currency,
            **common,
        )
    if event_type == "PAYMENT.CAPTURE.REFUNDED":
        refund = refund_result(resource, capture_id=_up_link_id(resource))
        return ProviderEvent(
            kind=EventKind.REFUND,
            provider_reference=refund.provider_reference,
            status=None,
            amount=refund.amount,
            currency=refund.currency,
            payment_reference=refund.payment_reference,
            refunds=(refund,),
            **common,
        )
    if event_type in PAYMENT_EVENTS:
        if event_type.startswith("CHECKOUT.ORDER."):
            order_id = str(resource.get("id", ""))
            custom_id = str(((resource.get("purchase_units") or [{}])[0]).get("custom_id") or "")
            status = PaymentStatus.PENDING
        else:
            related = (resource.get("supplementary_data") or {}).get("related_ids") or {}
            # v1 capture bodies (resource_version 1.0) name no order: nothing to match.
            order_id = str(related.get("order_id") or "")
            custom_id = str(resource.get("custom_id") or "")
            status = CAPTURE_STATUSES.get(
                str(resource.get("status") or resource.get("state") or "").upper(),
                PaymentStatus.PENDING,
            )
        return ProviderEvent(
            kind=EventKind.PAYMENT,
            provider_reference=order_id,
            status=status,
            amount=amount,
            currency=currency,
            merchant_reference=custom_id,
            **common,
        )
    kind = EventKind.REFUND if event_type in REFUND_EVENTS else EventKind.OTHER
    return ProviderEvent(
        kind=kind,
        provider_reference=str(resource.get("id", "")),
        status=None,
        amount=amount,
        currency=currency,
        **common,
    )


REFUND_STATUSES = {
    "COMPLETED": RefundStatus.SUCCEEDED,
    "PENDING": RefundStatus.PENDING,
    "FAILED": RefundStatus.FAILED,
    "CANCELLED": RefundStatus.FAILED,
}


def refund_result(refund: Mapping[str, Any], *, capture_id: str) -> RefundResult:
    """A PayPal refund, from an API answer or a webhook; raises one of `UNREADABLE`."""
    currency = str(refund["amount"]["currency_code"])
    amount = parse_amount(refund["amount"]["value"], currency)
    reference = str(refund["id"])
    status = str(refund.get("status", ""))
    return RefundResult(
        status=REFUND_STATUSES.get(status, RefundStatus.PENDING),
        provider_reference=reference,
        amount=amount,
        currency=currency,
        payment_reference=capture_id,
        merchant_reference=str(refund.get("custom_id") or ""),
        raw=scrub(refund),
    )


def _up_link_id(resource: Mapping[str, Any]) -> str:
    """The capture a refund belongs to, from its `links[rel=up]`."""
    for link in resource.get("links") or []:
        if isinstance(link, dict) and link.get("rel") == "up":
            return str(link.get("href", "")).rstrip("/").rsplit("/", 1)[-1]
    return ""


def _resource_amount(resource: Mapping[str, Any]) -> tuple[Decimal | None, str]:
    """Amount of a v2 resource (`amount.value`), a v1 one (`amount.total`), or an order."""
    amount = resource.get("amount")
    if not isinstance(amount, dict):
        units = resource.get("purchase_units") or [{}]
        amount = units[0].get("amount") if isinstance(units[0], dict) else None
    if not isinstance(amount, dict):
        return None, ""
    currency = str(amount.get("currency_code") or amount.get("currency") or "")
    # An amount that is there but is no amount makes the event unreadable (MoneyError is a
    # ValueError; ArithmeticError for the absurd ones): the caller turns it into
    # WebhookPayloadUnreadable.
    return parse_amount(amount.get("value", amount.get("total")), currency), currency
