"""Pre-configured sandbox accounts (`SANDBOX_STRIPE_ACCOUNTS`, what the demo sets): the key's
account has its webhook endpoint with the configured URL and signing secret from its first
request, follows a URL that moved, and other keys are left alone."""

from __future__ import annotations

import pytest
import stripe

from sandbox.stripe_sim.models import StripeWebhookEndpoint
from sandbox.stripe_sim.tests.support import SECRET, Receiver, receiver_serving

pytestmark = pytest.mark.django_db(transaction=True)

SIGNING_SECRET = "whsec_preconfiguredForTheSandboxTest0001"


def _configure(settings, url: str) -> None:  # type: ignore[no-untyped-def]
    settings.SANDBOX_STRIPE_ACCOUNTS = [
        {
            "secret_key": SECRET,
            "webhook_endpoints": [
                {
                    "url": url,
                    "secret": SIGNING_SECRET,
                    "enabled_events": ["payment_method.attached"],
                }
            ],
        }
    ]


def test_a_preconfigured_key_delivers_to_its_endpoint_signed_with_its_secret(
    client: stripe.StripeClient,
    other_client: stripe.StripeClient,
    receiver: Receiver,
    settings,  # type: ignore[no-untyped-def]
) -> None:
    _configure(settings, receiver.url)

    customer = client.v1.customers.create(params={"name": "Wasla billing"}).id
    method = client.v1.payment_methods.attach("pm_card_visa", params={"customer": customer})

    (delivery,) = receiver.deliveries
    event = delivery.verified(SIGNING_SECRET)  # raises unless signed with the configured secret
    assert (event.type, event.data.object.id) == ("payment_method.attached", method.id)
    (endpoint,) = client.v1.webhook_endpoints.list().data
    assert (endpoint.url, endpoint.enabled_events) == (receiver.url, ["payment_method.attached"])
    other = other_client.v1.customers.create(params={"name": "another account"}).id
    other_client.v1.payment_methods.attach("pm_card_visa", params={"customer": other})
    assert StripeWebhookEndpoint.objects.count() == 1
    assert len(receiver.deliveries) == 1

    # The demo moved to another port: the same endpoint follows, nothing is added.
    with receiver_serving() as moved:
        _configure(settings, moved.url)
        client.v1.payment_methods.attach("pm_card_visa", params={"customer": customer})
        assert len(moved.deliveries) == 1
        moved.deliveries[0].verified(SIGNING_SECRET)
    assert len(receiver.deliveries) == 1
    assert StripeWebhookEndpoint.objects.get().id == endpoint.id
