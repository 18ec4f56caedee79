"""Collection by card, end to end over real HTTP with the official `stripe` package: the merchant
saves a card through setup-mode Checkout, the daily run charges the invoice off-session, and the
billing webhook alone marks it paid (settlements paid, one ledger posting, the ledger verified);
duplicate and concurrent deliveries of that webhook pay it once."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest
from rest_framework.test import APIClient

from sandbox.stripe_sim.models import StripeEvent, StripePaymentIntent
from sandbox.stripe_sim.webhooks import event_payload
from testsupport.billing import (
    VISA,
    card_saved,
    day,
    deliver,
    issued_invoice,
    sandbox_knobs,
)
from testsupport.factories import api_client_for
from testsupport.invoicing import ledger_verified
from testsupport.threads import in_threads
from wasla.invoicing.collection import invoices_collect
from wasla.invoicing.models import (
    BillingCard,
    BillingWebhookEvent,
    CollectionTry,
    Invoice,
    InvoicePayment,
)
from wasla.ledger.models import LedgerTransaction
from wasla.settlement.models import SettlementRecord

pytestmark = pytest.mark.django_db(transaction=True)


def _payments_posted(invoice: Invoice) -> int:
    return LedgerTransaction.objects.filter(
        tenant_id=invoice.tenant_id, entry_type="payment", reference_id=f"invoice:{invoice.pk}"
    ).count()


def _assert_paid_once(invoice: Invoice) -> None:
    invoice.refresh_from_db()
    assert (invoice.status, invoice.amount_due, invoice.amount_paid) == (
        "paid",
        Decimal("0.000"),
        Decimal("1.15"),
    )
    payment = InvoicePayment.objects.get(invoice=invoice)
    assert (payment.method, payment.amount) == ("card", Decimal("1.15"))
    assert payment.reference.startswith("pi_")
    statuses = set(
        SettlementRecord.objects.filter(invoice_link__invoice=invoice).values_list(
            "status", flat=True
        )
    )
    assert statuses == {"paid"}
    assert _payments_posted(invoice) == 1
    ledger_verified()  # raises on any fault


def _merchant(invoice: Invoice) -> APIClient:
    return api_client_for(invoice.tenant)


def test_a_saved_card_is_charged_and_the_webhook_pays_the_invoice(billing):
    invoice = issued_invoice()
    api = _merchant(invoice)
    assert api.get("/api/v1/billing/card/").status_code == 404

    card_saved(api, VISA)

    shown = api.get("/api/v1/billing/card/").json()
    assert (shown["brand"], shown["last4"]) == ("visa", "4242")
    assert shown["exp_month"]
    assert shown["exp_year"]
    assert shown["saved_at"]
    assert "payment_method" not in str(shown)
    assert "cus_" not in str(shown)
    assert api.get(f"/api/v1/invoices/{invoice.pk}/").json()["collection"] == {
        "status": "not_started",
        "tries": 0,
        "next_try_at": None,
        "payment_page_url": "",
    }

    assert invoices_collect(now=day(0)) == []  # day 1 is the first try; issued at midnight
    results = invoices_collect(now=day(1))

    assert [(r.invoice, r.outcome, r.try_number) for r in results] == [
        (invoice.display_number, "charged", 1)
    ]
    attempt = CollectionTry.objects.get(invoice=invoice)
    assert (attempt.number, attempt.status, attempt.next_try_at) == (1, "succeeded", None)
    intent = StripePaymentIntent.objects.get(pk=attempt.payment_intent_id)
    assert (intent.amount, intent.currency, intent.status) == (115, "sar", "succeeded")
    assert intent.metadata == {
        "invoice_id": str(invoice.pk),
        "tenant_id": str(invoice.tenant_id),
        "try": "1",
    }
    _assert_paid_once(invoice)
    assert InvoicePayment.objects.get(invoice=invoice).reference == intent.id
    body = api.get(f"/api/v1/invoices/{invoice.pk}/").json()
    assert body["status"] == "paid"
    assert body["collection"]["status"] == "paid"

    # Later runs find nothing to do; a repeat of the same day charges nothing more.
    assert invoices_collect(now=day(3)) == []
    assert StripePaymentIntent.objects.count() == 1


def test_duplicate_and_concurrent_webhooks_pay_once(billing):
    invoice = issued_invoice()
    card_saved(_merchant(invoice), VISA)
    sandbox_knobs(billing, webhook="hold")  # the charge's events wait for our replays

    [result] = invoices_collect(now=day(1))
    assert result.outcome == "charged"
    invoice.refresh_from_db()
    assert invoice.status == "issued"  # Stripe's answer alone pays nothing

    event = StripeEvent.objects.get(type="payment_intent.succeeded")
    body = event_payload(event)
    answers = in_threads(8, lambda i: deliver(billing, body))
    assert sorted(answer.status_code for answer in answers) == [200] * 8
    assert sorted(answer.json()["status"] for answer in answers).count("processed") == 1
    _assert_paid_once(invoice)

    # The held deliveries, twice each, days later: nothing more.
    sandbox_knobs(billing, webhook="send")
    flushed = httpx.post(f"{billing}/sandbox/stripe/_control/flush", json={"duplicate": True})
    assert flushed.status_code == 200, flushed.text
    assert deliver(billing, body).json() == {"status": "duplicate"}
    _assert_paid_once(invoice)
    assert BillingWebhookEvent.objects.filter(event_id=event.id).count() == 1


def test_a_card_saved_again_replaces_the_first(billing):
    invoice = issued_invoice()
    api = _merchant(invoice)
    card_saved(api, "4000000000000341")
    first = BillingCard.objects.get(tenant=invoice.tenant)
    card_saved(api, VISA)

    again = BillingCard.objects.get(tenant=invoice.tenant)
    assert again.stripe_customer_id == first.stripe_customer_id  # one Stripe Customer
    assert again.payment_method_id != first.payment_method_id
    assert (again.last4, BillingCard.objects.count()) == ("4242", 1)
