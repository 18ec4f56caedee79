"""The load mix (locust, headless; chaos/test_load.py runs it):

- merchants' servers (API token): create an order, check out through the Tap (mada) or Stripe
  (card) simulator, the customer pays on the hosted page (and its 3-D Secure step, when there
  is one), whose submission makes the simulator deliver its signed webhook; the server waits
  for the payment to read paid, then redelivers twice as providers do (signed again: Tap's
  charge, Stripe's `checkout.session.completed` with one event id);
  refunds of part of a paid payment; list reads;
- merchants' owners in the portal (signed in): overview, payments, settlements;
- Wasla staff in the dashboard (signed in): home and payments.

Every response below 400 counts as a success (the hosted pages answer redirects, read as
such); a payment not paid in time is a failure. Configuration from the environment:
WASLA_LOAD_SEED (the JSON chaos/load_seed.py wrote), WASLA_LOAD_VERIFY (a CA bundle or "0"),
WASLA_LOAD_PROVIDERS (comma-separated: tap, stripe).
"""

from __future__ import annotations

import itertools
import json
import os
import random
import secrets
import time
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

from locust import HttpUser, between, task

from chaos.load_support import portal_login, staff_login
from sandbox.stripe_sim.signing import stripe_signature_header
from sandbox.tap_sim.signing import tap_hashstring

SEED: dict[str, Any] = json.loads(Path(os.environ["WASLA_LOAD_SEED"]).read_text())
STAFF_TURN = itertools.count()
_verify = os.environ.get("WASLA_LOAD_VERIFY", "1")
VERIFY: bool | str = {"0": False, "1": True}.get(_verify, _verify)
PAID_WITHIN = float(os.environ.get("WASLA_LOAD_PAID_WITHIN", "30"))  # seconds
REDELIVERIES = 2
REFUND_EVERY = 3  # paid checkouts per refund
PROVIDERS = os.environ.get("WASLA_LOAD_PROVIDERS", "tap,stripe").split(",")
METHODS = {"tap": "mada", "stripe": "card"}


class Merchant(HttpUser):
    """A merchant's server on the API, and its customers on the provider's hosted page."""

    weight = 6
    wait_time = between(0.05, 0.3)

    def on_start(self) -> None:
        self.client.verify = VERIFY
        self.tenant = random.choice(SEED["tenants"])
        self.client.headers["Authorization"] = f"Bearer {self.tenant['token']}"
        self.paid_count = 0

    def _post(self, path: str, body: dict[str, Any], name: str) -> Any:
        headers = {"Idempotency-Key": uuid.uuid4().hex, "Content-Type": "application/json"}
        return self.client.post(path, data=json.dumps(body), headers=headers, name=name)

    @task(4)
    def checkout(self) -> None:
        provider = random.choice(PROVIDERS)
        amount = f"{random.randint(5, 500)}.{random.randint(0, 99):02d}"
        reference = "LOAD-" + secrets.token_hex(6)
        order = self._post(
            "/api/v1/orders/", {"reference": reference, "amount": amount}, "/api/v1/orders/"
        )
        if order.status_code != 201:
            return
        payment = self._post(
            "/api/v1/payments/",
            {
                "order": order.json()["id"],
                "provider": provider,
                "method": METHODS[provider],
                "return_url": "https://shop.example/thanks",
            },
            "/api/v1/payments/",
        )
        if payment.status_code != 201:
            return
        attempt = payment.json()
        self._pay_on_hosted_page(provider, attempt["redirect_url"])
        if self._wait_paid(attempt["id"]):
            REDELIVER[provider](self, attempt["provider_reference"])
            self.paid_count += 1
            if self.paid_count % REFUND_EVERY == 1:
                self._refund(attempt["id"])

    def _pay_on_hosted_page(self, provider: str, page: str) -> None:
        """The customer pays: the card page may send to 3-D Secure; the step that settles the
        payment makes the simulator deliver its signed webhook before redirecting back."""
        for step in ("pay", "3ds"):
            answer = self.client.post(
                page,
                data={"outcome": "succeed"},
                allow_redirects=False,
                name=f"sandbox {provider} /pay/[id]/" + ("3ds/" if step == "3ds" else ""),
            )
            following = urljoin(page, answer.headers.get("Location", ""))
            if "/3ds/" not in following or following == page:
                return
            page = following

    def _wait_paid(self, attempt_id: str) -> bool:
        deadline = time.monotonic() + PAID_WITHIN
        name = "/api/v1/payments/[id]/"
        while True:
            with self.client.get(
                f"/api/v1/payments/{attempt_id}/", name=name, catch_response=True
            ) as answer:
                status = answer.json().get("status") if answer.status_code == 200 else None
                if status == "paid":
                    return True
                if time.monotonic() > deadline:
                    answer.failure(f"payment {attempt_id} is {status!r} after {PAID_WITHIN} s")
                    return False
            time.sleep(0.2)

    def _redeliver_stripe(self, session_id: str) -> None:
        """What a provider does after a timeout on its side: the same event, signed again."""
        stripe = self.tenant["stripe"]
        session = self.client.get(
            f"/sandbox/stripe/v1/checkout/sessions/{session_id}",
            headers={"Authorization": f"Bearer {stripe['secret_key']}"},
            name="sandbox stripe /v1/checkout/sessions/[id]",
        )
        if session.status_code != 200:
            return
        body = json.dumps(
            {
                "id": f"evt_load_{session_id}",
                "object": "event",
                "type": "checkout.session.completed",
                "created": int(time.time()),
                "data": {"object": session.json()},
            }
        ).encode()
        for _ in range(REDELIVERIES):
            signature = stripe_signature_header(body, stripe["webhook_secret"])
            self._deliver(stripe["webhook_path"], body, {"Stripe-Signature": signature}, "stripe")

    def _redeliver_tap(self, charge_id: str) -> None:
        """Tap posts the charge object again, with its hashstring."""
        tap = self.tenant["tap"]
        charge = self.client.get(
            f"/sandbox/tap/v2/charges/{charge_id}",
            headers={"Authorization": f"Bearer {tap['secret_key']}"},
            name="sandbox tap /v2/charges/[id]",
        )
        if charge.status_code != 200:
            return
        body = charge.content
        hashstring = tap_hashstring(json.loads(body, parse_float=Decimal), tap["secret_key"])
        for _ in range(REDELIVERIES):
            self._deliver(tap["webhook_path"], body, {"hashstring": hashstring}, "tap")

    def _deliver(self, path: str, body: bytes, signature: dict[str, str], provider: str) -> None:
        self.client.post(
            path,
            data=body,
            headers={"Content-Type": "application/json", **signature},
            name=f"/webhooks/{provider}/[token]/ (redelivery)",
        )

    def _refund(self, attempt_id: str) -> None:
        """Part of a paid payment back (the first, fourth, ... paid checkout of each user)."""
        self._post(
            f"/api/v1/payments/{attempt_id}/refunds/",
            {"amount": "1.00", "reason": "load run"},
            "/api/v1/payments/[id]/refunds/",
        )

    @task(2)
    def lists(self) -> None:
        self.client.get("/api/v1/payments/?status=paid", name="/api/v1/payments/")
        self.client.get("/api/v1/settlements/", name="/api/v1/settlements/")


def read_page(user: HttpUser, path: str) -> None:
    """A signed-in page: being sent to a sign-in page instead is a failure, not a success."""
    with user.client.get(path, name=path, catch_response=True) as answer:
        if answer.status_code == 200 and "/login/" in answer.url:
            answer.failure(f"{path} sent to the sign-in page")


REDELIVER = {"tap": Merchant._redeliver_tap, "stripe": Merchant._redeliver_stripe}


class PortalOwner(HttpUser):
    """A merchant's owner reading the portal."""

    weight = 1
    wait_time = between(0.2, 1.0)

    def on_start(self) -> None:
        self.client.verify = VERIFY
        portal_login(self.client, random.choice(SEED["tenants"])["owner"])

    @task
    def pages(self) -> None:
        for path in ("/merchant/", "/merchant/payments/", "/merchant/settlements/"):
            read_page(self, path)


class Staff(HttpUser):
    """Wasla staff on the dashboard."""

    weight = 1
    wait_time = between(0.2, 1.0)

    def on_start(self) -> None:
        self.client.verify = VERIFY
        # Each dashboard user its own staff login: a TOTP code is good once.
        staff_login(self.client, SEED["staff"][next(STAFF_TURN) % len(SEED["staff"])])

    @task
    def pages(self) -> None:
        for path in ("/dashboard/", "/dashboard/payments/"):
            read_page(self, path)
