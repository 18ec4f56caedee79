"""The load mix (locust, headless; chaos/test_load.py runs it):

- merchants' servers (API token): create an order, check out through the Stripe sandbox, the
  customer pays on the hosted page (card, then 3-D Secure), whose submission makes the
  simulator deliver the signed `checkout.session.completed`; the server waits for the payment
  to read paid, then redelivers the event twice as providers do (signed again, same event id);
  refunds of part of a paid payment; list reads;
- merchants' owners in the portal (signed in): overview, payments, settlements;
- Wasla staff in the dashboard (signed in): home and payments.

Every response below 400 counts as a success (the hosted pages answer redirects, read as
such); a payment not paid in time is a failure. Configuration from the environment:
WASLA_LOAD_SEED (the JSON chaos/load_seed.py wrote), WASLA_LOAD_VERIFY (a CA bundle or "0").
"""

from __future__ import annotations

import json
import os
import random
import secrets
import time
import uuid
from pathlib import Path
from typing import Any

from locust import HttpUser, between, task

from chaos.load_support import portal_login, staff_login
from sandbox.stripe_sim.signing import stripe_signature_header

SEED: dict[str, Any] = json.loads(Path(os.environ["WASLA_LOAD_SEED"]).read_text())
_verify = os.environ.get("WASLA_LOAD_VERIFY", "1")
VERIFY: bool | str = {"0": False, "1": True}.get(_verify, _verify)
PAID_WITHIN = float(os.environ.get("WASLA_LOAD_PAID_WITHIN", "30"))  # seconds
REDELIVERIES = 2


class Merchant(HttpUser):
    """A merchant's server on the API, and its customers on the provider's hosted page."""

    weight = 6
    wait_time = between(0.05, 0.3)

    def on_start(self) -> None:
        self.client.verify = VERIFY
        self.tenant = random.choice(SEED["tenants"])
        self.client.headers["Authorization"] = f"Bearer {self.tenant['token']}"
        self.paid: list[str] = []

    def _post(self, path: str, body: dict[str, Any], name: str) -> Any:
        headers = {"Idempotency-Key": uuid.uuid4().hex, "Content-Type": "application/json"}
        return self.client.post(path, data=json.dumps(body), headers=headers, name=name)

    @task(4)
    def checkout(self) -> None:
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
                "provider": "stripe",
                "method": "card",
                "return_url": "https://shop.example/thanks",
            },
            "/api/v1/payments/",
        )
        if payment.status_code != 201:
            return
        attempt = payment.json()
        page = attempt["redirect_url"]
        # The customer: the card page sends to 3-D Secure, whose success settles the session
        # and makes the simulator deliver the signed webhook before redirecting back.
        self.client.post(
            page,
            data={"outcome": "succeed"},
            allow_redirects=False,
            name="sandbox /pay/[session]/",
        )
        self.client.post(
            page.rstrip("/") + "/3ds/",
            data={"outcome": "succeed"},
            allow_redirects=False,
            name="sandbox /pay/[session]/3ds/ (sends the webhook)",
        )
        if self._wait_paid(attempt["id"]):
            self.paid.append(attempt["id"])
            self._redeliver(attempt["provider_reference"])

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

    def _redeliver(self, session_id: str) -> None:
        """What a provider does after a timeout on its side: the same event, signed again."""
        stripe = self.tenant["stripe"]
        session = self.client.get(
            f"/sandbox/stripe/v1/checkout/sessions/{session_id}",
            headers={"Authorization": f"Bearer {stripe['secret_key']}"},
            name="sandbox /v1/checkout/sessions/[id]",
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
            self.client.post(
                stripe["webhook_path"],
                data=body,
                headers={
                    "Content-Type": "application/json",
                    "Stripe-Signature": stripe_signature_header(body, stripe["webhook_secret"]),
                },
                name="/webhooks/stripe/[token]/ (redelivery)",
            )

    @task(1)
    def refund(self) -> None:
        if not self.paid:
            return
        attempt_id = self.paid.pop(0)  # one refund of part of each paid payment
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
        staff_login(self.client, SEED["staff"])

    @task
    def pages(self) -> None:
        for path in ("/dashboard/", "/dashboard/payments/"):
            read_page(self, path)
