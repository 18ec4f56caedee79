"""Render the simulator's rows as Stripe objects (API responses and event payloads alike).

The shapes follow Stripe's own fixtures (stripe/openapi `fixtures3.json`): every field a real
object has is present, with the value Stripe would give a plain card payment through Checkout.
"""

from __future__ import annotations

from typing import Any, Final

import stripe

from sandbox.stripe_sim.models import (
    StripeCharge,
    StripeCheckoutSession,
    StripeEvent,
    StripePaymentIntent,
    StripeRefund,
    StripeWebhookEndpoint,
)

API_VERSION: Final[str] = stripe.api_version
DEFAULT_CUSTOMER_EMAIL: Final = "customer@example.com"
DEFAULT_CUSTOMER_NAME: Final = "Sandbox Customer"
STATEMENT_DESCRIPTOR: Final = "WASLA SANDBOX"

# The Stripe test cards the hosted page "enters": one that pays, one that is declined.
PAYING_CARD: Final = {"brand": "visa", "last4": "4242", "fingerprint": "sbxVisa4242PaysOk"}
DECLINED_CARD: Final = {"brand": "visa", "last4": "0002", "fingerprint": "sbxVisa0002Decline"}
CARD_EXPIRY: Final = {"exp_month": 12, "exp_year": 2034}

CARD_DECLINED_MESSAGE: Final = "Your card was declined."


def _empty_address() -> dict[str, Any]:
    return dict.fromkeys(("city", "country", "line1", "line2", "postal_code", "state"))


def list_object(data: list[dict[str, Any]], url: str, *, has_more: bool = False) -> dict[str, Any]:
    return {"object": "list", "data": data, "has_more": has_more, "url": url}


# Checkout Session ------------------------------------------------------------------------------


def _customer_details(session: StripeCheckoutSession) -> dict[str, Any] | None:
    if session.status != StripeCheckoutSession.Status.COMPLETE:
        return None
    customer = session.customer
    email = (customer.email if customer else "") or session.customer_email
    return {
        "address": {**_empty_address(), "country": "SA"},
        "business_name": None,
        "email": email or DEFAULT_CUSTOMER_EMAIL,
        "individual_name": None,
        "name": (customer.name if customer else "") or DEFAULT_CUSTOMER_NAME,
        "phone": None,
        "tax_exempt": "none",
        "tax_ids": [],
    }


def checkout_session_to_dict(session: StripeCheckoutSession) -> dict[str, Any]:
    complete = session.status == StripeCheckoutSession.Status.COMPLETE
    # Setup mode collects a card and charges nothing: no amounts, no totals, maybe no currency.
    setup = session.mode == StripeCheckoutSession.Mode.SETUP
    return {
        "id": session.id,
        "object": "checkout.session",
        "adaptive_pricing": {"enabled": False},
        "after_expiration": None,
        "allow_promotion_codes": None,
        "amount_subtotal": None if setup else session.amount_subtotal,
        "amount_total": None if setup else session.amount_total,
        "automatic_tax": {"enabled": False, "liability": None, "provider": None, "status": None},
        "billing_address_collection": None,
        "cancel_url": session.cancel_url or None,
        "client_reference_id": session.client_reference_id or None,
        "client_secret": None,
        "collected_information": (
            {"business_name": None, "individual_name": None, "shipping_details": None}
            if complete
            else None
        ),
        "consent": None,
        "consent_collection": None,
        "created": session.created,
        "currency": session.currency or None,
        "currency_conversion": None,
        "custom_fields": [],
        "custom_text": dict.fromkeys(
            ("after_submit", "shipping_address", "submit", "terms_of_service_acceptance")
        ),
        "customer": session.customer_id,
        "customer_account": None,
        "customer_creation": None if session.customer_id else "if_required",
        "customer_details": _customer_details(session),
        "customer_email": session.customer_email or None,
        "discounts": [],
        "expires_at": session.expires_at,
        "integration_identifier": None,
        "invoice": None,
        "invoice_creation": {
            "enabled": False,
            "invoice_data": {
                "account_tax_ids": None,
                "custom_fields": None,
                "description": None,
                "footer": None,
                "issuer": None,
                "metadata": {},
                "rendering_options": None,
            },
        },
        "livemode": False,
        "locale": session.locale or None,
        "managed_payments": {"enabled": False},
        "metadata": session.metadata,
        "mode": session.mode,
        "origin_context": None,
        "payment_intent": session.payment_intent_id,
        "payment_link": None,
        "payment_method_collection": "always" if setup else "if_required",
        "payment_method_configuration_details": None,
        "payment_method_options": {"card": {"request_three_d_secure": "automatic"}},
        "payment_method_types": ["card"],
        "payment_status": session.payment_status,
        "permissions": None,
        "phone_number_collection": {"enabled": False},
        "recovered_from": None,
        "saved_payment_method_options": None,
        "setup_intent": session.setup_intent_id,
        "shipping_address_collection": None,
        "shipping_cost": None,
        "shipping_options": [],
        "status": session.status,
        "submit_type": None,
        "subscription": None,
        "success_url": session.success_url,
        "total_details": (
            None if setup else {"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0}
        ),
        "ui_mode": "hosted_page",
        # Like Stripe: the page address is given only while the customer can still pay.
        "url": session.url if session.is_open else None,
        "wallet_options": None,
    }


def _price(item: dict[str, Any], session: StripeCheckoutSession) -> dict[str, Any]:
    return {
        "id": item["price"],
        "object": "price",
        "active": False,
        "billing_scheme": "per_unit",
        "created": session.created,
        "currency": session.currency,
        "custom_unit_amount": None,
        "livemode": False,
        "lookup_key": None,
        "metadata": {},
        "nickname": None,
        "product": item["product"],
        "recurring": None,
        "tax_behavior": "unspecified",
        "tiers_mode": None,
        "transform_quantity": None,
        "type": "one_time",
        "unit_amount": item["unit_amount"],
        "unit_amount_decimal": str(item["unit_amount"]),
    }


def line_items_to_list(session: StripeCheckoutSession) -> dict[str, Any]:
    items = [
        {
            "id": item["id"],
            "object": "item",
            "amount_discount": 0,
            "amount_subtotal": item["amount"],
            "amount_tax": 0,
            "amount_total": item["amount"],
            "currency": session.currency,
            "description": item["name"],
            "price": _price(item, session),
            "quantity": item["quantity"],
        }
        for item in session.line_items
    ]
    return list_object(items, f"/v1/checkout/sessions/{session.id}/line_items")


# PaymentIntent and Charge ----------------------------------------------------------------------


def _card(card: dict[str, str]) -> dict[str, Any]:
    return {
        "brand": card["brand"],
        "checks": {
            "address_line1_check": None,
            "address_postal_code_check": None,
            "cvc_check": "pass",
        },
        "country": "US",
        **CARD_EXPIRY,
        "fingerprint": card["fingerprint"],
        "funding": "credit",
        "last4": card["last4"],
        "network": card["brand"],
        "wallet": None,
    }


def payment_method_to_dict(charge: StripeCharge) -> dict[str, Any]:
    card = PAYING_CARD if charge.status == StripeCharge.Status.SUCCEEDED else DECLINED_CARD
    return {
        "id": charge.payment_method,
        "object": "payment_method",
        "allow_redisplay": "limited",
        "billing_details": _billing_details(charge),
        "card": _card(card),
        "created": charge.created,
        "customer": None,
        "livemode": False,
        "metadata": {},
        "type": "card",
    }


def last_payment_error_for(charge: StripeCharge) -> dict[str, Any]:
    """`last_payment_error` of an intent whose attempt `charge` was declined."""
    return {
        "charge": charge.id,
        "code": charge.failure_code,
        "decline_code": charge.decline_code,
        "doc_url": "https://stripe.com/docs/error-codes/card-declined",
        "message": charge.failure_message,
        "payment_method": payment_method_to_dict(charge),
        "type": "card_error",
    }


def payment_intent_to_dict(intent: StripePaymentIntent) -> dict[str, Any]:
    return {
        "id": intent.id,
        "object": "payment_intent",
        "amount": intent.amount,
        "amount_capturable": 0,
        "amount_details": {"tip": {}},
        "amount_received": intent.amount_received,
        "application": None,
        "application_fee_amount": None,
        "automatic_payment_methods": None,
        "canceled_at": intent.canceled_at,
        "cancellation_reason": intent.cancellation_reason or None,
        "capture_method": "automatic_async",
        "client_secret": intent.client_secret,
        "confirmation_method": "automatic",
        "created": intent.created,
        "currency": intent.currency,
        "customer": intent.customer_id,
        "customer_account": None,
        "description": intent.description or None,
        "excluded_payment_method_types": None,
        "last_payment_error": intent.last_payment_error,
        "latest_charge": intent.latest_charge_id,
        "livemode": False,
        "managed_payments": {"enabled": False},
        "metadata": intent.metadata,
        "next_action": intent.next_action,
        "on_behalf_of": None,
        # A declined card is detached from the intent; a paying one (or one being authenticated)
        # stays.
        "payment_method": intent.payment_method_id or _intent_payment_method(intent),
        "payment_method_configuration_details": None,
        "payment_method_options": {
            "card": {
                "installments": None,
                "mandate_options": None,
                "network": None,
                "request_three_d_secure": "automatic",
            }
        },
        "payment_method_types": ["card"],
        "processing": None,
        "receipt_email": intent.receipt_email or None,
        "review": None,
        "setup_future_usage": None,
        "shipping": None,
        "source": None,
        "statement_descriptor": None,
        "statement_descriptor_suffix": None,
        "status": intent.status,
        "transfer_data": None,
        "transfer_group": None,
    }


def _intent_payment_method(intent: StripePaymentIntent) -> str | None:
    if intent.status != StripePaymentIntent.Status.SUCCEEDED or intent.latest_charge is None:
        return None
    return intent.latest_charge.payment_method


def _billing_details(charge: StripeCharge) -> dict[str, Any]:
    return {
        "address": {**_empty_address(), "country": "SA"},
        "email": charge.billing_email or DEFAULT_CUSTOMER_EMAIL,
        "name": DEFAULT_CUSTOMER_NAME,
        "phone": None,
        "tax_id": None,
    }


def _outcome(charge: StripeCharge) -> dict[str, Any]:
    succeeded = charge.status == StripeCharge.Status.SUCCEEDED
    return {
        "advice_code": None if succeeded else "try_again_later",
        "network_advice_code": None,
        "network_decline_code": None,
        "network_status": "approved_by_network" if succeeded else "declined_by_network",
        "reason": None if succeeded else charge.decline_code,
        "risk_level": "normal",
        "risk_score": 12,
        "seller_message": (
            "Payment complete."
            if succeeded
            else "The bank did not return any further details with this decline."
        ),
        "type": "authorized" if succeeded else "issuer_declined",
    }


def _three_d_secure() -> dict[str, Any]:
    return {
        "authentication_flow": "challenge",
        "electronic_commerce_indicator": "05",
        "exemption_indicator": None,
        "result": "authenticated",
        "result_reason": None,
        "transaction_id": None,
        "version": "2.2.0",
    }


def _charged_card(charge: StripeCharge) -> dict[str, Any]:
    """The card a charge used; Checkout's payment page always pays with 4242 after 3-D Secure
    and declines with 0002."""
    if charge.card:
        return charge.card
    succeeded = charge.status == StripeCharge.Status.SUCCEEDED
    return {**(PAYING_CARD if succeeded else DECLINED_CARD), "three_d_secure": succeeded}


def _payment_method_details(charge: StripeCharge) -> dict[str, Any]:
    succeeded = charge.status == StripeCharge.Status.SUCCEEDED
    charged = _charged_card(charge)
    card = _card(charged)
    card.update(
        {
            "amount_authorized": charge.amount if succeeded else None,
            "authorization_code": "123456" if succeeded else None,
            "installments": None,
            "mandate": None,
            "network_token": {"used": False},
            "network_transaction_id": None,
            "regulated_status": "unregulated",
            "three_d_secure": _three_d_secure() if charged["three_d_secure"] else None,
        }
    )
    return {"card": card, "type": "card"}


def charge_to_dict(charge: StripeCharge) -> dict[str, Any]:
    succeeded = charge.status == StripeCharge.Status.SUCCEEDED
    refunds = [refund_to_dict(refund) for refund in charge.refunds.order_by("-created_at", "-id")]
    return {
        "id": charge.id,
        "object": "charge",
        "amount": charge.amount,
        "amount_captured": charge.amount_captured,
        "amount_refunded": charge.amount_refunded,
        "application": None,
        "application_fee": None,
        "application_fee_amount": None,
        "balance_transaction": charge.balance_transaction or None,
        "billing_details": _billing_details(charge),
        "calculated_statement_descriptor": STATEMENT_DESCRIPTOR,
        "captured": succeeded,
        "created": charge.created,
        "currency": charge.currency,
        "customer": charge.customer_id,
        "description": charge.description or None,
        "disputed": False,
        "failure_balance_transaction": None,
        "failure_code": charge.failure_code or None,
        "failure_message": charge.failure_message or None,
        "fraud_details": {},
        "livemode": False,
        "metadata": charge.metadata,
        "on_behalf_of": None,
        "outcome": _outcome(charge),
        "paid": succeeded,
        "payment_intent": charge.payment_intent_id,
        "payment_method": charge.payment_method,
        "payment_method_details": _payment_method_details(charge),
        "receipt_email": None,
        "receipt_number": None,
        "receipt_url": None,
        "refunded": succeeded and charge.amount_refunded == charge.amount_captured,
        "refunds": list_object(refunds, f"/v1/charges/{charge.id}/refunds"),
        "review": None,
        "shipping": None,
        "source": None,
        "source_transfer": None,
        "statement_descriptor": None,
        "statement_descriptor_suffix": None,
        "status": charge.status,
        "transfer_data": None,
        "transfer_group": None,
    }


# Refund, webhook endpoint, event ---------------------------------------------------------------


def refund_to_dict(refund: StripeRefund) -> dict[str, Any]:
    return {
        "id": refund.id,
        "object": "refund",
        "amount": refund.amount,
        "balance_transaction": refund.balance_transaction,
        "charge": refund.charge_id,
        "created": refund.created,
        "currency": refund.currency,
        "customer": None,
        "customer_account": None,
        "destination_details": {
            "card": {
                "reference": None,
                "reference_status": "pending",
                "reference_type": "acquirer_reference_number",
                "type": "refund",
            },
            "type": "card",
        },
        "metadata": refund.metadata,
        "payment_intent": refund.charge.payment_intent_id,
        "payment_method": refund.charge.payment_method,
        "reason": refund.reason or None,
        "receipt_number": None,
        "source_transfer_reversal": None,
        "status": refund.status,
        "transfer_reversal": None,
    }


def webhook_endpoint_to_dict(
    endpoint: StripeWebhookEndpoint, *, secret: str | None = None
) -> dict[str, Any]:
    """The endpoint; `secret` is passed only when answering its creation, as Stripe does."""
    data: dict[str, Any] = {
        "id": endpoint.id,
        "object": "webhook_endpoint",
        "api_version": endpoint.api_version or None,
        "application": None,
        "created": endpoint.created,
        "description": endpoint.description or None,
        "enabled_events": endpoint.enabled_events,
        "livemode": False,
        "metadata": endpoint.metadata,
        "status": endpoint.status,
        "url": endpoint.url,
    }
    if secret is not None:
        data["secret"] = secret
    return data


def event_to_dict(event: StripeEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "object": "event",
        "api_version": event.api_version,
        "created": event.created,
        "data": {"object": event.data_object},
        "livemode": False,
        "pending_webhooks": event.pending_webhooks,
        "request": {
            "id": event.request_id or None,
            "idempotency_key": event.request_idempotency_key or None,
        },
        "type": event.type,
    }
