"""A card that needs 3-D Secure: the off-session charge comes back `authentication_required`, the
invoice's collection block links the hosted page, and there (in headless Chromium) the merchant
pays on-session through the sandbox's 3-D Secure page; the webhook marks the invoice paid once.
Clicking twice is one PaymentIntent; a forged or expired link is a 404 page."""

from __future__ import annotations

import time
from decimal import Decimal
from unittest import mock

import pytest
from django.test import Client

from sandbox.stripe_sim.models import StripePaymentIntent
from testsupport.billing import AUTH_REQUIRED, ISSUED, card_saved, day, issued_invoice
from testsupport.browser import SHOTS, in_browser
from testsupport.factories import api_client_for
from testsupport.invoicing import ledger_verified
from wasla.invoicing.collection import invoices_collect
from wasla.invoicing.collection_status import pay_token_make
from wasla.invoicing.models import CollectionTry, Invoice, InvoicePayment

pytestmark = pytest.mark.django_db(transaction=True)

# Where the English confirmation sentence puts its first letter, closing bracket and full stop
# (x of each glyph), and where the button's Arabic and English labels sit.
READING_ORDER = """() => {
  const line = document.querySelector('#confirm-note .en-line');
  const text = line.firstChild;
  const x = (i) => { const r = document.createRange(); r.setStart(text, i); r.setEnd(text, i + 1);
                     return r.getBoundingClientRect().left; };
  const n = text.textContent.length;
  return {direction: getComputedStyle(line).direction, first: x(0), bracket: x(n - 2),
          stop: x(n - 1),
          arabic: document.querySelector('#pay-ar').getBoundingClientRect().left,
          english: document.querySelector('#pay-en').getBoundingClientRect().left};
}"""


def _needs_authentication(billing: str) -> tuple[Invoice, str]:
    invoice = issued_invoice()
    api = api_client_for(invoice.tenant)
    card_saved(api, AUTH_REQUIRED)
    assert [(r.outcome, r.try_number) for r in invoices_collect(now=day(1))] == [
        ("requires_authentication", 1)
    ]
    attempt = CollectionTry.objects.get(invoice=invoice)
    assert attempt.status == "requires_authentication"
    assert attempt.decline_code == "authentication_required"
    block = api.get(f"/api/v1/invoices/{invoice.pk}/").json()["collection"]
    assert block["status"] == "requires_authentication"
    assert block["next_try_at"] is not None
    assert block["payment_page_url"].startswith(f"{billing}/billing/invoices/")
    return invoice, block["payment_page_url"]


def test_the_merchant_completes_3d_secure_on_the_hosted_page(billing):
    invoice, url = _needs_authentication(billing)
    seen: dict[str, str] = {}

    def steps(page) -> None:  # type: ignore[no-untyped-def]
        page.goto(url)
        seen["before"] = page.inner_text("#invoice-pay")
        assert page.get_attribute("html", "dir") == "rtl"
        seen["layout"] = page.evaluate(READING_ORDER)
        page.screenshot(path=str(SHOTS / "billing_pay_page.png"), full_page=True)
        page.click("#pay")
        page.wait_for_url("**/sandbox/stripe/authenticate/**")
        page.click('[id="3ds-succeed"]')
        page.wait_for_url("**/pay/return/**")
        page.wait_for_selector("#status-label")
        seen["after"] = page.inner_text("#invoice-pay")
        page.screenshot(path=str(SHOTS / "billing_pay_page_paid.png"), full_page=True)

    in_browser(steps)

    assert invoice.display_number in seen["before"]
    assert "1.15 SAR" in seen["before"]
    assert "المبلغ المستحق" in seen["before"]
    assert "Amount due" in seen["before"]
    assert "Paid" in seen["after"]
    layout = seen["layout"]
    # The English sentence reads left to right inside the RTL page: its full stop is at its end,
    # on the right of the closing bracket; the button reads Arabic first (on the right).
    assert layout["direction"] == "ltr"
    assert layout["first"] < layout["bracket"] < layout["stop"]
    assert layout["arabic"] > layout["english"]
    invoice.refresh_from_db()
    assert (invoice.status, invoice.amount_due) == ("paid", Decimal("0.000"))
    attempt = CollectionTry.objects.get(invoice=invoice)
    assert attempt.status == "succeeded"
    payment = InvoicePayment.objects.get(invoice=invoice)
    assert payment.reference == attempt.action_intent_id
    assert payment.reference != attempt.payment_intent_id  # the on-session intent paid
    ledger_verified()
    assert invoices_collect(now=day(3)) == []  # nothing left to charge


def test_two_clicks_are_one_payment_intent_and_a_failed_3ds_offers_the_button_again(billing):
    invoice, url = _needs_authentication(billing)
    path = url.removeprefix(billing)
    merchant = Client()

    first, second = merchant.post(path), merchant.post(path)

    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    assert "/sandbox/stripe/authenticate/" in first["Location"]
    assert StripePaymentIntent.objects.count() == 2  # the off-session one and one on-session
    with_return = merchant.get(path + "return/?payment_intent=pi_forged&redirect_status=succeeded")
    page = with_return.content.decode()
    assert 'id="pay"' in page  # not paid: the query string is not believed
    invoice.refresh_from_db()
    assert invoice.status == "issued"


def test_forged_and_expired_links_are_404_pages(billing):
    invoice, url = _needs_authentication(billing)
    path = url.removeprefix(billing)
    browser = Client()
    assert browser.get(path).status_code == 200

    token = path.split("/")[3]
    assert browser.get(path.replace(token, token[:-2] + "xx")).status_code == 404
    assert browser.post(path.replace(token, "forged")).status_code == 404
    with mock.patch("django.core.signing.time.time", return_value=time.time() - 31 * 86400):
        old = pay_token_make(invoice)
    assert browser.get(f"/billing/invoices/{old}/pay/").status_code == 404
    assert ISSUED  # the invoice stays as it was
    assert StripePaymentIntent.objects.count() == 1
