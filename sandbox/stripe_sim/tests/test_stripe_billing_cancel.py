"""Canceling and refunding PaymentIntents made through the API, over real HTTP with the official
`stripe` package (`stripe.PaymentIntent.cancel`, `stripe.Refund.create` and the StripeClient):
an unpaid intent (waiting for 3-D Secure, or declined) is canceled for good with its reason and
a signed `payment_intent.canceled`; a succeeded one answers 400 `payment_intent_unexpected_state`
carrying the intent, and is refunded instead."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import stripe

from sandbox.stripe_sim.models import StripeCharge, StripePaymentIntent
from sandbox.stripe_sim.tests.support import (
    OTHER_SECRET,
    SECRET,
    Endpoint,
    Receiver,
    assert_error,
)

pytestmark = pytest.mark.django_db(transaction=True)

RETURN_URL = "https://wasla.example/billing/invoices/t/pay/return/"


@pytest.fixture
def global_stripe(stripe_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The package's global API (`stripe.PaymentIntent.cancel`) pointed at the sandbox."""
    monkeypatch.setattr(stripe, "api_base", stripe_url)
    monkeypatch.setattr(stripe, "api_key", SECRET)


def _customer_with(client: stripe.StripeClient, test_method: str) -> tuple[str, str]:
    customer = client.v1.customers.create(params={"name": "Merchant Seven"}).id
    method = client.v1.payment_methods.attach(test_method, params={"customer": customer}).id
    return customer, method


def _on_session(client: stripe.StripeClient, customer: str, method: str) -> stripe.PaymentIntent:
    return client.v1.payment_intents.create(
        params={
            "amount": 115,
            "currency": "sar",
            "customer": customer,
            "payment_method": method,
            "confirm": True,
            "return_url": RETURN_URL,
            "metadata": {"invoice_id": "7", "try": "1"},
        }
    )


def test_an_intent_waiting_for_3ds_is_canceled_and_its_page_can_no_longer_pay(
    client: stripe.StripeClient,
    browser: httpx.Client,
    receiver: Receiver,
    endpoint: Endpoint,
    global_stripe: None,
) -> None:
    customer, method = _customer_with(client, "pm_card_authenticationRequired")
    waiting = _on_session(client, customer, method)
    assert waiting.status == "requires_action"
    page = waiting.next_action.redirect_to_url.url
    receiver.deliveries.clear()

    canceled = stripe.PaymentIntent.cancel(waiting.id, cancellation_reason="duplicate")

    assert canceled.id == waiting.id
    assert canceled.status == "canceled"
    assert canceled.cancellation_reason == "duplicate"
    assert isinstance(canceled.canceled_at, int)
    assert canceled.next_action is None
    assert canceled.amount_received == 0
    (delivery,) = receiver.deliveries
    event = delivery.verified(endpoint.secret)
    assert event.type == "payment_intent.canceled"
    assert event.data.object.id == waiting.id
    assert event.data.object.status == "canceled"

    # The merchant finishes 3-D Secure afterwards: nothing is charged.
    finished = browser.post(page, data={"outcome": "succeed"})
    assert finished.status_code == 302
    assert "redirect_status=failed" in finished.headers["location"]
    assert stripe.PaymentIntent.retrieve(waiting.id).status == "canceled"
    assert not StripeCharge.objects.filter(payment_intent_id=waiting.id).exists()
    assert receiver.types() == ["payment_intent.canceled"]
    # Canceled is final: no second cancel, no confirmation.
    with pytest.raises(stripe.InvalidRequestError) as caught:
        stripe.PaymentIntent.cancel(waiting.id)
    assert caught.value.http_status == 400
    assert caught.value.code == "payment_intent_unexpected_state"
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.payment_intents.confirm(waiting.id, params={"payment_method": method})


def test_a_declined_intent_is_canceled_without_a_reason(client: stripe.StripeClient) -> None:
    customer, method = _customer_with(client, "pm_card_chargeCustomerFail")
    with pytest.raises(stripe.CardError) as declined:
        client.v1.payment_intents.create(
            params={
                "amount": 115,
                "currency": "sar",
                "customer": customer,
                "payment_method": method,
                "off_session": True,
                "confirm": True,
            }
        )
    intent_id = declined.value.error.payment_intent.id

    canceled = client.v1.payment_intents.cancel(intent_id)

    assert canceled.status == "canceled"
    assert canceled.cancellation_reason is None
    unconfirmed = client.v1.payment_intents.create(params={"amount": 100, "currency": "sar"})
    assert client.v1.payment_intents.cancel(unconfirmed.id).status == "canceled"


def test_a_succeeded_intent_is_not_canceled_and_the_error_says_it_was_paid(
    client: stripe.StripeClient, global_stripe: None
) -> None:
    customer, method = _customer_with(client, "pm_card_visa")
    paid = _on_session(client, customer, method)
    assert paid.status == "succeeded"

    with pytest.raises(stripe.InvalidRequestError) as caught:
        stripe.PaymentIntent.cancel(paid.id, cancellation_reason="abandoned")

    assert caught.value.http_status == 400
    assert caught.value.code == "payment_intent_unexpected_state"
    assert "status of succeeded" in str(caught.value.user_message)
    assert caught.value.error is not None
    assert caught.value.error.payment_intent.status == "succeeded"
    assert caught.value.error.payment_intent.id == paid.id
    intent = StripePaymentIntent.objects.get(pk=paid.id)
    assert (intent.status, intent.canceled_at) == ("succeeded", None)
    assert intent.cancellation_reason == ""


def test_cancel_errors(client: stripe.StripeClient, raw: httpx.Client, stripe_url: str) -> None:
    customer, method = _customer_with(client, "pm_card_authenticationRequired")
    waiting = _on_session(client, customer, method)
    path = f"/v1/payment_intents/{waiting.id}/cancel"

    assert_error(
        raw.post(path, data={"cancellation_reason": "changed_mind"}),
        400,
        param="cancellation_reason",
    )
    assert_error(raw.post(path, data={"amount": "5"}), 400, code="parameter_unknown")
    assert_error(raw.post("/v1/payment_intents/pi_nope/cancel"), 404, code="resource_missing")
    other = httpx.post(
        f"{stripe_url}{path}", headers={"Authorization": f"Bearer {OTHER_SECRET}"}, timeout=30
    )
    assert_error(other, 404, code="resource_missing")
    assert StripePaymentIntent.objects.get(pk=waiting.id).status == "requires_action"

    session = client.v1.checkout.sessions.create(
        params={
            "mode": "payment",
            "success_url": "https://shop.example/ok",
            "line_items": [
                {
                    "price_data": {
                        "currency": "sar",
                        "unit_amount": 1000,
                        "product_data": {"name": "Dates"},
                    },
                    "quantity": 1,
                }
            ],
        }
    )
    declined = httpx.post(session.url, data={"outcome": "decline"}, timeout=30)
    assert declined.status_code < 400, declined.text
    # The declined Checkout payment left its intent wanting a payment method: only expiring the
    # session ends it.
    intent_id = client.v1.checkout.sessions.retrieve(session.id).payment_intent
    assert StripePaymentIntent.objects.get(pk=intent_id).status == "requires_payment_method"
    error = assert_error(
        raw.post(f"/v1/payment_intents/{intent_id}/cancel"),
        400,
        code="payment_intent_unexpected_state",
    )
    assert "Checkout Session" in error["message"]


def test_a_billing_payment_intent_is_refunded_once_per_idempotency_key(
    client: stripe.StripeClient, receiver: Receiver, endpoint: Endpoint, global_stripe: None
) -> None:
    customer, method = _customer_with(client, "pm_card_visa")
    paid = client.v1.payment_intents.create(
        params={
            "amount": 115,
            "currency": "sar",
            "customer": customer,
            "payment_method": method,
            "off_session": True,
            "confirm": True,
            "metadata": {"invoice_id": "7", "try": "2"},
        }
    )
    receiver.deliveries.clear()
    params: dict[str, Any] = {
        "payment_intent": paid.id,
        "reason": "duplicate",
        "metadata": {"invoice_id": "7"},
    }

    first = stripe.Refund.create(**params, idempotency_key="wasla-refund-" + paid.id)
    again = stripe.Refund.create(**params, idempotency_key="wasla-refund-" + paid.id)

    assert again.id == first.id
    assert (first.status, first.amount, first.currency) == ("succeeded", 115, "sar")
    assert (first.payment_intent, first.reason) == (paid.id, "duplicate")
    charge = stripe.Charge.retrieve(paid.latest_charge)
    assert (charge.amount_refunded, charge.refunded) == (115, True)
    assert sorted(receiver.types()) == ["charge.refunded", "refund.created"]
    with pytest.raises(stripe.InvalidRequestError) as caught:
        stripe.Refund.create(payment_intent=paid.id)
    assert caught.value.code == "charge_already_refunded"
