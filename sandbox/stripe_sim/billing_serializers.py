"""Render the billing objects (Customer, PaymentMethod, SetupIntent) as Stripe objects.

Shapes follow Stripe's fixtures (stripe/openapi `fixtures3.json`, `customer`, `payment_method`,
`setup_intent`), with the values a plain card saved in test mode has.
"""

from __future__ import annotations

from typing import Any, Final

from sandbox.stripe_sim.models import StripeCustomer, StripePaymentMethod, StripeSetupIntent
from sandbox.stripe_sim.serializers import CARD_EXPIRY, list_object
from sandbox.stripe_sim.testcards import card_named

ADDRESS_FIELDS: Final = ("city", "country", "line1", "line2", "postal_code", "state")


def customer_to_dict(customer: StripeCustomer) -> dict[str, Any]:
    return {
        "id": customer.id,
        "object": "customer",
        "address": None,
        "balance": 0,
        "created": customer.created,
        "currency": None,
        "default_source": None,
        "delinquent": False,
        "description": customer.description or None,
        "discount": None,
        "email": customer.email or None,
        "invoice_prefix": customer.invoice_prefix,
        "invoice_settings": {
            "custom_fields": None,
            "default_payment_method": customer.default_payment_method_id,
            "footer": None,
            "rendering_options": None,
        },
        "livemode": False,
        "metadata": customer.metadata,
        "name": customer.name or None,
        "next_invoice_sequence": 1,
        "phone": customer.phone or None,
        "preferred_locales": [],
        "shipping": None,
        "tax_exempt": "none",
        "test_clock": None,
    }


def card_payment_method_to_dict(method: StripePaymentMethod) -> dict[str, Any]:
    card = card_named(method.test_card)
    return {
        "id": method.id,
        "object": "payment_method",
        "allow_redisplay": "unspecified",
        "billing_details": {
            "address": dict.fromkeys(ADDRESS_FIELDS),
            "email": method.billing_email or None,
            "name": method.billing_name or None,
            "phone": None,
            "tax_id": None,
        },
        "card": {
            "brand": card.brand,
            "checks": {
                "address_line1_check": None,
                "address_postal_code_check": None,
                "cvc_check": "pass",
            },
            "country": "US",
            "display_brand": card.brand,
            **CARD_EXPIRY,
            "fingerprint": card.fingerprint,
            "funding": "credit",
            "generated_from": None,
            "last4": card.last4,
            "networks": {"available": [card.brand], "preferred": None},
            "regulated_status": "unregulated",
            "three_d_secure_usage": {"supported": True},
            "wallet": None,
        },
        "created": method.created,
        "customer": method.customer_id,
        "customer_account": None,
        "livemode": False,
        "metadata": method.metadata,
        "type": "card",
    }


def payment_methods_to_list(
    methods: list[StripePaymentMethod], url: str, *, has_more: bool
) -> dict[str, Any]:
    return list_object(
        [card_payment_method_to_dict(method) for method in methods], url, has_more=has_more
    )


def _setup_next_action(intent: StripeSetupIntent) -> dict[str, Any] | None:
    """While the card being saved awaits 3-D Secure: the page that completes it, as Stripe.js's
    `use_stripe_sdk` would open it (Checkout opens it itself)."""
    if intent.status != StripeSetupIntent.Status.REQUIRES_ACTION:
        return None
    session = getattr(intent, "checkout_session", None)
    return {
        "type": "use_stripe_sdk",
        "use_stripe_sdk": {
            "type": "three_d_secure_redirect",
            "stripe_js": f"{session.url}3ds/" if session is not None else None,
        },
    }


def setup_intent_to_dict(intent: StripeSetupIntent) -> dict[str, Any]:
    return {
        "id": intent.id,
        "object": "setup_intent",
        "application": None,
        "automatic_payment_methods": None,
        "cancellation_reason": None,
        "client_secret": intent.client_secret,
        "created": intent.created,
        "customer": intent.customer_id,
        "customer_account": None,
        "description": intent.description or None,
        "excluded_payment_method_types": None,
        "flow_directions": None,
        "last_setup_error": intent.last_setup_error,
        "latest_attempt": None,
        "livemode": False,
        "mandate": None,
        "metadata": intent.metadata,
        "next_action": _setup_next_action(intent),
        "on_behalf_of": None,
        "payment_method": intent.payment_method_id,
        "payment_method_configuration_details": None,
        "payment_method_options": {
            "card": {
                "mandate_options": None,
                "network": None,
                "request_three_d_secure": "automatic",
            }
        },
        "payment_method_types": ["card"],
        "single_use_mandate": None,
        "status": intent.status,
        "usage": "off_session",
    }
