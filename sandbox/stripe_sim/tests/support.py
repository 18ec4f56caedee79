"""Helpers of the Stripe simulator's HTTP tests: the webhook receiver's records, the official
client pointed at the live server, Stripe error checks, and a parser for the hosted pages.

The fixtures built on them are in `conftest.py`, shared by every test module here.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import stripe

SECRET = "sk_test_51WaslaSandboxKeyForTheStripeSimulator0001"
OTHER_SECRET = "sk_test_51AnotherMerchantKeyForTheStripeSimulator02"


# Webhook receiver ------------------------------------------------------------------------------


@dataclass
class Delivery:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def event(self) -> dict[str, Any]:
        return json.loads(self.body)

    @property
    def signature(self) -> str:
        return self.headers["stripe-signature"]

    def verified(self, secret: str) -> stripe.Event:
        return stripe.Webhook.construct_event(self.body, self.signature, secret)


@dataclass
class Receiver:
    url: str
    status: int = 200
    deliveries: list[Delivery] = field(default_factory=list)
    # Called while the sandbox waits for the answer, like a merchant fetching the truth back.
    on_delivery: Callable[[Delivery], None] | None = None

    def types(self) -> list[str]:
        return [delivery.event["type"] for delivery in self.deliveries]


@contextmanager
def receiver_serving() -> Iterator[Receiver]:
    """A merchant webhook endpoint on a local port, recording what it receives."""
    state = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            headers = {name.lower(): value for name, value in self.headers.items()}
            delivery = Delivery(self.path, headers, body)
            if state.on_delivery is not None:
                state.on_delivery(delivery)
            # Recorded before answering: the sandbox waits for the answer, so once the hosted
            # page has redirected, the delivery is already in the list.
            state.deliveries.append(delivery)
            self.send_response(state.status)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/webhooks/stripe"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


# API helpers -----------------------------------------------------------------------------------


def client_for(stripe_url: str, api_key: str = SECRET) -> stripe.StripeClient:
    return stripe.StripeClient(api_key, base_addresses={"api": stripe_url})


@dataclass
class Endpoint:
    id: str
    secret: str


def endpoint_create(
    client: stripe.StripeClient, url: str, events: list[str] | None = None
) -> Endpoint:
    created = client.v1.webhook_endpoints.create(
        params={"url": url, "enabled_events": events or ["*"]}
    )
    return Endpoint(created.id, created.secret)


def assert_error(response: httpx.Response, status: int, **expected: Any) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    error = response.json()["error"]
    assert error["message"]
    assert error.get("type") == expected.pop("type", "invalid_request_error")
    for name, value in expected.items():
        assert error.get(name) == value, error
    return error


# Hosted page helpers ---------------------------------------------------------------------------


@dataclass
class Form:
    method: str
    buttons: list[dict[str, str]] = field(default_factory=list)
    inputs: list[dict[str, str]] = field(default_factory=list)


class FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []
        self.inputs_anywhere: list[dict[str, str]] = []
        self._open: Form | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        if tag == "form":
            self._open = Form(method=attributes.get("method", "get").lower())
            self.forms.append(self._open)
        elif tag == "input":
            self.inputs_anywhere.append(attributes)
            if self._open is not None:
                self._open.inputs.append(attributes)
        elif tag == "button" and self._open is not None:
            self._open.buttons.append(attributes)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._open = None
