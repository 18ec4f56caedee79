"""The money half of the merchant portal in real headless Chromium, in Arabic and in English:
a finance member signs in, sees the overview's charts drawn, filters the payments, opens one,
refunds part of it through the confirmation step, reads the settlements and downloads an
invoice PDF; a viewer sees no refund form and a hand-made refund POST gets the 403 page.
Every page: `<html lang dir>` right, no serious accessibility violation, a screenshot
(var/screenshots/portal-<page>-<lang>.png)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from testsupport.billing import issued_invoice
from testsupport.browser import SHOTS, axe_serious, in_browser, set_language
from testsupport.factories import make_attempt, make_tap_config
from testsupport.invoicing import paid_payment_at, with_tax_profile
from testsupport.payments import gateway
from testsupport.portal import PASSWORD, make_member
from wasla.payments.models import PaymentAttempt, RefundRecord
from wasla.tenants.models import TenantMember

from .test_refunds import sandbox_paid

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DIRECTION = {"ar": 'lang="ar" dir="rtl"', "en": 'lang="en" dir="ltr"'}

CANVAS_DRAWN = """(id) => {
  const canvas = document.getElementById(id);
  const blank = document.createElement("canvas");
  blank.width = canvas.width; blank.height = canvas.height;
  return canvas.width > 0 && canvas.toDataURL() !== blank.toDataURL();
}"""


@pytest.fixture
def store(sandbox, tenant):
    tenant.name = "Nakheel Dates"
    with_tax_profile(tenant)
    make_tap_config(tenant)  # the other payments' gateway (testsupport's `gateway`)
    card = sandbox_paid(tenant, "stripe")  # refundable at the sandbox
    now = timezone.now()
    for days, amount in ((1, "85.00"), (3, "120.50"), (8, "42.25"), (15, "310.00")):
        paid_payment_at(tenant, now - timedelta(days=days), amount)
    make_attempt(gateway(tenant), status=PaymentAttempt.Status.FAILED)
    invoice = issued_invoice(tenant)
    return sandbox, tenant, card, invoice


def check_page(page: Any, name: str, language: str) -> None:
    html = page.content()
    assert DIRECTION[language] in html[:200], html[:200]
    page.screenshot(path=SHOTS / f"portal-{name}-{language}.png", full_page=True)
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{name}: {overflow}px wider than the window"
    assert axe_serious(page) == [], name


def sign_in(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}/merchant/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_url(f"{base}/merchant/")


@pytest.mark.parametrize("language", ["ar", "en"])
def test_a_finance_member_runs_the_money_pages(store, language):
    base, tenant, card, invoice = store
    make_member(tenant, TenantMember.Role.FINANCE, username="finance-" + language)
    pdf_head: list[bytes] = []

    def steps(page: Any) -> None:
        if language == "en":
            set_language(page, base, "en")
        page.goto(f"{base}/merchant/login/")
        check_page(page, "login", language)
        sign_in(page, base, "finance-" + language)

        for canvas in ("chart-volume", "chart-methods", "chart-success"):
            page.wait_for_function(f"document.getElementById('{canvas}').width > 0")
            assert page.evaluate(CANVAS_DRAWN, canvas), canvas
        check_page(page, "overview", language)

        page.click("nav.side a[href='/merchant/payments/']")
        page.select_option("#id_provider", "stripe")
        page.select_option("#id_status", "paid")
        page.click("#payment-filters button[type=submit]")
        page.wait_for_url("**/merchant/payments/?*")
        assert page.locator("#payments tbody tr").count() == 1
        check_page(page, "payments", language)

        page.click("#payments tbody tr a")
        page.wait_for_selector("#refund-form")
        check_page(page, "payment", language)
        page.fill("#id_amount", "40.00")
        page.fill("#id_reason", "Damaged box")
        page.click("#refund-continue")
        page.wait_for_selector("#refund-confirm")
        check_page(page, "refund-confirm", language)
        page.click("#refund-confirm")
        page.wait_for_selector("ul.messages li.success")
        assert "partially_refunded" in page.get_attribute("#payment-status", "class")
        check_page(page, "payment-refunded", language)

        page.click("nav.side a[href='/merchant/settlements/']")
        page.wait_for_selector("#settlement-months")
        check_page(page, "settlements", language)
        page.click("#settlement-months tbody tr a")
        page.wait_for_selector("#settlements")
        check_page(page, "settlement-month", language)

        page.click("nav.side a[href='/merchant/invoices/']")
        page.wait_for_selector("#invoices")
        check_page(page, "invoices", language)
        page.click("#invoices tbody tr a")
        page.wait_for_selector("#invoice-pdf")
        check_page(page, "invoice", language)
        with page.expect_download() as download:
            page.click("#invoice-pdf")
        pdf_head.append(download.value.suggested_filename.encode())
        with open(download.value.path(), "rb") as handle:
            pdf_head.append(handle.read(5))

    in_browser(steps)

    assert pdf_head == [f"{invoice.display_number}.pdf".encode(), b"%PDF-"]
    card.refresh_from_db()
    assert (card.status, card.refunded_amount) == ("partially_refunded", Decimal("40.00"))
    assert RefundRecord.objects.filter(payment_attempt=card, status="succeeded").count() == 1


@pytest.mark.parametrize("language", ["ar", "en"])
def test_a_viewer_cannot_refund(store, language):
    base, tenant, card, _ = store
    make_member(tenant, TenantMember.Role.VIEWER, username="viewer-" + language)

    def steps(page: Any) -> None:
        if language == "en":
            set_language(page, base, "en")
        sign_in(page, base, "viewer-" + language)
        page.goto(f"{base}/merchant/payments/{card.id}/")
        page.wait_for_selector("#timeline")
        assert page.locator("#refund-form").count() == 0
        check_page(page, "payment-viewer", language)
        # A refund POST made by hand, with a valid CSRF token: the 403 page.
        page.evaluate(
            """([action]) => {
              const form = document.createElement("form");
              form.method = "post"; form.action = action;
              const fields = {amount: "10.00", reason: "by hand",
                csrfmiddlewaretoken: document.querySelector("[name=csrfmiddlewaretoken]").value};
              for (const [name, value] of Object.entries(fields)) {
                const input = document.createElement("input");
                input.type = "hidden"; input.name = name; input.value = value;
                form.appendChild(input);
              }
              document.body.appendChild(form); form.submit();
            }""",
            [f"/merchant/payments/{card.id}/refund/"],
        )
        page.wait_for_selector("p[role=alert]")
        check_page(page, "forbidden", language)

    in_browser(steps)

    assert not RefundRecord.objects.filter(payment_attempt=card).exists()
    card.refresh_from_db()
    assert card.status == "paid"
