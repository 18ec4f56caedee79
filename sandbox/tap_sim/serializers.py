"""Render TapCharge and TapRefund as Tap's charge and refund objects (API responses and webhook
bodies alike)."""

from __future__ import annotations

from typing import Any, Final

from sandbox.tap_sim.models import TapCharge, TapRefund

TIMEZONE: Final = "UTC+03:00"
# Tap's documented Mastercard test card; the hosted page "enters" it for every card payment.
TEST_CARD: Final = {
    "object": "card",
    "first_six": "512345",
    "last_four": "0008",
    "scheme": "MASTERCARD",
    "brand": "MASTERCARD",
    "exp_month": 1,
    "exp_year": 39,
    "name": "TEST CARD",
}
CARD_PAYMENT_METHOD: Final = "MASTERCARD"


def _source(charge: TapCharge) -> dict[str, Any]:
    source: dict[str, Any] = {
        "object": "source",
        "id": charge.source_id,
        "type": "CARD_NOT_PRESENT",
        "payment_method": charge.payment_method or None,
    }
    if charge.source_phone is not None:
        source["phone"] = charge.source_phone
    return source


def charge_to_dict(charge: TapCharge) -> dict[str, Any]:
    """The charge as Tap returns it; `amount` stays a Decimal for the number-preserving encoder."""
    data: dict[str, Any] = {
        "id": charge.id,
        "object": "charge",
        "live_mode": False,
        "api_version": "V2",
        "customer_initiated": charge.customer_initiated,
        "status": charge.status,
        "amount": charge.amount,
        "currency": charge.currency,
        "threeDSecure": charge.three_d_secure,
        "save_card": charge.save_card,
        "description": charge.description,
        "metadata": charge.metadata,
        "transaction": {
            "url": charge.transaction_url,
            "created": str(charge.created_ms),
            "timezone": TIMEZONE,
            "expiry": {"period": charge.expiry_period, "type": "MINUTE"},
            "asynchronous": False,
            "amount": charge.amount,
            "currency": charge.currency,
        },
        "reference": {
            "track": charge.ref_track,
            "payment": charge.ref_payment,
            "gateway": charge.ref_gateway,
            "acquirer": "",
            "transaction": charge.ref_transaction,
            "order": charge.ref_order,
            "idempotent": charge.ref_idempotent,
        },
        "response": {"code": charge.response_code, "message": charge.response_message},
        "receipt": charge.receipt,
        "customer": charge.customer,
        "merchant": charge.merchant,
        "source": _source(charge),
        "redirect": {"status": charge.redirect_status, "url": charge.redirect_url},
        "post": {
            "status": charge.post_status,
            "url": charge.post_url,
            "attempt": charge.post_attempt,
        },
    }
    if charge.card_entered:
        data["card"] = dict(TEST_CARD)
    if charge.source_id == TapCharge.Source.STC_PAY:
        data["gateway_response"] = {"name": "STC_PAY"}
    return data


def refund_to_dict(refund: TapRefund) -> dict[str, Any]:
    """The refund as Tap returns it; `created` is epoch milliseconds as a string, like charges'."""
    return {
        "id": refund.id,
        "object": "refund",
        "api_version": "V2",
        "live_mode": False,
        "charge_id": refund.charge_id,
        "amount": refund.amount,
        "currency": refund.currency,
        "created": str(refund.created_ms),
        "status": refund.status,
        "response": {"code": refund.response_code, "message": refund.response_message},
        "reason": refund.reason,
        "description": refund.description,
        "reference": {
            "merchant": refund.ref_merchant,
            "gateway": refund.ref_gateway,
            "payment": refund.ref_payment,
        },
        "metadata": refund.metadata,
        "post": {"url": refund.post_url, "status": refund.post_status},
    }
