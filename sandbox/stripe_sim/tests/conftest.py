"""Fixtures of the Stripe simulator's HTTP tests: the live server's simulator URL, the official
client for two accounts, a raw HTTP client, the customer's browser, and a webhook receiver with
its registered endpoint."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import stripe

from sandbox.stripe_sim.tests.support import (
    OTHER_SECRET,
    SECRET,
    Endpoint,
    Receiver,
    client_for,
    endpoint_create,
    receiver_serving,
)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with receiver_serving() as state:
        yield state


@pytest.fixture
def stripe_url(live_server: Any) -> str:
    return f"{live_server.url}/sandbox/stripe"


@pytest.fixture
def client(stripe_url: str) -> stripe.StripeClient:
    return client_for(stripe_url)


@pytest.fixture
def other_client(stripe_url: str) -> stripe.StripeClient:
    return client_for(stripe_url, OTHER_SECRET)


@pytest.fixture
def raw(stripe_url: str) -> Iterator[httpx.Client]:
    """The API without the SDK, to send exactly the bytes a test needs."""
    headers = {"Authorization": f"Bearer {SECRET}"}
    with httpx.Client(base_url=stripe_url, headers=headers, timeout=30, trust_env=False) as http:
        yield http


@pytest.fixture
def browser() -> Iterator[httpx.Client]:
    """The customer's browser: no API key, redirects inspected one by one."""
    with httpx.Client(timeout=30, trust_env=False, follow_redirects=False) as http:
        yield http


@pytest.fixture
def endpoint(client: stripe.StripeClient, receiver: Receiver) -> Endpoint:
    return endpoint_create(client, receiver.url)
