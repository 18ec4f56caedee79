"""The admin in real headless Chromium, in Arabic (the default) and English: a staff member
signs in and opens the settlement, payment attempt, invoice and webhook event lists and pages.
Screenshots `admin-<page>-<lang>.png` go to var/screenshots/ for a person to look at; the test
checks the direction, the amounts' decimals and that nothing runs off the page sideways."""

from __future__ import annotations

import json
import re

import pytest
from django.contrib.auth import get_user_model

from testsupport.browser import SHOTS, in_browser, set_language
from testsupport.invoicing import make_invoiceable_tenant, paid_payment_at, riyadh, run_month
from testsupport.payments import gateway, refunded
from testsupport.staff import totp_code_for_secret
from wasla.common.staff_otp import staff_totp_ensure
from wasla.payments.models import WebhookEvent
from wasla.settlement.models import SettlementRecord

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "staff-pw-" + "x" * 12


@pytest.fixture
def back_office() -> dict[str, str]:
    """A merchant with a January invoice, a reversed (fully refunded) February payment and a
    webhook event with a long body; the admin URLs of each page to look at."""
    tenant = make_invoiceable_tenant()
    tenant.name = "Nakheel Dates"
    tenant.save()
    for day in (5, 9, 12):
        paid_payment_at(tenant, riyadh(2026, 1, day), amount="85.00")
    invoice = run_month(tenant, 2026, 1)
    assert invoice is not None
    attempt = paid_payment_at(tenant, riyadh(2026, 2, 3), amount="120.00")
    refunded(attempt, "120.00")
    settlement = SettlementRecord.objects.get(payment_attempt=attempt)
    body = {
        "id": "chg_TS0123456789",
        "object": "charge",
        "amount": 120,
        "currency": "SAR",
        "status": "CAPTURED",
        "description": "Sukkari dates, 1 kg — " + "long text that must wrap " * 12,
        "metadata": {"order": "ORD-1001", "udf1": "x" * 160},
    }
    event = WebhookEvent.objects.create(
        tenant=tenant,
        gateway_config=gateway(tenant),
        provider="tap",
        event_id="chg_TS0123456789",
        event_type="CHARGE.CAPTURED",
        headers={"Content-Type": "application/json", "hashstring": "[scrubbed]"},
        body=json.dumps(body, separators=(",", ":"), ensure_ascii=False),
        signature_valid=True,
        status=WebhookEvent.Status.PROCESSED,
    )
    staff = get_user_model().objects.create_superuser("staff", "staff@wasla.test", PASSWORD)
    return {
        "totp-secret": staff_totp_ensure(user=staff).secret,
        "settlement": f"settlement/settlementrecord/{settlement.pk}/change/",
        "settlements": "settlement/settlementrecord/",
        "attempt": f"payments/paymentattempt/{attempt.pk}/change/",
        "attempts": "payments/paymentattempt/",
        "invoice": f"invoicing/invoice/{invoice.pk}/change/",
        "invoices": "invoicing/invoice/",
        "webhook-event": f"payments/webhookevent/{event.pk}/change/",
        "webhook-events": "payments/webhookevent/",
    }


def test_the_admin_in_arabic_and_english(live_server, back_office):
    base = live_server.url
    secret = back_office.pop("totp-secret")
    seen: dict[tuple[str, str], dict[str, object]] = {}

    def steps(page) -> None:
        page.goto(f"{base}/admin/login/")
        page.fill("#id_username", "staff")
        page.fill("#id_password", PASSWORD)
        page.fill("#id_otp_token", totp_code_for_secret(secret))  # the authenticator's code
        page.click("input[type=submit]")
        page.wait_for_url(f"{base}/admin/")
        # The admin's own "collapse the app list" switch, as staff on a laptop screen would use
        # it: the lists get the width of the page.
        page.evaluate("localStorage.setItem('django.admin.navSidebarIsOpen', 'false')")
        for language in ("ar", "en"):
            set_language(page, base, language)
            for name, path in back_office.items():
                page.goto(f"{base}/admin/{path}")
                page.screenshot(path=SHOTS / f"admin-{name}-{language}.png", full_page=True)
                seen[(name, language)] = {
                    "dir": page.get_attribute("html", "dir"),
                    "text": page.inner_text("#content"),
                    "sideways": page.evaluate(
                        "document.documentElement.scrollWidth - window.innerWidth"
                    ),
                }

    in_browser(steps)

    for (name, language), shown in seen.items():
        assert shown["dir"] == ("rtl" if language == "ar" else "ltr"), name
        assert shown["sideways"] <= 0, (name, language, shown["sideways"])
        assert ".000" not in str(shown["text"]), (name, language)
    assert "SAR\xa0120.00" in str(seen[("attempt", "en")]["text"])
    assert "120.00\xa0ر.س." in str(seen[("attempt", "ar")]["text"])
    settlement = str(seen[("settlement", "en")]["text"])
    assert re.search(r"\nWasla fee:\s+SAR\xa00\.00\n", settlement)  # reversed: no fee left
    assert re.search(r"\nNet to merchant:\s+SAR\xa00\.00\n", settlement)
    assert "SAR\xa03.45" in str(seen[("invoices", "en")]["text"])  # 3 x 1.00 + 15 % VAT
    assert '"status": "CAPTURED"' in str(seen[("webhook-event", "en")]["text"])
