"""Reads of the Stripe simulator, always scoped to the account asking: another account's object
reads exactly like an unknown id."""

from __future__ import annotations

from typing import TypeVar

from django.db.models import Model

from sandbox.stripe_sim import errors
from sandbox.stripe_sim.models import (
    StripeAccount,
    StripeCharge,
    StripeCheckoutSession,
    StripeCustomer,
    StripeEvent,
    StripePaymentIntent,
    StripePaymentMethod,
    StripeRefund,
    StripeSetupIntent,
    StripeWebhookEndpoint,
)

ModelT = TypeVar("ModelT", bound=Model)


def _owned(model: type[ModelT], account: StripeAccount, object_id: str, kind: str) -> ModelT:
    found = model._default_manager.filter(pk=object_id, account=account).first()
    if found is None:
        raise errors.no_such(kind, object_id)
    return found


def checkout_session_get(*, account: StripeAccount, session_id: str) -> StripeCheckoutSession:
    return _owned(StripeCheckoutSession, account, session_id, "checkout.session")


def payment_intent_get(*, account: StripeAccount, intent_id: str) -> StripePaymentIntent:
    return _owned(StripePaymentIntent, account, intent_id, "payment_intent")


def charge_get(*, account: StripeAccount, charge_id: str) -> StripeCharge:
    return _owned(StripeCharge, account, charge_id, "charge")


def refund_get(*, account: StripeAccount, refund_id: str) -> StripeRefund:
    return _owned(StripeRefund, account, refund_id, "refund")


def webhook_endpoint_get(*, account: StripeAccount, endpoint_id: str) -> StripeWebhookEndpoint:
    return _owned(StripeWebhookEndpoint, account, endpoint_id, "webhook endpoint")


def webhook_endpoints_list(
    *, account: StripeAccount, limit: int
) -> tuple[list[StripeWebhookEndpoint], bool]:
    """Newest first, like Stripe lists; the flag says whether more exist beyond `limit`."""
    endpoints = list(StripeWebhookEndpoint.objects.filter(account=account)[: limit + 1])
    return endpoints[:limit], len(endpoints) > limit


def event_get(*, account: StripeAccount, event_id: str) -> StripeEvent:
    return _owned(StripeEvent, account, event_id, "event")


def customer_get(*, account: StripeAccount, customer_id: str) -> StripeCustomer:
    return _owned(StripeCustomer, account, customer_id, "customer")


def payment_method_get(*, account: StripeAccount, method_id: str) -> StripePaymentMethod:
    return _owned(StripePaymentMethod, account, method_id, "PaymentMethod")


def setup_intent_get(*, account: StripeAccount, intent_id: str) -> StripeSetupIntent:
    return _owned(StripeSetupIntent, account, intent_id, "setupintent")


def customer_payment_methods_list(
    *, customer: StripeCustomer, limit: int
) -> tuple[list[StripePaymentMethod], bool]:
    """The customer's attached PaymentMethods, newest first; the flag says whether more exist."""
    methods = list(StripePaymentMethod.objects.filter(customer=customer)[: limit + 1])
    return methods[:limit], len(methods) > limit
