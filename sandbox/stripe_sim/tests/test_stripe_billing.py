"""Wasla's own billing on the Stripe simulator, over real HTTP with the official `stripe` package:
Customers, a card saved through Checkout in `setup` mode, and off-session PaymentIntents charged
on Stripe's test cards (success, decline, authentication required), with their webhooks.

The fixtures (live server, webhook receiver, browser) are the sandbox suite's, in `conftest.py`.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import stripe

from sandbox.stripe_sim.models import (
    StripeCharge,
    StripeCheckoutSession,
    StripePaymentIntent,
    StripePaymentMethod,
)
from sandbox.stripe_sim.tests.support import Endpoint, FormParser, Receiver, assert_error

pytestmark = pytest.mark.django_db(transaction=True)


SUCCESS_URL = "https://wasla.example/billing/card-saved?session_id={CHECKOUT_SESSION_ID}"
CANCEL_URL = "https://wasla.example/billing"
RETURN_URL = "https://wasla.example/billing/authenticated?merchant=m-7"
VISA = "4242424242424242"
CUSTOMER_FAIL = "4000000000000341"
AUTH_REQUIRED = "4000002760003184"
DECLINED = "4000000000000002"


# Helpers ---------------------------------------------------------------------------------------


def customer_create(client: stripe.StripeClient, **overrides: Any) -> stripe.Customer:
    params: dict[str, Any] = {
        "email": "billing@merchant.example",
        "name": "Merchant Seven",
        "metadata": {"tenant": "t-7"},
    }
    params.update(overrides)
    return client.v1.customers.create(params=params)


def setup_session_create(
    client: stripe.StripeClient, customer: str, **overrides: Any
) -> stripe.checkout.Session:
    params: dict[str, Any] = {
        "mode": "setup",
        "customer": customer,
        "currency": "sar",
        "success_url": SUCCESS_URL,
        "cancel_url": CANCEL_URL,
        "metadata": {"tenant": "t-7", "purpose": "billing_card"},
    }
    params.update(overrides)
    return client.v1.checkout.sessions.create(params=params)


def save_card(
    browser: httpx.Client, session: stripe.checkout.Session, number: str
) -> httpx.Response:
    return browser.post(session.url, data={"outcome": number})


def success_location(session_id: str) -> str:
    return SUCCESS_URL.replace("{CHECKOUT_SESSION_ID}", session_id)


def saved_card(
    client: stripe.StripeClient, browser: httpx.Client, customer: str, number: str
) -> str:
    """Save `number` through setup-mode Checkout; returns the new PaymentMethod's id."""
    session = setup_session_create(client, customer)
    response = save_card(browser, session, number)
    assert response.status_code == 302, response.text
    assert response.headers["location"] == success_location(session.id)
    intent = client.v1.setup_intents.retrieve(
        client.v1.checkout.sessions.retrieve(session.id).setup_intent
    )
    assert intent.status == "succeeded"
    return intent.payment_method


def charge(
    client: stripe.StripeClient, customer: str, method: str, key: str | None = None, **extra: Any
) -> stripe.PaymentIntent:
    params: dict[str, Any] = {
        "amount": 9900,
        "currency": "sar",
        "customer": customer,
        "payment_method": method,
        "off_session": True,
        "confirm": True,
        "metadata": {"invoice": "INV-2026-07"},
    }
    params.update(extra)
    options: dict[str, Any] = {"idempotency_key": key} if key else {}
    return client.v1.payment_intents.create(params=params, options=options)


def verified_events(receiver: Receiver, endpoint: Endpoint) -> list[stripe.Event]:
    return [delivery.verified(endpoint.secret) for delivery in receiver.deliveries]


def card_error(call: Any) -> stripe.CardError:
    with pytest.raises(stripe.CardError) as caught:
        call()
    assert caught.value.http_status == 402
    return caught.value


# Customers -------------------------------------------------------------------------------------


def test_customer_create_retrieve_and_update(client: stripe.StripeClient) -> None:
    created = customer_create(client)

    assert created.id.startswith("cus_")
    assert created.object == "customer"
    assert created.email == "billing@merchant.example"
    assert created.name == "Merchant Seven"
    assert created.metadata.to_dict() == {"tenant": "t-7"}
    assert created.invoice_settings.default_payment_method is None
    assert created.livemode is False

    updated = client.v1.customers.update(
        created.id,
        params={"name": "Merchant 7", "metadata": {"plan": "pro", "tenant": ""}},
    )
    assert updated.name == "Merchant 7"
    assert updated.email == "billing@merchant.example"
    assert updated.metadata.to_dict() == {"plan": "pro"}

    fetched = client.v1.customers.retrieve(created.id)
    assert fetched.to_dict() == updated.to_dict()


def test_default_payment_method_must_be_the_customers_own(client: stripe.StripeClient) -> None:
    customer = customer_create(client)
    other = customer_create(client, email="other@merchant.example")
    method = client.v1.payment_methods.attach("pm_card_visa", params={"customer": customer.id})
    foreign = client.v1.payment_methods.attach("pm_card_visa", params={"customer": other.id})

    updated = client.v1.customers.update(
        customer.id, params={"invoice_settings": {"default_payment_method": method.id}}
    )
    assert updated.invoice_settings.default_payment_method == method.id
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.customers.update(
            customer.id, params={"invoice_settings": {"default_payment_method": foreign.id}}
        )
    assert caught.value.http_status == 400
    assert caught.value.param == "invoice_settings[default_payment_method]"

    client.v1.payment_methods.detach(method.id)
    assert client.v1.customers.retrieve(customer.id).invoice_settings.default_payment_method is None


def test_customer_errors(raw: httpx.Client, other_client: stripe.StripeClient) -> None:
    assert_error(raw.post("/v1/customers", data={"email": "nope"}), 400, code="email_invalid")
    assert_error(raw.post("/v1/customers", data={"shoe_size": "44"}), 400, code="parameter_unknown")
    error = assert_error(raw.get("/v1/customers/cus_nope"), 404, code="resource_missing")
    assert error["message"] == "No such customer: 'cus_nope'"
    mine = raw.post("/v1/customers", data={"email": "a@b.example"}).json()["id"]
    with pytest.raises(stripe.InvalidRequestError) as caught:
        other_client.v1.customers.retrieve(mine)
    assert caught.value.http_status == 404


# PaymentMethods --------------------------------------------------------------------------------


def test_attaching_a_test_payment_method_makes_a_concrete_one(client: stripe.StripeClient) -> None:
    customer = customer_create(client)

    first = client.v1.payment_methods.attach("pm_card_visa", params={"customer": customer.id})
    second = client.v1.payment_methods.attach("pm_card_visa", params={"customer": customer.id})

    assert first.id.startswith("pm_1")
    assert first.id != second.id
    assert first.customer == customer.id
    assert first.type == "card"
    assert first.card.brand == "visa"
    assert first.card.last4 == "4242"
    assert first.card.fingerprint == second.card.fingerprint
    assert first.billing_details.email == "billing@merchant.example"
    listed = client.v1.customers.payment_methods.list(customer.id, params={"type": "card"})
    assert [method.id for method in listed.data] == [second.id, first.id]
    also = client.v1.payment_methods.list(params={"customer": customer.id, "type": "card"})
    assert [method.id for method in also.data] == [second.id, first.id]
    assert client.v1.payment_methods.retrieve(first.id).to_dict() == first.to_dict()


def test_attach_and_detach_rules(client: stripe.StripeClient, raw: httpx.Client) -> None:
    customer = customer_create(client)
    other = customer_create(client, email="other@merchant.example")
    method = client.v1.payment_methods.attach(
        "pm_card_chargeCustomerFail", params={"customer": customer.id}
    )
    assert method.card.last4 == "0341"  # attaches fine; only charges fail

    declined = card_error(
        lambda: client.v1.payment_methods.attach(
            "pm_card_chargeDeclined", params={"customer": customer.id}
        )
    )
    assert declined.code == "card_declined"
    assert declined.error.decline_code == "generic_decline"

    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.payment_methods.attach(method.id, params={"customer": other.id})
    assert caught.value.http_status == 400
    assert client.v1.payment_methods.attach(method.id, params={"customer": customer.id}).id == (
        method.id
    )

    detached = client.v1.payment_methods.detach(method.id)
    assert detached.customer is None
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.payment_methods.detach(method.id)
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.payment_methods.attach(method.id, params={"customer": customer.id})
    assert client.v1.customers.payment_methods.list(customer.id).data == []

    assert_error(
        raw.post("/v1/payment_methods/pm_nope/attach", data={"customer": customer.id}),
        404,
        code="resource_missing",
    )
    assert_error(
        raw.post("/v1/payment_methods/pm_card_visa/attach", data={"customer": "cus_nope"}),
        400,
        code="resource_missing",
        param="customer",
    )
    assert_error(raw.post("/v1/payment_methods/pm_card_visa/attach"), 400, code="parameter_missing")
    assert StripePaymentMethod.objects.filter(customer=None, detached=False).count() == 0


# Checkout in setup mode ------------------------------------------------------------------------


def test_setup_session_saves_a_card_and_sends_both_signed_webhooks(
    client: stripe.StripeClient, browser: httpx.Client, receiver: Receiver, endpoint: Endpoint
) -> None:
    customer = customer_create(client)
    session = setup_session_create(client, customer.id, setup_intent_data={"metadata": {"k": "v"}})

    assert session.id.startswith("cs_test_")
    assert session.mode == "setup"
    assert session.status == "open"
    assert session.payment_status == "no_payment_required"
    assert session.customer == customer.id
    assert session.amount_total is None
    assert session.payment_intent is None
    assert session.setup_intent.startswith("seti_")
    assert session.url.endswith(f"/sandbox/stripe/setup/{session.id}/")
    pending = client.v1.setup_intents.retrieve(session.setup_intent)
    assert pending.status == "requires_payment_method"
    assert pending.usage == "off_session"
    assert pending.customer == customer.id
    assert pending.metadata.to_dict() == {"k": "v"}

    page = browser.get(session.url)
    assert page.status_code == 200
    parser = FormParser()
    parser.feed(page.text)
    assert len(parser.forms) == 1
    assert [button["value"] for button in parser.forms[0].buttons] == [
        VISA,
        CUSTOMER_FAIL,
        AUTH_REQUIRED,
        DECLINED,
        "cancel",
    ]
    assert parser.inputs_anywhere == []

    response = save_card(browser, session, VISA)

    assert response.status_code == 302
    assert response.headers["location"] == success_location(session.id)
    events = verified_events(receiver, endpoint)
    assert [event.type for event in events] == [
        "payment_method.attached",
        "setup_intent.succeeded",
        "checkout.session.completed",
    ]
    attached, succeeded, completed = (event.data.object for event in events)
    assert completed.id == session.id
    assert completed.mode == "setup"
    assert completed.status == "complete"
    assert completed.payment_status == "no_payment_required"
    assert completed.setup_intent == session.setup_intent
    assert completed.customer == customer.id
    assert completed.metadata.to_dict() == {"tenant": "t-7", "purpose": "billing_card"}
    assert succeeded.id == session.setup_intent
    assert succeeded.status == "succeeded"
    assert succeeded.payment_method == attached.id
    assert attached.customer == customer.id

    expanded = client.v1.checkout.sessions.retrieve(
        session.id, params={"expand": ["setup_intent.payment_method"]}
    )
    assert expanded.status == "complete"
    assert expanded.url is None
    assert expanded.customer_details.email == "billing@merchant.example"
    method = expanded.setup_intent.payment_method
    assert method.id == attached.id
    assert method.customer == customer.id
    assert method.card.last4 == "4242"
    listed = client.v1.customers.payment_methods.list(customer.id)
    assert [item.id for item in listed.data] == [method.id]

    # A second submission changes nothing and sends nothing.
    again = save_card(browser, session, CUSTOMER_FAIL)
    assert again.headers["location"] == success_location(session.id)
    assert len(receiver.deliveries) == 3
    assert browser.get(session.url).status_code == 200


def test_a_card_needing_authentication_is_saved_through_3ds(
    client: stripe.StripeClient, browser: httpx.Client, receiver: Receiver, endpoint: Endpoint
) -> None:
    customer = customer_create(client)
    session = setup_session_create(client, customer.id)

    response = save_card(browser, session, AUTH_REQUIRED)

    assert response.status_code == 302
    assert response.headers["location"].endswith(f"/setup/{session.id}/3ds/")
    waiting = client.v1.setup_intents.retrieve(session.setup_intent)
    assert waiting.status == "requires_action"
    assert waiting.next_action.type == "use_stripe_sdk"
    assert receiver.types() == ["setup_intent.requires_action"]
    threeds = f"{session.url}3ds/"
    assert browser.get(threeds).status_code == 200

    failed = browser.post(threeds, data={"outcome": "decline"})

    assert failed.headers["location"].endswith(f"/setup/{session.id}/")
    refused = client.v1.setup_intents.retrieve(session.setup_intent)
    assert refused.status == "requires_payment_method"
    assert refused.payment_method is None
    assert refused.last_setup_error.code == "setup_intent_authentication_failure"
    assert client.v1.checkout.sessions.retrieve(session.id).status == "open"
    assert "failed because authentication failed" in browser.get(session.url).text

    save_card(browser, session, AUTH_REQUIRED)
    passed = browser.post(threeds, data={"outcome": "succeed"})

    assert passed.headers["location"] == success_location(session.id)
    saved = client.v1.setup_intents.retrieve(session.setup_intent)
    assert saved.status == "succeeded"
    assert client.v1.payment_methods.retrieve(saved.payment_method).card.last4 == "3184"
    assert receiver.types() == [
        "setup_intent.requires_action",
        "setup_intent.setup_failed",
        "setup_intent.requires_action",
        "payment_method.attached",
        "setup_intent.succeeded",
        "checkout.session.completed",
    ]
    assert all(verified_events(receiver, endpoint))


def test_a_card_declined_on_save_keeps_the_session_open(
    client: stripe.StripeClient, browser: httpx.Client, receiver: Receiver, endpoint: Endpoint
) -> None:
    customer = customer_create(client)
    session = setup_session_create(client, customer.id)

    response = save_card(browser, session, DECLINED)

    assert response.headers["location"].endswith(f"/setup/{session.id}/")
    assert "Your card was declined." in browser.get(session.url).text
    intent = client.v1.setup_intents.retrieve(session.setup_intent)
    assert intent.status == "requires_payment_method"
    assert intent.last_setup_error.code == "card_declined"
    assert intent.last_setup_error.decline_code == "generic_decline"
    assert client.v1.customers.payment_methods.list(customer.id).data == []
    assert receiver.types() == ["setup_intent.setup_failed"]

    assert save_card(browser, session, CUSTOMER_FAIL).headers["location"] == success_location(
        session.id
    )
    assert client.v1.setup_intents.retrieve(session.setup_intent).last_setup_error is None


def test_cancel_expires_a_setup_session(
    client: stripe.StripeClient, browser: httpx.Client, receiver: Receiver, endpoint: Endpoint
) -> None:
    session = setup_session_create(client, customer_create(client).id)

    response = browser.post(session.url, data={"outcome": "cancel"})

    assert response.headers["location"] == CANCEL_URL
    assert client.v1.checkout.sessions.retrieve(session.id).status == "expired"
    assert receiver.types() == ["checkout.session.expired"]
    # The payment page of a setup session leads to its own page, never to a payment.
    pay = browser.get(session.url.replace("/setup/", "/pay/"))
    assert pay.status_code == 302
    assert StripePaymentIntent.objects.count() == 0


def test_setup_session_without_customer_saves_an_unattached_card(
    client: stripe.StripeClient, browser: httpx.Client
) -> None:
    session = client.v1.checkout.sessions.create(
        params={
            "mode": "setup",
            "payment_method_types": ["card"],
            "success_url": SUCCESS_URL,
            "customer_email": "walk-in@merchant.example",
        }
    )
    assert session.currency is None

    save_card(browser, session, VISA)

    intent = client.v1.setup_intents.retrieve(session.setup_intent)
    assert intent.status == "succeeded"
    assert client.v1.payment_methods.retrieve(intent.payment_method).customer is None


@pytest.mark.parametrize(
    ("overrides", "param", "code"),
    [
        ({"currency": None}, "currency", None),
        ({"payment_method_types": ["sepa_debit"]}, "payment_method_types[0]", None),
        ({"customer": "cus_nope"}, "customer", "resource_missing"),
        ({"customer_email": "x@y.example"}, "customer_email", None),
        ({"success_url": None}, "success_url", "parameter_missing"),
        ({"line_items": [{"price": "price_1", "quantity": 1}]}, "line_items", None),
        ({"payment_intent_data": {"description": "x"}}, "payment_intent_data", None),
        (
            {"setup_intent_data": {"usage": "on_session"}},
            "setup_intent_data[usage]",
            "parameter_unknown",
        ),
    ],
)
def test_invalid_setup_sessions_are_400(
    client: stripe.StripeClient, overrides: dict[str, Any], param: str, code: str | None
) -> None:
    customer = customer_create(client)
    params = {
        "mode": "setup",
        "customer": customer.id,
        "currency": "sar",
        "success_url": SUCCESS_URL,
        **overrides,
    }
    params = {key: value for key, value in params.items() if value is not None}

    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.checkout.sessions.create(params=params)

    assert caught.value.http_status == 400
    assert caught.value.param == param
    assert caught.value.code == code
    assert StripeCheckoutSession.objects.count() == 0


# Off-session PaymentIntents --------------------------------------------------------------------


def test_off_session_charge_of_a_saved_card_succeeds(
    client: stripe.StripeClient, browser: httpx.Client, receiver: Receiver, endpoint: Endpoint
) -> None:
    customer = customer_create(client)
    method = saved_card(client, browser, customer.id, VISA)
    receiver.deliveries.clear()

    intent = charge(client, customer.id, method, key="fee-2026-07-t7")

    assert intent.id.startswith("pi_")
    assert intent.status == "succeeded"
    assert intent.amount == intent.amount_received == 9900
    assert intent.currency == "sar"
    assert intent.customer == customer.id
    assert intent.payment_method == method
    assert intent.metadata.to_dict() == {"invoice": "INV-2026-07"}
    assert intent.last_payment_error is None
    assert intent.next_action is None
    latest = client.v1.charges.retrieve(intent.latest_charge)
    assert latest.status == "succeeded"
    assert latest.paid is True
    assert latest.customer == customer.id
    assert latest.payment_method == method
    assert latest.payment_method_details.card.last4 == "4242"
    assert latest.payment_method_details.card.three_d_secure is None
    (event,) = verified_events(receiver, endpoint)
    assert event.type == "payment_intent.succeeded"
    assert event.data.object.id == intent.id
    assert event.request.idempotency_key == "fee-2026-07-t7"
    # Refundable like any other payment.
    refund = client.v1.refunds.create(params={"payment_intent": intent.id, "amount": 900})
    assert refund.status == "succeeded"


def test_off_session_decline_is_a_402_card_error(
    client: stripe.StripeClient, browser: httpx.Client, receiver: Receiver, endpoint: Endpoint
) -> None:
    customer = customer_create(client)
    method = saved_card(client, browser, customer.id, CUSTOMER_FAIL)
    receiver.deliveries.clear()

    error = card_error(lambda: charge(client, customer.id, method))

    assert error.code == "card_declined"
    assert error.error.type == "card_error"
    assert error.error.decline_code == "generic_decline"
    assert error.error.message == "Your card was declined."
    assert error.error.payment_method.id == method
    failed = error.error.payment_intent
    assert failed.status == "requires_payment_method"
    assert error.error.charge == failed.latest_charge
    intent = client.v1.payment_intents.retrieve(failed.id)
    assert intent.status == "requires_payment_method"
    assert intent.payment_method is None
    assert intent.amount_received == 0
    assert intent.last_payment_error.code == "card_declined"
    assert intent.last_payment_error.decline_code == "generic_decline"
    assert intent.last_payment_error.payment_method.id == method
    assert client.v1.charges.retrieve(intent.latest_charge).status == "failed"
    (event,) = verified_events(receiver, endpoint)
    assert event.type == "payment_intent.payment_failed"
    assert event.data.object.id == intent.id

    # The customer comes back and confirms with another card of theirs.
    other = client.v1.payment_methods.attach("pm_card_visa", params={"customer": customer.id})
    retried = client.v1.payment_intents.confirm(intent.id, params={"payment_method": other.id})
    assert retried.status == "succeeded"
    assert retried.payment_method == other.id
    assert receiver.types()[-1] == "payment_intent.succeeded"


def test_off_session_authentication_required_then_3ds_on_session(
    client: stripe.StripeClient, browser: httpx.Client, receiver: Receiver, endpoint: Endpoint
) -> None:
    customer = customer_create(client)
    method = client.v1.payment_methods.attach(
        "pm_card_authenticationRequired", params={"customer": customer.id}
    ).id
    receiver.deliveries.clear()

    error = card_error(lambda: charge(client, customer.id, method))

    assert error.code == "authentication_required"
    assert error.error.decline_code == "authentication_required"
    intent_id = error.error.payment_intent.id
    failed = client.v1.payment_intents.retrieve(intent_id)
    assert failed.status == "requires_payment_method"
    assert failed.last_payment_error.code == "authentication_required"
    assert failed.last_payment_error.payment_method.id == method
    assert receiver.types() == ["payment_intent.payment_failed"]

    # Back on-session: confirming again asks for 3-D Secure on the simulator's page.
    waiting = client.v1.payment_intents.confirm(
        intent_id, params={"payment_method": method, "return_url": RETURN_URL}
    )
    assert waiting.status == "requires_action"
    assert waiting.payment_method == method
    assert waiting.next_action.type == "redirect_to_url"
    assert waiting.next_action.redirect_to_url.return_url == RETURN_URL
    url = waiting.next_action.redirect_to_url.url
    assert urlsplit(url).path.endswith(f"/sandbox/stripe/authenticate/{intent_id}/")
    page = browser.get(url)
    assert page.status_code == 200
    assert "99.00\u00a0ر.س." in page.text  # the page speaks Arabic unless switched
    assert receiver.types()[-1] == "payment_intent.requires_action"

    response = browser.post(url, data={"outcome": "succeed"})

    assert response.status_code == 302
    location = urlsplit(response.headers["location"])
    assert location._replace(query="").geturl() == RETURN_URL.split("?")[0]
    query = parse_qs(location.query)
    assert query["merchant"] == ["m-7"]
    assert query["payment_intent"] == [intent_id]
    assert query["payment_intent_client_secret"] == [waiting.client_secret]
    assert query["redirect_status"] == ["succeeded"]
    paid = client.v1.payment_intents.retrieve(intent_id, params={"expand": ["latest_charge"]})
    assert paid.status == "succeeded"
    assert paid.next_action is None
    assert paid.latest_charge.status == "succeeded"
    assert paid.latest_charge.payment_method_details.card.three_d_secure.result == "authenticated"
    assert receiver.types()[-1] == "payment_intent.succeeded"
    assert all(verified_events(receiver, endpoint))
    # The page is done: a second submission changes nothing.
    again = browser.post(url, data={"outcome": "decline"})
    assert parse_qs(urlsplit(again.headers["location"]).query)["redirect_status"] == ["succeeded"]
    assert StripeCharge.objects.filter(payment_intent_id=intent_id).count() == 2


def test_failing_3ds_leaves_the_intent_wanting_a_payment_method(
    client: stripe.StripeClient, browser: httpx.Client, receiver: Receiver, endpoint: Endpoint
) -> None:
    customer = customer_create(client)
    waiting = client.v1.payment_intents.create(
        params={
            "amount": 5000,
            "currency": "sar",
            "customer": customer.id,
            "payment_method": "pm_card_authenticationRequired",
            "confirm": True,
        }
    )
    assert waiting.status == "requires_action"
    # No return_url: the page Stripe.js would open itself.
    assert waiting.next_action.type == "use_stripe_sdk"
    url = waiting.next_action.use_stripe_sdk.stripe_js

    response = browser.post(url, data={"outcome": "decline"})

    assert response.status_code == 200
    assert "لم يتم التحقق من هذه الدفعة" in response.text  # "…was not authenticated"
    intent = client.v1.payment_intents.retrieve(waiting.id)
    assert intent.status == "requires_payment_method"
    assert intent.last_payment_error.code == "payment_intent_authentication_failure"
    assert receiver.types() == ["payment_intent.requires_action", "payment_intent.payment_failed"]


def test_the_idempotency_key_replays_the_same_intent(
    client: stripe.StripeClient, browser: httpx.Client, receiver: Receiver, endpoint: Endpoint
) -> None:
    customer = customer_create(client)
    visa = client.v1.payment_methods.attach("pm_card_visa", params={"customer": customer.id}).id
    failing = client.v1.payment_methods.attach(
        "pm_card_chargeCustomerFail", params={"customer": customer.id}
    ).id
    receiver.deliveries.clear()

    first = charge(client, customer.id, visa, key="fee-t7-2026-07")
    again = charge(client, customer.id, visa, key="fee-t7-2026-07")

    assert again.id == first.id
    assert again.latest_charge == first.latest_charge
    assert StripePaymentIntent.objects.filter(customer_id=customer.id).count() == 1
    assert receiver.types() == ["payment_intent.succeeded"]
    with pytest.raises(stripe.IdempotencyError) as caught:
        charge(client, customer.id, visa, key="fee-t7-2026-07", amount=9901)
    assert caught.value.http_status == 400

    # A decline ran: its 402 is replayed as it was, with no second attempt on the card.
    declined = card_error(lambda: charge(client, customer.id, failing, key="fee-t7-2026-08"))
    replayed = card_error(lambda: charge(client, customer.id, failing, key="fee-t7-2026-08"))
    assert replayed.json_body == declined.json_body
    assert replayed.headers["Idempotent-Replayed"] == "true"
    assert StripeCharge.objects.filter(payment_method=failing).count() == 1
    assert receiver.types() == ["payment_intent.succeeded", "payment_intent.payment_failed"]


def test_payment_intent_errors(
    client: stripe.StripeClient, other_client: stripe.StripeClient, raw: httpx.Client
) -> None:
    customer = customer_create(client)
    other = customer_create(client, email="other@merchant.example")
    foreign = client.v1.payment_methods.attach("pm_card_visa", params={"customer": other.id}).id
    base = {
        "amount": "9900",
        "currency": "sar",
        "customer": customer.id,
        "payment_method": "pm_card_visa",
        "off_session": "true",
        "confirm": "true",
    }

    def create(**changes: str | None) -> httpx.Response:
        data = {key: value for key, value in {**base, **changes}.items() if value is not None}
        return raw.post("/v1/payment_intents", data=data)

    assert_error(create(amount=None), 400, code="parameter_missing", param="amount")
    assert_error(create(amount="0"), 400, code="parameter_invalid_integer", param="amount")
    assert_error(create(currency=None), 400, code="parameter_missing", param="currency")
    assert_error(create(customer="cus_nope"), 400, code="resource_missing", param="customer")
    assert_error(create(payment_method="pm_nope"), 400, code="resource_missing")
    error = assert_error(create(payment_method=foreign), 400, param="payment_method")
    assert "another Customer" in error["message"]
    assert_error(create(customer=None, payment_method=foreign), 400, param="payment_method")
    assert_error(create(confirm=None), 400, param="off_session")
    assert_error(create(payment_method=None), 400, code="payment_intent_unexpected_state")
    assert_error(create(off_session="maybe"), 400, param="off_session")
    assert_error(create(setup_future_usage="off_session"), 400, code="parameter_unknown")
    assert StripePaymentIntent.objects.count() == 0

    unconfirmed = client.v1.payment_intents.create(
        params={"amount": 100, "currency": "sar", "customer": customer.id}
    )
    assert unconfirmed.status == "requires_payment_method"
    paid = client.v1.payment_intents.confirm(
        unconfirmed.id, params={"payment_method": "pm_card_visa"}
    )
    assert paid.status == "succeeded"
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.payment_intents.confirm(paid.id)
    assert caught.value.code == "payment_intent_unexpected_state"
    for call in (
        lambda: other_client.v1.payment_intents.retrieve(paid.id),
        lambda: other_client.v1.payment_intents.confirm(paid.id),
        lambda: other_client.v1.payment_methods.retrieve(foreign),
        lambda: other_client.v1.customers.retrieve(customer.id),
    ):
        with pytest.raises(stripe.InvalidRequestError) as caught:
            call()
        assert caught.value.http_status == 404
        assert caught.value.code == "resource_missing"
    assert_error(raw.post("/v1/payment_intents/pi_nope/confirm"), 404, code="resource_missing")
    assert_error(raw.get("/v1/setup_intents/seti_nope"), 404, code="resource_missing")
    assert_error(raw.get("/v1/payment_methods/pm_nope"), 404, code="resource_missing")
