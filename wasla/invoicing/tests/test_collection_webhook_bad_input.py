"""The billing webhook refuses what it cannot trust or read, and nothing changes: a missing, forged,
mis-keyed or stale Stripe-Signature (401), a signed body that is not a Stripe event (400), a body
declared as something else (415), an oversize body (413), a signed event of ours missing what it
needs (422). Events we do not act on answer 200 and are recorded once; a GET is 405."""

from __future__ import annotations

import time
from datetime import timedelta

import httpx
import pytest

from testsupport.billing import (
    DECLINES_CHARGES,
    ISSUED,
    card_saved,
    day,
    deliver,
    event_body,
    issued_invoice,
    signed,
)
from testsupport.factories import api_client_for
from wasla.invoicing.models import BillingWebhookEvent, CollectionTry, Invoice, InvoicePayment

pytestmark = pytest.mark.django_db(transaction=True)


def _succeeded_body(invoice: Invoice, **overrides: object) -> bytes:
    intent = {
        "id": "pi_3Forged000000000000",
        "object": "payment_intent",
        "amount": 115,
        "amount_received": 115,
        "currency": "sar",
        "status": "succeeded",
        "metadata": {
            "invoice_id": str(invoice.pk),
            "tenant_id": str(invoice.tenant_id),
            "try": "1",
        },
        **overrides,
    }
    return event_body("payment_intent.succeeded", intent, event_id="evt_forged_1")


def _unchanged(invoice: Invoice) -> None:
    invoice.refresh_from_db()
    assert invoice.status == "issued"
    assert not InvoicePayment.objects.exists()
    assert not BillingWebhookEvent.objects.exists()


@pytest.fixture
def invoice(billing: str) -> Invoice:
    invoice = issued_invoice()
    card_saved(api_client_for(invoice.tenant), DECLINES_CHARGES)
    BillingWebhookEvent.objects.all().delete()  # the card's own events
    return invoice


def test_bad_signatures_are_401_and_change_nothing(billing, invoice):
    body = _succeeded_body(invoice)
    stale = int(time.time()) - 301
    for signature in (
        "",  # missing
        "t=1,v1=" + "0" * 64,  # forged
        signed(body, secret="whsec_not_ours"),
        signed(body, timestamp=stale),
        signed(body.replace(b"115", b"999")),  # another body's signature
        "garbage",
    ):
        answer = deliver(billing, body, signature=signature)
        assert answer.status_code == 401, (signature, answer.text)
        assert answer.headers["content-type"] == "application/problem+json"
    tampered = body.replace(b'"amount_received": 115', b'"amount_received": 1')
    assert deliver(billing, tampered, signature=signed(body)).status_code == 401
    _unchanged(invoice)


def test_bad_bodies_are_4xx_and_change_nothing(billing, invoice):
    for body in (b"{", b"[]", b'"event"', b"{}", b'{"id": "evt_1", "type": "x", "data": []}'):
        answer = deliver(billing, body)
        assert answer.status_code == 400, (body, answer.text)
        assert answer.json()["type"].endswith("/malformed-event")
    duplicated_key = b'{"id": "evt_1", "id": "evt_2", "type": "x", "data": {"object": {}}}'
    assert deliver(billing, duplicated_key).status_code == 400
    assert deliver(billing, b"a=1", **{"Content-Type": "text/plain"}).status_code == 415
    huge = b'{"id": "evt_1", "pad": "' + b"x" * (300 * 1024) + b'"}'
    assert deliver(billing, huge).status_code == 413
    for metadata in (
        {"invoice_id": "1 OR 1=1", "tenant_id": str(invoice.tenant_id), "try": "1"},
        {"invoice_id": str(invoice.pk), "try": "1"},  # no tenant
        {"invoice_id": str(invoice.pk), "tenant_id": str(invoice.tenant_id)},  # no try
    ):
        unusable = _succeeded_body(invoice, metadata=metadata)
        answer = deliver(billing, unusable)
        assert answer.status_code == 422, answer.text
    for unusable_amount in (
        {"amount_received": "115"},
        {"currency": "xyz"},
        {"amount_received": 10**40},
    ):
        answer = deliver(billing, _succeeded_body(invoice, **unusable_amount))
        assert answer.status_code == 422, (unusable_amount, answer.text)
    _unchanged(invoice)


def test_another_tenants_invoice_is_never_paid(billing, invoice):
    other = issued_invoice()
    body = _succeeded_body(
        other,
        metadata={"invoice_id": str(other.pk), "try": "1", "tenant_id": str(invoice.tenant_id)},
    )
    assert deliver(billing, body).status_code == 422
    other.refresh_from_db()
    assert other.status == "issued"
    _unchanged(invoice)


def test_a_payment_intent_the_collection_did_not_make_is_ignored(billing, invoice):
    foreign = _succeeded_body(invoice, metadata={"order": "shop-7"})
    assert deliver(billing, foreign).json() == {"status": "processed"}
    invoice.refresh_from_db()
    assert invoice.status == "issued"
    assert not InvoicePayment.objects.exists()
    assert BillingWebhookEvent.objects.get().status == "ignored"


def test_unknown_events_are_recorded_once_and_ignored(billing, invoice):
    body = event_body("plan.created", {"id": "plan_1", "object": "plan"}, event_id="evt_plan_1")
    first, again = deliver(billing, body), deliver(billing, body)
    assert (first.status_code, first.json()) == (200, {"status": "processed"})
    assert (again.status_code, again.json()) == (200, {"status": "duplicate"})
    [event] = BillingWebhookEvent.objects.all()
    assert (event.event_type, event.status) == ("plan.created", "ignored")
    assert deliver(billing, b"").status_code == 400  # signed, empty
    assert httpx.get(f"{billing}/webhooks/billing/stripe/").status_code == 405


def test_a_failed_charge_event_declines_a_pending_try_once(billing, invoice):
    # The webhook may arrive before the collect run has read Stripe's answer: the try is pending.
    attempt = CollectionTry.objects.create(
        tenant=invoice.tenant, invoice=invoice, number=1, attempted_at=day(1)
    )
    failed = {
        "id": "pi_3Declined0000000000",
        "object": "payment_intent",
        "amount": 115,
        "currency": "sar",
        "status": "requires_payment_method",
        "last_payment_error": {"code": "card_declined", "decline_code": "insufficient_funds"},
        "metadata": {
            "invoice_id": str(invoice.pk),
            "tenant_id": str(invoice.tenant_id),
            "try": "1",
        },
    }
    body = event_body("payment_intent.payment_failed", failed, event_id="evt_failed_1")
    assert deliver(billing, body).json() == {"status": "processed"}
    assert deliver(billing, body).json() == {"status": "duplicate"}
    attempt.refresh_from_db()
    assert (attempt.status, attempt.decline_code) == ("declined", "insufficient_funds")
    assert attempt.payment_intent_id == "pi_3Declined0000000000"
    assert attempt.next_try_at == ISSUED + timedelta(days=3)

    # Another event about the settled try changes nothing.
    failed["last_payment_error"] = {"code": "card_declined", "decline_code": "lost_card"}
    later = event_body("payment_intent.payment_failed", failed, event_id="evt_failed_2")
    assert deliver(billing, later).status_code == 200
    attempt.refresh_from_db()
    assert attempt.decline_code == "insufficient_funds"
    assert BillingWebhookEvent.objects.get(event_id="evt_failed_2").status == "ignored"
