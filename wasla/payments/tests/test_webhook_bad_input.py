"""Bad input at every webhook URL (Tap, Stripe, PayPal, cash on delivery), unsigned and — where
the test can sign — correctly signed: each class answers a 4xx problem+json response, never a
5xx, stores no `received` event and changes no payment. A valid signed delivery is accepted with
or without the URL's trailing slash."""

from __future__ import annotations

import json
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from sandbox.paypal_sim.signing import certificate_path, sign_headers
from sandbox.stripe_sim.signing import stripe_signature_header
from sandbox.tap_sim.signing import tap_hashstring
from testsupport.factories import make_attempt, make_cod_config
from wasla.common.problems import PROBLEM_CONTENT_TYPE
from wasla.payments.gateways import gateway_config_connect
from wasla.payments.models import PaymentAttempt, PaymentGatewayConfig, WebhookEvent
from wasla.settlement.models import SettlementRecord

AMOUNT = '"__AMOUNT__"'  # where a case writes its own amount literal
HUGE_ID = "i" * 10 * 1024


@dataclass(frozen=True)
class Case:
    """One class of bad input: how it changes the valid delivery's JSON text, the request's
    content type, or its URL."""

    body: Callable[[str], str] = lambda text: text
    amount: str | None = None  # the literal written where the valid delivery has its amount
    long_id: bool = False
    content_type: str = "application/json"
    url: Callable[[str], str] = lambda url: url


def _extra(fragment: str) -> Callable[[str], str]:
    """One more member in the delivery's top-level object."""
    return lambda text: text[:-1] + ", " + fragment + "}"


CASES = {
    "nested_10000_deep": Case(body=_extra('"deep": ' + "[" * 10_000 + "]" * 10_000)),
    "nul_byte_in_body": Case(body=_extra('"note": "a\x00b"')),
    "nul_in_json_string": Case(body=_extra('"note": "a\\u0000b"')),
    "one_mb_string": Case(body=_extra('"note": "' + "x" * (1 << 20) + '"')),
    "amount_10_pow_30": Case(amount=str(10**30)),
    "amount_1e309": Case(amount="1e309"),
    "amount_nan": Case(amount="NaN"),
    "duplicated_key": Case(body=lambda text: text[:-1] + ', "id": "again"}'),
    "ten_kb_id": Case(long_id=True),
    "text_plain": Case(content_type="text/plain"),
    "form_encoded": Case(content_type="application/x-www-form-urlencoded"),
    "no_trailing_slash_bad_body": Case(
        body=_extra('"deep": ' + "[" * 10_000 + "]" * 10_000), url=lambda url: url.rstrip("/")
    ),
    "nul_in_provider_path": Case(url=lambda url: url.replace("/webhooks/", "/webhooks/x", 1)),
    "unknown_token": Case(url=lambda url: url.rsplit("/", 2)[0] + f"/{uuid.uuid4()}/"),
}


@dataclass
class Target:
    """One gateway's webhook URL, a valid delivery to it, and the pending attempt it pays."""

    config: PaymentGatewayConfig
    attempt: PaymentAttempt
    valid: dict[str, Any]
    id_path: tuple[str, ...]
    amount_path: tuple[str, ...]
    sign: Callable[[bytes, dict[str, Any]], dict[str, str]] | None
    unsigned: dict[str, str] = field(default_factory=dict)

    def body(self, case: Case) -> bytes:
        obj = json.loads(json.dumps(self.valid))
        if case.amount is not None:
            _set(obj, self.amount_path, "__AMOUNT__")
        if case.long_id:
            _set(obj, self.id_path, HUGE_ID)
        text = case.body(json.dumps(obj))
        if case.amount is not None:
            text = text.replace(AMOUNT, case.amount)
        return text.encode()

    def url(self, case: Case) -> str:
        url = reverse(
            "webhook",
            kwargs={"provider": self.config.provider, "token": self.config.webhook_token},
        )
        provider = self.config.provider
        return case.url(url).replace(f"/webhooks/x{provider}/", f"/webhooks/{provider}%00/")


def _set(obj: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    for key in path[:-1]:
        obj = obj[key]
    obj[path[-1]] = value


def _meta(headers: dict[str, str]) -> dict[str, str]:
    return {"HTTP_" + k.upper().replace("-", "_"): v for k, v in headers.items()}


def _pending_attempt(config: PaymentGatewayConfig, reference: str) -> PaymentAttempt:
    return make_attempt(
        config,
        status=PaymentAttempt.Status.PENDING,
        idempotency_key=uuid.uuid4().hex,
        provider_reference=reference,
    )


def _tap_sign(config: PaymentGatewayConfig) -> Callable[[bytes, dict[str, Any]], dict[str, str]]:
    def sign(body: bytes, valid: dict[str, Any]) -> dict[str, str]:
        # Tap signs fields, not bytes: sign what a lenient reader makes of the body, or, where
        # even that fails, the valid charge's fields (still a correct signature for them).
        try:
            charge = json.loads(body, parse_float=Decimal, parse_int=Decimal)
            return {"hashstring": tap_hashstring(charge, config.secret_key)}
        except (ValueError, RecursionError, ArithmeticError, TypeError, AttributeError):
            return {"hashstring": tap_hashstring(valid, config.secret_key)}

    return sign


def tap_target(config: PaymentGatewayConfig) -> Target:
    attempt = _pending_attempt(config, "chg_TS" + uuid.uuid4().hex[:20])
    valid = {
        "id": attempt.provider_reference,
        "object": "charge",
        "amount": "100.00",
        "currency": "SAR",
        "status": "CAPTURED",
        "reference": {"transaction": str(attempt.id), "gateway": "", "payment": ""},
        "transaction": {"created": "1700000000000"},
    }
    return Target(
        config, attempt, valid, ("id",), ("amount",), _tap_sign(config), {"hashstring": "0" * 64}
    )


def stripe_target(config: PaymentGatewayConfig) -> Target:
    attempt = _pending_attempt(config, "cs_test_" + uuid.uuid4().hex)
    valid = {
        "id": "evt_" + uuid.uuid4().hex,
        "object": "event",
        "created": int(time.time()),
        "type": "checkout.session.completed",
        "data": {
            "object": {
                "id": attempt.provider_reference,
                "object": "checkout.session",
                "amount_total": 10000,
                "currency": "sar",
                "status": "complete",
                "payment_status": "paid",
                "client_reference_id": str(attempt.id),
                "payment_intent": "pi_" + uuid.uuid4().hex,
            }
        },
    }

    def sign(body: bytes, _valid: dict[str, Any]) -> dict[str, str]:
        return {"stripe-signature": stripe_signature_header(body, config.webhook_secret)}

    return Target(
        config,
        attempt,
        valid,
        ("id",),
        ("data", "object", "amount_total"),
        sign,
        {"stripe-signature": "t=1,v1=" + "0" * 64},
    )


def paypal_target(config: PaymentGatewayConfig, cert_url: str, dead_cert_url: str) -> Target:
    attempt = _pending_attempt(config, uuid.uuid4().hex[:17].upper())
    valid = {
        "id": "WH-" + uuid.uuid4().hex,
        "event_type": "PAYMENT.CAPTURE.COMPLETED",
        "resource_version": "2.0",
        "resource": {
            "id": uuid.uuid4().hex[:17].upper(),
            "status": "COMPLETED",
            "amount": {"currency_code": "SAR", "value": "100.00"},
            "custom_id": str(attempt.id),
            "supplementary_data": {"related_ids": {"order_id": attempt.provider_reference}},
        },
    }

    def sign(body: bytes, _valid: dict[str, Any]) -> dict[str, str]:
        headers = sign_headers(body, config.webhook_secret, cert_url)
        return {k: v for k, v in headers.items() if k != "Content-Type"}

    # Unsigned: a made-up signature whose certificate cannot be fetched, so the provider falls
    # back to PayPal's verification API, which reads the body first.
    forged = sign_headers(b"{}", "WH-SOMEONE-ELSE", dead_cert_url)
    unsigned = {k: v for k, v in forged.items() if k != "Content-Type"}
    return Target(config, attempt, valid, ("id",), ("resource", "amount", "value"), sign, unsigned)


def cod_target(config: PaymentGatewayConfig) -> Target:
    attempt = _pending_attempt(config, "cod_" + uuid.uuid4().hex)
    valid = {"id": "cod-" + uuid.uuid4().hex, "amount": "100.00", "status": "collected"}
    return Target(config, attempt, valid, ("id",), ("amount",), None)


def send(target: Target, case: Case, *, signed: bool) -> Any:
    body = target.body(case)
    headers = target.unsigned
    if signed:
        assert target.sign is not None
        headers = target.sign(body, target.valid)
    return Client().post(target.url(case), body, content_type=case.content_type, **_meta(headers))


def assert_refused(target: Target, response: Any, label: str) -> None:
    assert 400 <= response.status_code < 500, (label, response.status_code, response.content)
    assert response["Content-Type"] == PROBLEM_CONTENT_TYPE, (label, response["Content-Type"])
    assert response.json()["status"] == response.status_code, label
    assert not WebhookEvent.objects.filter(status=WebhookEvent.Status.RECEIVED).exists(), label
    target.attempt.refresh_from_db()
    assert target.attempt.status == PaymentAttempt.Status.PENDING, label
    assert not SettlementRecord.objects.exists(), label


@pytest.fixture
def cod_config(tenant) -> PaymentGatewayConfig:
    return make_cod_config(tenant)


@pytest.mark.django_db
@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize(
    ("provider", "signed"),
    [("tap", False), ("tap", True), ("stripe", False), ("stripe", True), ("cod", False)],
)
def test_bad_input_answers_a_problem_and_changes_nothing(
    tap_config, stripe_config, cod_config, provider, signed, case
):
    target = {
        "tap": lambda: tap_target(tap_config),
        "stripe": lambda: stripe_target(stripe_config),
        "cod": lambda: cod_target(cod_config),
    }[provider]()
    response = send(target, CASES[case], signed=signed)
    assert_refused(target, response, case)


@pytest.mark.django_db
@pytest.mark.parametrize("provider", ["tap", "stripe"])
def test_a_valid_delivery_is_accepted_with_or_without_the_trailing_slash(
    tap_config, stripe_config, provider
):
    target = tap_target(tap_config) if provider == "tap" else stripe_target(stripe_config)
    without = send(target, Case(url=lambda url: url.rstrip("/")), signed=True)
    assert without.status_code == 200, without.content
    assert without.json() == {"status": "accepted"}
    again = send(target, Case(), signed=True)
    assert again.json() == {"status": "duplicate"}  # the same endpoint, the same event
    assert WebhookEvent.objects.get().status == WebhookEvent.Status.RECEIVED


@pytest.mark.django_db
def test_a_signed_stripe_session_of_10_pow_30_is_refused_and_kept_for_audit(stripe_config):
    target = stripe_target(stripe_config)
    response = send(target, CASES["amount_10_pow_30"], signed=True)
    assert response.status_code == 422
    assert response.json()["type"].endswith("/unreadable-payload")
    audit = WebhookEvent.objects.get()
    assert (audit.status, audit.signature_valid) == (WebhookEvent.Status.FAILED, True)
    assert audit.event_id.startswith("sha256:")
    assert audit.error.startswith("unreadable:")
    # Sent again (providers retry a 4xx): still one audit row.
    assert send(target, CASES["amount_10_pow_30"], signed=True).status_code == 422
    assert WebhookEvent.objects.count() == 1


@pytest.mark.django_db
def test_a_signed_tap_charge_with_a_10_kb_id_keeps_an_audit_row_that_fits(tap_config):
    target = tap_target(tap_config)
    response = send(target, CASES["ten_kb_id"], signed=True)
    assert response.status_code == 422, response.content
    assert "event id is longer than 255" in response.json()["detail"]
    audit = WebhookEvent.objects.get()
    assert audit.status == WebhookEvent.Status.FAILED
    assert len(audit.event_id) < 255


@pytest.mark.django_db(transaction=True)
def test_bad_input_at_the_paypal_webhook(sandbox, tenant):
    config = gateway_config_connect(
        tenant=tenant,
        provider="paypal",
        mode="sandbox",
        public_key="client-" + uuid.uuid4().hex[:8],
        secret_key="secret-" + uuid.uuid4().hex,
    )
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    dead = f"http://127.0.0.1:{closed.getsockname()[1]}{certificate_path()}"
    closed.close()
    target = paypal_target(config, sandbox + certificate_path(), dead)
    for name, case in sorted(CASES.items()):
        for signed in (False, True):
            response = send(target, case, signed=signed)
            assert_refused(target, response, f"{name} signed={signed}")
    without = send(target, Case(url=lambda url: url.rstrip("/")), signed=True)
    assert without.status_code == 200, without.content
    assert without.json() == {"status": "accepted"}
