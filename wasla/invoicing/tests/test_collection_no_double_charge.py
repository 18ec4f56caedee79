"""No double charge between the hosted 3-D Secure page and the collection's later off-session
tries (invariant 1), over real HTTP with the official `stripe` package against the sandbox:
- the merchant leaves 3-D Secure unfinished, saves another card, the next off-session try pays
  the invoice, then the merchant finishes 3-D Secure: the on-session PaymentIntent was canceled
  before the try, so nothing more is charged;
- the merchant paid on 3-D Secure but the webhook never came: the next try finds it paid when
  canceling, records that payment and charges nothing;
- a paid invoice's page makes no PaymentIntent;
- a PaymentIntent that succeeds for an invoice with nothing left due is refunded whole through
  Stripe's Refund API and recorded (`BillingRefund`), once however often it is reported; a
  refund Stripe did not answer is sent again by the next collection run.
"""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import httpx
import pytest
from django.test import Client

from sandbox.stripe_sim.models import StripeCharge, StripePaymentIntent, StripeRefund
from testsupport.billing import (
    AUTH_REQUIRED,
    VISA,
    card_saved,
    day,
    deliver,
    event_body,
    issued_invoice,
    platform_client,
    sandbox_knobs,
)
from testsupport.factories import api_client_for
from testsupport.invoicing import bank_transfer_at, ledger_verified
from testsupport.servers import StatusServer
from wasla.invoicing.collection import invoices_collect
from wasla.invoicing.models import (
    BillingRefund,
    BillingWebhookEvent,
    CollectionTry,
    Invoice,
    InvoicePayment,
)

pytestmark = pytest.mark.django_db(transaction=True)


def _three_ds_started(billing: str) -> tuple[Invoice, str, str]:
    """Try 1 needs authentication; the merchant clicks Pay on the hosted page (over HTTP) and
    is sent to 3-D Secure. Returns the invoice, its pay page URL and the 3-D Secure page URL."""
    invoice = issued_invoice()
    api = api_client_for(invoice.tenant)
    card_saved(api, AUTH_REQUIRED)
    assert [r.outcome for r in invoices_collect(now=day(1))] == ["requires_authentication"]
    url = api.get(f"/api/v1/invoices/{invoice.pk}/").json()["collection"]["payment_page_url"]
    page = url.removeprefix(billing)
    clicked = Client().post(page)
    assert clicked.status_code == 302, clicked.content
    assert "/sandbox/stripe/authenticate/" in clicked["Location"]
    return invoice, page, clicked["Location"]


def _finish_3ds(url: str) -> httpx.Response:
    return httpx.post(url, data={"outcome": "succeed"}, timeout=30, follow_redirects=False)


def _charged_intents() -> list[StripePaymentIntent]:
    return list(StripePaymentIntent.objects.filter(status="succeeded"))


def test_3ds_finished_after_a_later_off_session_try_paid_charges_nothing(billing):
    invoice, page, threeds = _three_ds_started(billing)
    on_session = CollectionTry.objects.get(invoice=invoice).action_intent_id
    card_saved(api_client_for(invoice.tenant), VISA)  # the merchant replaces the card

    results = invoices_collect(now=day(3))

    assert [(r.outcome, r.try_number) for r in results] == [("charged", 2)]
    invoice.refresh_from_db()
    assert (invoice.status, invoice.amount_due) == ("paid", Decimal("0.000"))
    canceled = platform_client().v1.payment_intents.retrieve(on_session)
    assert (canceled.status, canceled.cancellation_reason) == ("canceled", "abandoned")

    finished = _finish_3ds(threeds)  # the merchant comes back to the 3-D Secure page

    assert "redirect_status=failed" in finished.headers["location"]
    assert StripePaymentIntent.objects.get(pk=on_session).status == "canceled"
    (paid,) = _charged_intents()
    try_two = CollectionTry.objects.get(invoice=invoice, number=2)
    assert paid.id == try_two.payment_intent_id
    assert list(InvoicePayment.objects.values_list("reference", "amount")) == [
        (paid.id, Decimal("1.15"))
    ]
    assert not BillingRefund.objects.exists()
    # The hosted page of the paid invoice makes no PaymentIntent.
    intents = StripePaymentIntent.objects.count()
    again = Client().post(page)
    assert again.status_code == 200
    assert 'id="pay"' not in again.content.decode()
    assert StripePaymentIntent.objects.count() == intents
    ledger_verified()


def test_3ds_paid_without_its_webhook_is_recorded_by_the_next_try_not_charged(billing):
    invoice, _page, threeds = _three_ds_started(billing)
    on_session = CollectionTry.objects.get(invoice=invoice).action_intent_id
    sandbox_knobs(billing, webhook="drop")  # the payment's webhook is lost
    assert "redirect_status=succeeded" in _finish_3ds(threeds).headers["location"]
    sandbox_knobs(billing, webhook="send")
    invoice.refresh_from_db()
    assert invoice.status == "issued"

    results = invoices_collect(now=day(3))

    assert [r.outcome for r in results] == ["paid_on_session"]
    invoice.refresh_from_db()
    assert invoice.status == "paid"
    assert [i.id for i in _charged_intents()] == [on_session]
    assert list(InvoicePayment.objects.values_list("reference", flat=True)) == [on_session]
    assert list(CollectionTry.objects.values_list("number", "status")) == [(1, "succeeded")]
    assert invoices_collect(now=day(7)) == []
    ledger_verified()


def test_a_payment_intent_for_an_invoice_with_nothing_due_is_refunded_and_recorded(billing):
    invoice, _page, threeds = _three_ds_started(billing)
    on_session = CollectionTry.objects.get(invoice=invoice).action_intent_id
    # Paid by bank transfer while the merchant is on the 3-D Secure page.
    bank_transfer_at(invoice, day(2), Decimal("1.15"), "SA-TRANSFER-1")

    _finish_3ds(threeds)

    refund = BillingRefund.objects.get()
    assert (refund.invoice_id, refund.payment_intent_id) == (invoice.pk, on_session)
    assert (refund.amount, refund.currency, refund.status) == (Decimal("1.15"), "SAR", "succeeded")
    assert (
        refund.reason
        == f"invoice {invoice.display_number} is paid: only an issued invoice takes payments"
    )
    at_stripe = StripeRefund.objects.get()
    assert (at_stripe.id, at_stripe.amount, at_stripe.reason) == (
        refund.stripe_refund_id,
        115,
        "duplicate",
    )
    assert StripeCharge.objects.get(payment_intent_id=on_session).amount_refunded == 115
    event = BillingWebhookEvent.objects.get(event_type="payment_intent.succeeded")
    assert event.status == "processed"
    assert event.detail.startswith("refunding")
    assert list(InvoicePayment.objects.values_list("method", flat=True)) == ["bank_transfer"]
    # Reported again (another event for the same PaymentIntent): still one refund.
    intent = platform_client().v1.payment_intents.retrieve(on_session).to_dict()
    again = deliver(billing, event_body("payment_intent.succeeded", intent, "evt_again"))
    assert again.status_code == 200
    assert BillingRefund.objects.count() == StripeRefund.objects.count() == 1
    assert BillingWebhookEvent.objects.get(event_id="evt_again").detail == "refunded already"
    ledger_verified()


def test_a_refund_stripe_did_not_answer_is_sent_by_the_next_run(billing, settings):
    invoice, _page, threeds = _three_ds_started(billing)
    bank_transfer_at(invoice, day(2), Decimal("1.15"), "SA-TRANSFER-1")
    sandbox_knobs(billing, webhook="hold")
    _finish_3ds(threeds)
    down = StatusServer(503)
    try:
        settings.WASLA_BILLING_STRIPE_API_BASE = down.url  # Wasla's side cannot reach Stripe
        flushed = httpx.post(f"{billing}/sandbox/stripe/_control/flush", json={}, timeout=30)
        assert flushed.status_code == 200, flushed.text
        refund = BillingRefund.objects.get()
        assert refund.status == "pending"
        assert any(
            b"wasla-refund-" not in body and "/v1/refunds" in path
            for _, path, body in down.requests
        )
    finally:
        down.close()
        settings.WASLA_BILLING_STRIPE_API_BASE = f"{billing}/sandbox/stripe"
        sandbox_knobs(billing, webhook="send")
    assert not StripeRefund.objects.exists()

    results = invoices_collect(now=refund.created_at + timedelta(minutes=11))

    assert [r.outcome for r in results] == ["refund_succeeded"]
    refund.refresh_from_db()
    assert refund.status == "succeeded"
    assert StripeRefund.objects.get().id == refund.stripe_refund_id
    assert json.loads(json.dumps(results[0].as_dict()))["invoice"] == str(invoice.pk)
