"""Error reports: sentry-sdk starts only with SENTRY_DSN, and what it would send (captured by a
fake transport, as envelopes) has no secret and no personal data left."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import sentry_sdk
from sentry_sdk.envelope import Envelope
from sentry_sdk.transport import Transport

from wasla.common.observability.sentry import scrub_event, sentry_init

SECRETS = (
    "sk_live_51SecretKeyOfTheMerchant",
    "whsec_TheWebhookSigningSecret",
    "4242424242424242",
    "buyer@example.com",
    "+966557877988",
    "0557877988",
    "Fatimah Al-Harbi",
    "King Fahd Road 1234",
    "SA0380000000608010167519",
    "hunter2",
    "739164",
)


class CapturingTransport(Transport):
    """Keeps the envelopes the SDK would send."""

    def __init__(self, options: dict[str, Any] | None = None) -> None:
        super().__init__(options)
        self.envelopes: list[Envelope] = []

    def capture_envelope(self, envelope: Envelope) -> None:
        self.envelopes.append(envelope)


@pytest.fixture
def transport() -> Iterator[CapturingTransport]:
    captured = CapturingTransport()
    assert sentry_init(dsn="https://public@sentry.example/1", transport=captured)
    try:
        yield captured
    finally:
        sentry_sdk.get_client().close()
        sentry_sdk.init()  # no DSN: the SDK off again for the rest of the run


def _sent(transport: CapturingTransport) -> list[dict[str, Any]]:
    sentry_sdk.flush()
    return [
        item.payload.json
        for envelope in transport.envelopes
        for item in envelope.items
        if item.payload.json is not None
    ]


def test_nothing_starts_without_a_dsn():
    assert sentry_init(dsn="") is False
    assert not sentry_sdk.get_client().is_active()


def test_a_reported_error_carries_no_secret_and_no_personal_data(transport):
    sentry_sdk.set_user({"id": "42", "email": "buyer@example.com", "username": "Fatimah Al-Harbi"})
    sentry_sdk.set_context(
        "order",
        {
            "customer_name": "Fatimah Al-Harbi",
            "delivery_address": "King Fahd Road 1234",
            "customer_phone": "+966557877988",
            "amount": "100.00",
        },
    )
    sentry_sdk.set_extra("gateway", {"secret_key": "sk_live_51SecretKeyOfTheMerchant"})
    sentry_sdk.set_extra("iban", "SA0380000000608010167519")
    sentry_sdk.add_breadcrumb(
        category="http", message="POST with password=hunter2 and otp=739164", level="info"
    )
    try:
        raise ValueError(
            "charge for buyer@example.com (0557877988) with 4242424242424242 signed "
            "whsec_TheWebhookSigningSecret failed"
        )
    except ValueError as exc:
        sentry_sdk.capture_exception(exc)

    events = [e for e in _sent(transport) if e.get("exception")]
    assert len(events) == 1
    text = json.dumps(events[0])
    assert [s for s in SECRETS if s in text] == []
    event = events[0]
    # What is needed to act on it is still there.
    assert event["exception"]["values"][0]["type"] == "ValueError"
    assert "[redacted]" in event["exception"]["values"][0]["value"]
    assert event["user"] == {"id": "42"}
    assert event["contexts"]["order"]["amount"] == "100.00"


def test_a_request_is_reduced_to_what_is_harmless():
    event = scrub_event(
        {
            "request": {
                "url": "https://wasla.example/api/v1/payments/",
                "method": "POST",
                "query_string": "token=abc",
                "cookies": {"sessionid": "s"},
                "data": {"card_number": "4242424242424242"},
                "headers": {
                    "Authorization": "Bearer abc",
                    "Cookie": "sessionid=s",
                    "Content-Type": "application/json",
                    "X-Request-ID": "req-1",
                },
                "env": {"REMOTE_ADDR": "10.0.0.1"},
            }
        }
    )
    assert event["request"] == {
        "url": "https://wasla.example/api/v1/payments/",
        "method": "POST",
        "query_string": "[redacted]",
        "headers": {"Content-Type": "application/json", "X-Request-ID": "req-1"},
    }
