"""The dunning schedule, with `now` passed in: a declined card is tried again on days 1, 3 and 7
after issue and pays on a later try once the merchant saved a good card; a schedule exhausted
leaves the invoice overdue (admin filter and column, the API's collection block); two runs at
once charge once; a try re-driven after a crash reuses its idempotency key (one charge); a
Stripe outage on one invoice is reported and the others are charged."""

from __future__ import annotations

import json
from datetime import timedelta
from io import StringIO

import httpx
import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.test import Client

from sandbox.stripe_sim.models import StripePaymentIntent
from testsupport.billing import (
    DECLINES_CHARGES,
    ISSUED,
    VISA,
    card_saved,
    day,
    issued_invoice,
    sandbox_knobs,
)
from testsupport.factories import api_client_for
from testsupport.staff import staff_login
from testsupport.threads import in_threads
from wasla.invoicing import billing_stripe
from wasla.invoicing.collection import PENDING_STALE, invoices_collect
from wasla.invoicing.collection_status import overdue_q
from wasla.invoicing.models import BillingCard, CollectionTry, Invoice, InvoicePayment

pytestmark = pytest.mark.django_db(transaction=True)


def _outcomes(now) -> list[tuple[str, int | None]]:  # type: ignore[no-untyped-def]
    return [(r.outcome, r.try_number) for r in invoices_collect(now=now)]


def test_declines_are_retried_on_days_1_3_7_and_a_new_card_pays(billing):
    invoice = issued_invoice()
    api = api_client_for(invoice.tenant)
    card_saved(api, DECLINES_CHARGES)

    assert _outcomes(day(1)) == [("declined", 1)]
    first = CollectionTry.objects.get(invoice=invoice, number=1)
    assert (first.status, first.decline_code) == ("declined", "generic_decline")
    assert first.decline_message
    assert first.payment_intent_id.startswith("pi_")
    assert first.next_try_at == ISSUED + timedelta(days=3)
    block = api.get(f"/api/v1/invoices/{invoice.pk}/").json()["collection"]
    assert (block["status"], block["tries"], block["payment_page_url"]) == ("declined", 1, "")
    assert block["next_try_at"].startswith("2026-02-0")

    assert _outcomes(day(2)) == [("skipped", None)]  # not due before day 3
    assert _outcomes(day(3)) == [("declined", 2)]
    card_saved(api, VISA)  # the merchant replaces the card
    assert _outcomes(day(5)) == [("skipped", None)]
    assert _outcomes(day(7)) == [("charged", 3)]

    invoice.refresh_from_db()
    assert invoice.status == "paid"
    payment = InvoicePayment.objects.get(invoice=invoice)
    third = CollectionTry.objects.get(invoice=invoice, number=3)
    assert payment.reference == third.payment_intent_id
    assert list(invoice.collection_tries.values_list("status", flat=True)) == [
        "declined",
        "declined",
        "succeeded",
    ]
    assert not Invoice.objects.filter(overdue_q()).exists()


def test_an_exhausted_schedule_leaves_the_invoice_overdue(billing):
    invoice = issued_invoice()
    other = issued_invoice()  # no card: never tried, never overdue
    api = api_client_for(invoice.tenant)
    card_saved(api, DECLINES_CHARGES)

    for number, days in enumerate((1, 3, 7), start=1):
        assert _outcomes(day(days)) == [("declined", number)]
    assert _outcomes(day(30)) == [("skipped", None)]
    assert StripePaymentIntent.objects.count() == 3

    assert list(Invoice.objects.filter(overdue_q())) == [invoice]
    block = api.get(f"/api/v1/invoices/{invoice.pk}/").json()["collection"]
    assert block == {
        "status": "overdue",
        "tries": 3,
        "next_try_at": None,
        "payment_page_url": "",
    }
    staff = get_user_model().objects.create_superuser("ops", "ops@wasla.example", "pw-123456")
    browser = Client()
    staff_login(browser, staff)
    page = browser.get("/admin/invoicing/invoice/?overdue=yes").content.decode()
    assert invoice.display_number in page
    assert other.display_number not in page
    page = browser.get("/admin/invoicing/invoice/?overdue=no").content.decode()
    assert other.display_number in page
    assert invoice.display_number not in page
    page = browser.get(f"/admin/invoicing/invoice/{invoice.pk}/change/").content.decode()
    assert "generic_decline" in page


def test_two_runs_at_once_charge_once(billing, close_thread_connections):
    invoice = issued_invoice()
    card_saved(api_client_for(invoice.tenant), VISA)

    runs = in_threads(6, lambda i: _outcomes(day(1)))

    assert not [run for run in runs if isinstance(run, Exception)], runs
    outcomes = sorted(outcome for run in runs for outcome, _number in run)
    assert outcomes == ["charged"] + ["skipped"] * 5
    assert StripePaymentIntent.objects.count() == 1
    assert CollectionTry.objects.filter(invoice=invoice).count() == 1
    assert InvoicePayment.objects.filter(invoice=invoice).count() == 1


def test_a_try_re_driven_after_a_crash_reuses_its_idempotency_key(billing):
    invoice = issued_invoice()
    card_saved(api_client_for(invoice.tenant), VISA)
    card = BillingCard.objects.get(tenant=invoice.tenant)
    sandbox_knobs(billing, webhook="hold")
    # The run committed try 1 and reached Stripe, then died before it read the answer.
    crashed = CollectionTry.objects.create(
        tenant=invoice.tenant, invoice=invoice, number=1, attempted_at=day(1)
    )
    charged = billing_stripe.charge(
        billing_stripe.Charge(
            customer_id=card.stripe_customer_id,
            payment_method_id=card.payment_method_id,
            amount=invoice.amount_due,
            currency="SAR",
            metadata={
                "invoice_id": str(invoice.pk),
                "tenant_id": str(invoice.tenant_id),
                "try": "1",
            },
            idempotency_key=f"wasla-invoice-{invoice.pk}-try-1",
        )
    )
    assert charged.status == "succeeded"

    assert _outcomes(day(1) + timedelta(minutes=5)) == [("skipped", None)]  # still running
    assert _outcomes(day(1) + PENDING_STALE + timedelta(minutes=1)) == [("charged", 1)]

    crashed.refresh_from_db()
    assert (crashed.status, crashed.payment_intent_id) == ("succeeded", charged.intent_id)
    assert StripePaymentIntent.objects.count() == 1  # Stripe replayed the first answer
    sandbox_knobs(billing, webhook="send")
    httpx.post(f"{billing}/sandbox/stripe/_control/flush", json={}).raise_for_status()
    invoice.refresh_from_db()
    assert invoice.status == "paid"
    assert InvoicePayment.objects.filter(invoice=invoice).count() == 1


def test_a_stripe_outage_on_one_invoice_does_not_stop_the_others(billing):
    first, second = issued_invoice(), issued_invoice()
    for invoice in (first, second):
        card_saved(api_client_for(invoice.tenant), VISA)
    sandbox_knobs(billing, api="error_500", api_fail_count=1)

    out = StringIO()
    with pytest.raises(CommandError) as failed:
        call_command("collect_invoices", "--json", stdout=out)
    assert failed.value.returncode == 1
    report = json.loads(out.getvalue())["invoices"]
    assert [(row["outcome"], row["try"]) for row in report] == [("error", None), ("charged", 1)]
    assert "500" in report[0]["detail"]
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == ("issued", "paid")
    assert CollectionTry.objects.get(invoice=first).status == "pending"
