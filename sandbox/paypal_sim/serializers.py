"""Render the simulator's rows as PayPal's JSON objects (API responses and webhook resources)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Final

from sandbox.paypal_sim.currencies import amount_format
from sandbox.paypal_sim.links import Urls
from sandbox.paypal_sim.models import (
    PaypalCapture,
    PaypalOrder,
    PaypalRefund,
    PaypalWebhook,
)

# The one sandbox buyer who approves every order on the hosted page.
BUYER_EMAIL: Final = "sb-buyer@personal.example.com"
BUYER_PAYER_ID: Final = "SB7BUYERQ2XZL"
BUYER_GIVEN_NAME: Final = "Sandbox"
BUYER_SURNAME: Final = "Buyer"
BUYER_COUNTRY: Final = "SA"
BUYER_ADDRESS: Final = {
    "address_line_1": "7 King Fahd Road",
    "admin_area_2": "Riyadh",
    "postal_code": "12211",
    "country_code": BUYER_COUNTRY,
}
MERCHANT_EMAIL: Final = "sb-merchant@business.example.com"
EVENT_TYPE_DESCRIPTIONS: Final[dict[str, str]] = {
    "*": "ALL",
    "CHECKOUT.ORDER.APPROVED": "An order has been approved by buyer.",
    "CHECKOUT.ORDER.COMPLETED": "Checkout Order Completed",
    "CHECKOUT.PAYMENT-APPROVAL.REVERSED": "A problem occurred after the buyer approved the order.",
    "PAYMENT.CAPTURE.COMPLETED": "A payment capture completes.",
    "PAYMENT.CAPTURE.PENDING": "The state of a payment capture changes to pending.",
    "PAYMENT.CAPTURE.DENIED": "A payment capture is denied.",
    "PAYMENT.CAPTURE.DECLINED": "A payment capture is declined.",
    "PAYMENT.CAPTURE.REFUNDED": "A merchant refunds a payment capture.",
    "PAYMENT.CAPTURE.REVERSED": "PayPal reverses a payment capture.",
}


def iso_time(moment: dt.datetime) -> str:
    """PayPal's timestamps: UTC, whole seconds, "Z"."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def money(amount: Decimal, currency: str) -> dict[str, str]:
    return {"currency_code": currency, "value": amount_format(amount, currency)}


def _link(href: str, rel: str, method: str = "GET") -> dict[str, str]:
    return {"href": href, "rel": rel, "method": method}


def _optional(data: dict[str, Any], **values: str) -> None:
    """Add the non-empty `values`: PayPal leaves unset fields out rather than sending ""."""
    data.update({name: value for name, value in values.items() if value})


# Orders ----------------------------------------------------------------------------------------


def _payer() -> dict[str, Any]:
    return {
        "name": {"given_name": BUYER_GIVEN_NAME, "surname": BUYER_SURNAME},
        "email_address": BUYER_EMAIL,
        "payer_id": BUYER_PAYER_ID,
        "address": {"country_code": BUYER_COUNTRY},
    }


def _paypal_source(order: PaypalOrder) -> dict[str, Any]:
    if not order.payer_id:
        return {}
    return {
        "email_address": BUYER_EMAIL,
        "account_id": order.payer_id,
        "account_status": "VERIFIED",
        "name": {"given_name": BUYER_GIVEN_NAME, "surname": BUYER_SURNAME},
        "address": {"country_code": BUYER_COUNTRY},
    }


def _order_links(order: PaypalOrder, urls: Urls) -> list[dict[str, str]]:
    links = [_link(urls.order(order.id), "self")]
    if order.awaits_payer:
        rel = "approve" if order.legacy_context else "payer-action"
        links.append(_link(urls.checkout(order.id), rel))
        if order.legacy_context:
            links.append(_link(urls.order_capture(order.id), "capture", "POST"))
    elif order.status == PaypalOrder.Status.APPROVED:
        links.append(_link(urls.order_capture(order.id), "capture", "POST"))
    return links


def _payments(order: PaypalOrder, urls: Urls) -> dict[str, Any] | None:
    capture = PaypalCapture.objects.filter(order=order).first()
    if capture is None:
        return None
    payments: dict[str, Any] = {"captures": [capture_to_dict(capture, urls)]}
    refunds = [refund_to_dict(refund, urls) for refund in capture.refunds.all()]
    if refunds:
        payments["refunds"] = refunds
    return payments


def _purchase_unit(order: PaypalOrder, urls: Urls) -> dict[str, Any]:
    unit: dict[str, Any] = {
        "reference_id": order.reference_id,
        "amount": money(order.amount, order.currency),
        "payee": {"email_address": MERCHANT_EMAIL, "merchant_id": order.account.merchant_id},
    }
    _optional(
        unit,
        description=order.description,
        custom_id=order.custom_id,
        invoice_id=order.invoice_id,
        soft_descriptor=order.soft_descriptor,
    )
    if order.payer_id and order.shipping_preference != "NO_SHIPPING":
        unit["shipping"] = {
            "name": {"full_name": f"{BUYER_GIVEN_NAME} {BUYER_SURNAME}"},
            "address": dict(BUYER_ADDRESS),
        }
    payments = _payments(order, urls)
    if payments is not None:
        unit["payments"] = payments
    return unit


def order_to_dict(order: PaypalOrder, urls: Urls, *, minimal: bool = False) -> dict[str, Any]:
    """The order as `GET /v2/checkout/orders/{id}` shows it (`minimal` for Prefer
    return=minimal: id, status, payment source, payments, payer and links only)."""
    data: dict[str, Any] = {"id": order.id}
    if not minimal:
        data["intent"] = "CAPTURE"
    data["status"] = order.status
    if not order.legacy_context or order.payer_id:
        data["payment_source"] = {"paypal": _paypal_source(order)}
    unit = _purchase_unit(order, urls)
    if not minimal:
        data["purchase_units"] = [unit]
    elif "payments" in unit:
        data["purchase_units"] = [
            {"reference_id": unit["reference_id"], "payments": unit["payments"]}
        ]
    if order.payer_id:
        data["payer"] = _payer()
    if not minimal:
        data["create_time"] = iso_time(order.created_at)
        if order.updated_at != order.created_at:
            data["update_time"] = iso_time(order.updated_at)
    data["links"] = _order_links(order, urls)
    return data


# Captures and refunds --------------------------------------------------------------------------


def _seller_protection(capture: PaypalCapture) -> dict[str, Any]:
    if capture.status == PaypalCapture.Status.DECLINED:
        return {"status": "NOT_ELIGIBLE"}
    return {
        "status": "ELIGIBLE",
        "dispute_categories": ["ITEM_NOT_RECEIVED", "UNAUTHORIZED_TRANSACTION"],
    }


def _capture_links(capture: PaypalCapture, urls: Urls) -> list[dict[str, str]]:
    links = [_link(urls.capture(capture.id), "self")]
    refundable = (PaypalCapture.Status.COMPLETED, PaypalCapture.Status.PARTIALLY_REFUNDED)
    if capture.status in refundable:
        links.append(_link(urls.capture_refund(capture.id), "refund", "POST"))
    links.append(_link(urls.order(capture.order_id), "up"))
    return links


def capture_to_dict(capture: PaypalCapture, urls: Urls) -> dict[str, Any]:
    """The capture as `GET /v2/payments/captures/{id}` and the capture webhooks show it."""
    order = capture.order
    data: dict[str, Any] = {
        "id": capture.id,
        "status": capture.status,
        "amount": money(capture.amount, capture.currency),
        "final_capture": True,
        "seller_protection": _seller_protection(capture),
    }
    _optional(data, custom_id=order.custom_id, invoice_id=order.invoice_id)
    data["links"] = _capture_links(capture, urls)
    data["create_time"] = iso_time(capture.created_at)
    data["update_time"] = iso_time(capture.updated_at)
    data["supplementary_data"] = {"related_ids": {"order_id": order.id}}
    return data


def refund_to_dict(refund: PaypalRefund, urls: Urls, *, minimal: bool = False) -> dict[str, Any]:
    """The refund as `GET /v2/payments/refunds/{id}` and PAYMENT.CAPTURE.REFUNDED show it."""
    links = [_link(urls.refund(refund.id), "self"), _link(urls.capture(refund.capture_id), "up")]
    if minimal:
        return {"id": refund.id, "status": refund.status, "links": links}
    data: dict[str, Any] = {
        "id": refund.id,
        "amount": money(refund.amount, refund.currency),
        "seller_payable_breakdown": {
            "gross_amount": money(refund.amount, refund.currency),
            "total_refunded_amount": money(refund.total_refunded, refund.currency),
        },
    }
    _optional(
        data,
        invoice_id=refund.invoice_id,
        custom_id=refund.custom_id,
        note_to_payer=refund.note_to_payer,
    )
    data["status"] = refund.status
    data["create_time"] = iso_time(refund.created_at)
    data["update_time"] = iso_time(refund.created_at)
    data["links"] = links
    return data


# Webhooks --------------------------------------------------------------------------------------


def webhook_to_dict(webhook: PaypalWebhook, urls: Urls) -> dict[str, Any]:
    return {
        "id": webhook.id,
        "url": webhook.url,
        "event_types": [
            {"name": name, "description": EVENT_TYPE_DESCRIPTIONS.get(name, "")}
            for name in webhook.event_types
        ],
        "links": [
            _link(urls.webhook(webhook.id), "self"),
            _link(urls.webhook(webhook.id), "delete", "DELETE"),
        ],
    }


def event_envelope(
    *,
    event_id: str,
    event_type: str,
    resource_type: str,
    summary: str,
    resource: dict[str, Any],
    created_at: dt.datetime,
    urls: Urls,
) -> dict[str, Any]:
    """A webhook event exactly as PayPal frames it (`event_version` 1.0, resource 2.0)."""
    return {
        "id": event_id,
        "event_version": "1.0",
        "create_time": iso_time(created_at),
        "resource_type": resource_type,
        "resource_version": "2.0",
        "event_type": event_type,
        "summary": summary,
        "resource": resource,
        "links": [
            _link(urls.event(event_id), "self"),
            _link(urls.event_resend(event_id), "resend", "POST"),
        ],
    }
