"""Tap webhooks: the hashstring signature (known answers), rejection of forged deliveries, and
exactly-once effects under concurrent duplicate deliveries (real threads, own connections)."""

from __future__ import annotations

import hashlib
import hmac
import json
from decimal import Decimal

import httpx
import pytest
from django.test import Client
from django.urls import reverse

from sandbox.tap_sim.signing import tap_hashstring
from testsupport.factories import make_attempt, make_order
from testsupport.threads import in_threads
from wasla.orders.models import Order
from wasla.payments.models import PaymentAttempt, WebhookEvent
from wasla.payments.orchestrator import PaymentOrchestrator
from wasla.payments.providers.base import PaymentStatus, WebhookRequest
from wasla.payments.providers.tap import hashstring, loads
from wasla.payments.services import payment_apply_result, payment_checkout
from wasla.settlement.models import SettlementRecord
from wasla.tenants.context import tenant_context

from .hosted import pay_on_hosted_page

SECRET = "sk_test_XKokBfNWv6FIYuTMg5sLPjhJ"

SAR_CHARGE = {
    "id": "chg_TS02A5720231433Qs1w0809820",
    "object": "charge",
    "amount": Decimal("1.0"),
    "currency": "SAR",
    "status": "CAPTURED",
    "reference": {"gateway": "123456789", "payment": "2704230919000000000"},
    "transaction": {"created": "1698392202943"},
}
SAR_MESSAGE = (
    "x_idchg_TS02A5720231433Qs1w0809820x_amount1.00x_currencySAR"
    "x_gateway_reference123456789x_payment_reference2704230919000000000"
    "x_statusCAPTUREDx_created1698392202943"
)
SAR_HASH = "5fc3c5b398483086f13e34e03786c1aac7e5d08409ac6f1392b8e29821ba0364"
KWD_HASH = "ea6b12dcd82117e1eaaedf728861747f45cb5af8f7224fd142d5e3383ef35f76"


def test_hashstring_known_answer_sar_amount_formatted_to_two_decimals():
    expected = hmac.new(SECRET.encode(), SAR_MESSAGE.encode(), hashlib.sha256).hexdigest()
    assert hashstring(SAR_CHARGE, SECRET) == expected
    assert hashstring(SAR_CHARGE, SECRET) == SAR_HASH


def test_hashstring_known_answer_kwd_amount_formatted_to_three_decimals():
    charge = {**SAR_CHARGE, "amount": Decimal("1.5"), "currency": "KWD", "reference": {}}
    message = (
        "x_idchg_TS02A5720231433Qs1w0809820x_amount1.500x_currencyKWD"
        "x_gateway_referencex_payment_referencex_statusCAPTUREDx_created1698392202943"
    )
    assert (
        hashstring(charge, SECRET)
        == hmac.new(SECRET.encode(), message.encode(), hashlib.sha256).hexdigest()
    )
    assert hashstring(charge, SECRET) == KWD_HASH


def test_product_and_sandbox_sign_identically():
    for charge in (SAR_CHARGE, {**SAR_CHARGE, "amount": Decimal("12.5"), "currency": "BHD"}):
        assert hashstring(charge, SECRET) == tap_hashstring(charge, SECRET)


def _request(body: bytes, signature: str | None) -> WebhookRequest:
    return WebhookRequest(
        body=body, headers={"hashstring": signature} if signature is not None else {}
    )


def test_validate_webhook_accepts_only_the_exact_signed_body(tap_config):
    provider = PaymentOrchestrator().provider(tap_config)
    body = json.dumps({**SAR_CHARGE, "amount": 1.0}).encode()
    good = hashstring(loads(body), tap_config.secret_key)
    assert provider.validate_webhook(_request(body, good))
    assert provider.validate_webhook(_request(body, good.upper()))
    tampered = body.replace(b'"CAPTURED"', b'"DECLINED"')
    assert not provider.validate_webhook(_request(tampered, good))
    assert not provider.validate_webhook(_request(body.replace(b"1.0", b"100.0"), good))
    assert not provider.validate_webhook(_request(body, hashstring(loads(body), "sk_test_other")))
    assert not provider.validate_webhook(_request(body, None))
    assert not provider.validate_webhook(_request(body, ""))
    assert not provider.validate_webhook(_request(b"{not json", good))


@pytest.mark.django_db
@pytest.mark.parametrize("forgery", ["tampered", "wrong_key", "missing_header", "not_json"])
def test_forged_webhook_is_rejected_logged_and_changes_nothing(tap_config, forgery):
    order = make_order(tap_config.tenant)
    attempt = make_attempt(
        tap_config, order, idempotency_key="k1", provider_reference="chg_TSforged1"
    )
    charge = {**SAR_CHARGE, "id": "chg_TSforged1", "amount": Decimal("100.00")}
    body = json.dumps({**charge, "amount": 100.0}).encode()
    signature = hashstring(charge, tap_config.secret_key)
    headers = {"HTTP_HASHSTRING": signature}
    if forgery == "tampered":
        body = body.replace(b"100.0", b"1.0")
    elif forgery == "wrong_key":
        headers = {"HTTP_HASHSTRING": hashstring(charge, "sk_test_attacker")}
    elif forgery == "missing_header":
        headers = {}
    else:
        body = b'{"id": "chg_TSforged1", "status": "CAPTURED"'
    url = reverse("webhook", kwargs={"provider": "tap", "token": tap_config.webhook_token})

    response = Client().post(url, body, content_type="application/json", **headers)

    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    rejected = WebhookEvent.objects.get()
    assert (rejected.status, rejected.signature_valid) == ("rejected", False)
    attempt.refresh_from_db()
    assert attempt.status == "created"
    assert Order.objects.get(pk=order.pk).status == "pending"
    assert not SettlementRecord.objects.exists()


@pytest.mark.django_db
def test_unknown_endpoint_and_wrong_method(tap_config):
    client = Client()
    url = reverse("webhook", kwargs={"provider": "tap", "token": tap_config.webhook_token})
    assert client.get(url).status_code == 405
    wrong_provider = url.replace("/tap/", "/stripe/")
    assert client.post(wrong_provider, b"{}", content_type="application/json").status_code == 404
    assert (
        client.post("/webhooks/tap/not-a-uuid/", b"{}", content_type="application/json").status_code
        == 404
    )
    huge = b"{" + b" " * (300 * 1024) + b"}"
    response = client.post(url, huge, content_type="application/json")
    assert response.status_code == 413
    assert not WebhookEvent.objects.exists()


def _captured_without_webhook(sandbox: str, tenant, config) -> tuple[PaymentAttempt, bytes, str]:
    """A pending attempt whose charge is captured at the sandbox; its webhook not yet sent."""
    httpx.post(f"{sandbox}/sandbox/tap/_control/", json={"webhook": "drop"}).raise_for_status()
    order = make_order(tenant)
    attempt = payment_checkout(
        tenant=tenant,
        order_id=order.id,
        provider="tap",
        method="mada",
        return_url="",
        client_key=f"race-{order.id}",
    )
    pay_on_hosted_page(attempt.redirect_url, "succeed")
    charge = httpx.get(
        f"{sandbox}/sandbox/tap/v2/charges/{attempt.provider_reference}",
        headers={"Authorization": f"Bearer {config.secret_key}"},
    )
    charge.raise_for_status()
    body = charge.content
    return attempt, body, tap_hashstring(loads(body), config.secret_key)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("repeat", range(20))
def test_thirty_concurrent_deliveries_pay_once_and_settle_once(sandbox, tenant, tap_config, repeat):
    attempt, body, signature = _captured_without_webhook(sandbox, tenant, tap_config)
    url = reverse("webhook", kwargs={"provider": "tap", "token": tap_config.webhook_token})

    statuses = in_threads(
        30,
        lambda i: (
            Client()
            .post(url, body, content_type="application/json", HTTP_HASHSTRING=signature)
            .status_code
        ),
    )

    assert statuses == [200] * 30
    attempt.refresh_from_db()
    assert attempt.status == "paid"
    assert SettlementRecord.objects.filter(order_id=attempt.order_id).count() == 1
    assert WebhookEvent.objects.filter(signature_valid=True).count() == 1
    assert WebhookEvent.objects.get(signature_valid=True).status == "processed"


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("repeat", range(5))
def test_concurrent_confirmations_of_one_attempt_create_one_settlement(
    sandbox, tenant, tap_config, repeat
):
    attempt, _, _ = _captured_without_webhook(sandbox, tenant, tap_config)
    result = PaymentOrchestrator().verify_payment(tap_config, attempt.provider_reference)
    assert result.status == PaymentStatus.PAID

    def confirm(i: int) -> str:
        # As the webhook task runs it: in the attempt's tenant scope.
        with tenant_context(tenant.pk):
            return payment_apply_result(attempt_id=attempt.id, result=result).status

    outcomes = in_threads(20, confirm)

    assert outcomes == ["paid"] * 20
    assert SettlementRecord.objects.filter(payment_attempt=attempt).count() == 1
    order = Order.objects.get(pk=attempt.order_id)
    assert order.status == "paid"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body", [b"\x00\xff\xfe garbage", b"", b"[]", b'{"id": null}', b"\xc3\x28"]
)
def test_junk_bodies_are_rejected_and_kept_for_audit(tap_config, body):
    url = reverse("webhook", kwargs={"provider": "tap", "token": tap_config.webhook_token})
    response = Client().post(url, body, content_type="application/json", HTTP_HASHSTRING="ab" * 32)
    assert response.status_code == 401
    assert WebhookEvent.objects.get().status == "rejected"


@pytest.mark.django_db(transaction=True)
def test_a_validly_signed_capture_is_not_believed_until_the_refetch_confirms_it(
    sandbox, tenant, tap_config
):
    """The hashstring only proves the body came from someone holding the secret key; the state
    change waits for Tap's own answer to GET /v2/charges/{id}. A signed "CAPTURED" for a charge
    the customer never paid (a leaked key, a replayed body edited and re-signed) pays nothing."""
    order = make_order(tenant)
    attempt = payment_checkout(
        tenant=tenant,
        order_id=order.id,
        provider="tap",
        method="mada",
        return_url="",
        client_key=f"refetch-{order.id}",
    )
    charge = loads(
        httpx.get(
            f"{sandbox}/sandbox/tap/v2/charges/{attempt.provider_reference}",
            headers={"Authorization": f"Bearer {tap_config.secret_key}"},
        ).content
    )
    assert charge["status"] != "CAPTURED"  # not paid at Tap
    claimed = {**charge, "status": "CAPTURED"}
    body = json.dumps(claimed, default=str).encode()
    url = reverse("webhook", kwargs={"provider": "tap", "token": tap_config.webhook_token})

    response = Client().post(
        url,
        body,
        content_type="application/json",
        HTTP_HASHSTRING=tap_hashstring(loads(body), tap_config.secret_key),
    )

    assert response.status_code == 200  # authentic enough to keep, not enough to act on
    event = WebhookEvent.objects.get()
    # Processed: Tap, asked directly, says the charge is not captured, so nothing moved.
    assert (event.signature_valid, event.status) == (True, "processed")
    attempt.refresh_from_db()
    assert attempt.status == "pending"
    assert Order.objects.get(pk=order.pk).status == "pending"
    assert not SettlementRecord.objects.exists()
