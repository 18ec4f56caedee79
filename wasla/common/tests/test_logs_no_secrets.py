"""Acceptance: the log of a full end-to-end run holds no secret key, webhook secret, card number
or OTP. The run: the demo seeded (gateways connected over HTTP, two months of payments
invoiced, cleared with the ZATCA simulator, nakheel's invoices collected by card through the
billing webhook), then checkouts through the sandbox hosted pages and their signed webhooks
(Tap card and STC Pay with an OTP, Stripe, PayPal), a refund, and qahwa saving a billing card
by its number (with 3-D Secure). Every line, the live server's included, is written as JSON at
DEBUG to a file, which is then read back and searched for each secret the run used."""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from django.conf import settings as django_settings

from testsupport.billing import card_saved
from testsupport.demo import seed_demo_json
from testsupport.factories import api_client_for
from wasla.common.observability.logs import structured_formatter
from wasla.invoicing.models import BillingCard
from wasla.payments.models import PaymentAttempt
from wasla.payments.tests.hosted import pay_on_hosted_page
from wasla.tenants.models import Tenant

pytestmark = [pytest.mark.django_db(transaction=True)]

PAN = "4000002760003184"  # the sandbox's card that asks for 3-D Secure (Luhn-valid)
OTP = "739164"
QUIET_LOGGERS = ("httpx", "httpcore", "stripe", "django.server", "django.request")


@pytest.fixture
def debug_log(tmp_path: Path) -> Iterator[Path]:
    """Every log record of the process at DEBUG, as production writes it (JSON), to a file."""
    path = tmp_path / "run.log"
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(structured_formatter("json"))
    handler.setLevel(logging.DEBUG)
    root = logging.getLogger()
    saved = {name: logging.getLogger(name).level for name in QUIET_LOGGERS}
    saved_root = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.DEBUG)
    try:
        yield path
    finally:
        root.removeHandler(handler)
        handler.close()
        root.setLevel(saved_root)
        for name, level in saved.items():
            logging.getLogger(name).setLevel(level)


@pytest.fixture
def demo_billing(sandbox: str, settings: Any) -> str:
    """Billing as the demo configures it (see storefront's test_seed_demo)."""
    settings.WASLA_BILLING_STRIPE_WEBHOOK_SECRET = "whsec_logsTestBillingSecret00000001"
    settings.WASLA_COLLECTION_SCHEDULE_DAYS = [0, 1, 3]
    settings.SANDBOX_STRIPE_ACCOUNTS = [
        {
            "secret_key": settings.WASLA_BILLING_STRIPE_SECRET_KEY,
            "webhook_endpoints": [
                {
                    "url": f"{sandbox}/webhooks/billing/stripe/",
                    "secret": settings.WASLA_BILLING_STRIPE_WEBHOOK_SECRET,
                    "enabled_events": ["payment_intent.succeeded", "setup_intent.succeeded"],
                }
            ],
        }
    ]
    return sandbox


def _checkout(http: httpx.Client, provider: str, method: str) -> dict[str, Any]:
    order = http.post(
        "/api/v1/orders/",
        json={
            "reference": f"LOG-{uuid.uuid4().hex[:8]}",
            "amount": "100.00",
            "customer_phone": "+966557877988",
            "customer_email": "buyer@example.com",
        },
        headers={"Idempotency-Key": uuid.uuid4().hex},
    )
    assert order.status_code == 201, order.text
    payment = http.post(
        "/api/v1/payments/",
        json={
            "order": order.json()["id"],
            "provider": provider,
            "method": method,
            "return_url": "https://shop.example/thanks",
        },
        headers={"Idempotency-Key": uuid.uuid4().hex},
    )
    assert payment.status_code == 201, payment.text
    return dict(payment.json())


def _secrets(seeded: dict[str, Any]) -> dict[str, str]:
    found = {
        "DJANGO_SECRET_KEY": django_settings.SECRET_KEY,
        "billing secret key": django_settings.WASLA_BILLING_STRIPE_SECRET_KEY,
        "billing webhook secret": django_settings.WASLA_BILLING_STRIPE_WEBHOOK_SECRET,
        "staff password": seeded["staff"]["password"],
    }
    for n, key in enumerate(django_settings.WASLA_ENCRYPTION_KEYS):
        found[f"encryption key {n}"] = key
    for tenant in seeded["tenants"]:
        found[f"{tenant['slug']} API token"] = tenant["api_token"]
        for gateway in tenant["gateways"]:
            for field in ("secret_key", "webhook_secret"):
                if gateway.get(field):
                    found[f"{tenant['slug']} {gateway['provider']} {field}"] = gateway[field]
    for user in seeded["merchant_users"]:
        found[f"{user['username']} password"] = user["password"]
    return found


def test_the_log_of_a_full_run_holds_no_secret_card_number_or_otp(debug_log, demo_billing):
    seeded = seed_demo_json()
    nakheel = next(t for t in seeded["tenants"] if t["slug"] == "nakheel")
    with httpx.Client(
        base_url=demo_billing,
        headers={"Authorization": f"Bearer {nakheel['api_token']}"},
        timeout=30,
    ) as http:
        paid = []
        for provider, method, otp in (
            ("tap", "card", None),
            ("tap", "stcpay", OTP),
            ("stripe", "card", None),
            ("paypal", "paypal", None),
        ):
            payment = _checkout(http, provider, method)
            pay_on_hosted_page(payment["redirect_url"], "succeed", otp=otp)
            paid.append(payment["id"])
        refund = http.post(
            f"/api/v1/payments/{paid[0]}/refunds/",
            json={"amount": "30.00"},
            headers={"Idempotency-Key": uuid.uuid4().hex},
        )
        assert refund.status_code in (200, 201), refund.text
    qahwa = Tenant.objects.get(slug="qahwa")
    card_saved(api_client_for(qahwa), PAN)

    # The run did what it says: every payment paid (through its webhook), the card saved.
    statuses = dict(PaymentAttempt.objects.filter(pk__in=paid).values_list("pk", "status"))
    assert sorted(statuses.values()) == ["paid", "paid", "paid", "partially_refunded"]
    assert BillingCard.objects.filter(tenant=qahwa).exists()

    text = debug_log.read_text(encoding="utf-8")
    lines = [json.loads(line) for line in text.splitlines() if line.strip()]
    # The log is the real thing: JSON lines, from the requests, the tasks and the services,
    # carrying the request, the tenant, the payment and the webhook event.
    assert len(lines) > 100
    assert any(line.get("event") == "request" and line.get("request_id") for line in lines)
    assert any(line.get("tenant") and line.get("payment_attempt") for line in lines)
    assert any(line.get("webhook_event") for line in lines)

    leaked = {name for name, secret in _secrets(seeded).items() if secret and secret in text}
    assert leaked == set()
    for shape in (PAN, " ".join(PAN[i : i + 4] for i in range(0, 16, 4))):
        assert shape not in text
    assert not re.search(rf"(?<![0-9A-Za-z.]){OTP}(?![0-9A-Za-z])", text)
