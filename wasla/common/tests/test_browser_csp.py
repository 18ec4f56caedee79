"""The Content-Security-Policy in real headless Chromium: one walk through every kind of page
(landing, storefront, the sandbox's hosted Tap page and back, the merchant portal with its charts
and copy button, the staff dashboard with its charts, the admin, the API docs) with no refusal
at all, the charts drawn and the copy button working; and a page that breaks the policy is
caught (the check can fail). `in_browser` fails any browser test on a refusal; these tests
show it. Screenshots: var/screenshots/csp-*.png."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from testsupport.browser import SHOTS, in_browser
from testsupport.factories import make_tap_config, make_tenant
from testsupport.payments import paid_payment
from testsupport.staff import totp_code_for_secret
from wasla.common import security_headers
from wasla.common.staff_otp import staff_totp_ensure
from wasla.dashboard.rollups import FULL_DAYS, rollup_refresh
from wasla.portal.tests.settings_support import PASSWORD, make_member
from wasla.storefront.models import Product

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# True when the canvas holds any pixel a blank canvas of its size does not.
DRAWN = """(id) => {
  const canvas = document.getElementById(id);
  const blank = document.createElement("canvas");
  blank.width = canvas.width; blank.height = canvas.height;
  return canvas.width > 0 && canvas.toDataURL() !== blank.toDataURL();
}"""


def test_a_page_that_breaks_the_policy_is_caught(live_server):
    """Inline code the policy refuses: a script, an event handler, a style attribute and a
    <style> without the nonce; each is reported, and none of them ran or applied."""

    def steps(page) -> None:  # type: ignore[no-untyped-def]
        page.goto(f"{live_server.url}/")
        ran = page.evaluate(
            """async () => {
              window.ran = false;
              const script = document.createElement("script");
              script.textContent = "window.ran = true";
              document.body.appendChild(script);
              const style = document.createElement("style");
              style.textContent = "body { background: rgb(1, 2, 3) }";
              document.head.appendChild(style);
              document.body.insertAdjacentHTML("beforeend",
                '<p id="styled" style="color: rgb(4, 5, 6)">x</p>' +
                '<img id="handler" src="data:," onload="window.ran = true">');
              await new Promise((resolve) => setTimeout(resolve, 300));
              return [window.ran, getComputedStyle(document.body).backgroundColor,
                      getComputedStyle(document.getElementById("styled")).color];
            }"""
        )
        assert ran[0] is False
        assert ran[1] != "rgb(1, 2, 3)"
        assert ran[2] != "rgb(4, 5, 6)"

    found = in_browser(steps, allow_csp_violations=True)
    text = "\n".join(found)
    for directive in ("script-src-elem", "style-src-elem", "style-src-attr", "script-src-attr"):
        assert directive in text, (directive, text)


def test_every_kind_of_page_runs_under_the_policy(sandbox):
    base = sandbox
    tenant = make_tenant("souq-" + base.rsplit(":", 1)[1], name="Souq Dates")
    make_tap_config(tenant)
    product = Product.objects.create(tenant=tenant, name="Sukkari dates", price=Decimal("85.00"))
    for _ in range(3):
        paid_payment(tenant, "120.00")
    rollup_refresh(since=timezone.localdate() - dt.timedelta(days=FULL_DAYS))
    owner = make_member(tenant, "owner", username=f"{tenant.slug}-owner").user.username
    ops = get_user_model().objects.create_superuser("ops", password=PASSWORD)
    secret = staff_totp_ensure(user=ops).secret

    def steps(page) -> None:  # type: ignore[no-untyped-def]
        page.goto(f"{base}/")
        page.screenshot(path=SHOTS / "csp-landing.png", full_page=True)

        # The shopper: store, checkout, the provider's hosted page (a form posting on to the
        # sandbox's origin), back to the return page.
        page.goto(f"{base}/store/{tenant.slug}/")
        page.click(f"#buy-{product.pk}")
        page.check("#pay-tapmada")
        page.fill("#email", "buyer@example.com")
        page.fill("#phone", "0557877988")
        page.click("#place-order")
        page.wait_for_url("**/sandbox/tap/pay/**")
        page.screenshot(path=SHOTS / "csp-tap-hosted.png", full_page=True)
        page.click("#pay-succeed")
        page.wait_for_url("**/payments/return/**")
        page.wait_for_selector("#payment-status[data-status=paid]")
        page.screenshot(path=SHOTS / "csp-return.png", full_page=True)

        # The merchant: the overview's charts, the webhook URL's copy button.
        page.goto(f"{base}/merchant/login/")
        page.fill("input[name=username]", owner)
        page.fill("input[name=password]", PASSWORD)
        page.click("main form button[type=submit]")
        page.wait_for_url(f"{base}/merchant/")
        page.wait_for_function("typeof Chart !== 'undefined'")
        for chart in ("chart-volume", "chart-methods", "chart-success"):
            assert page.evaluate(DRAWN, chart), f"{chart} is blank"
        page.screenshot(path=SHOTS / "csp-portal-overview.png", full_page=True)
        page.goto(f"{base}{reverse('portal:gateways')}")
        button = page.locator("button.copy").first
        label = button.inner_text()
        button.click()
        page.wait_for_function(
            "(label) => document.querySelector('button.copy').textContent !== label", arg=label
        )
        # Copied (localhost is a secure context), or selected for Ctrl+C where the clipboard is
        # refused: either way the button says so in the page's language, from its data-*.
        words = {button.get_attribute("data-copied"), button.get_attribute("data-selected")}
        assert button.inner_text() in words
        if button.inner_text() == button.get_attribute("data-selected"):
            selected = page.evaluate("window.getSelection().toString()")
            assert selected.startswith(base + "/webhooks/tap/")
        page.screenshot(path=SHOTS / "csp-portal-gateways.png", full_page=True)

        # Staff: the dashboard's charts, the admin.
        page.context.clear_cookies()
        page.goto(f"{base}/dashboard/")
        page.wait_for_url("**/admin/login/**")
        page.fill("#id_username", "ops")
        page.fill("#id_password", PASSWORD)
        page.fill("#id_otp_token", totp_code_for_secret(secret))  # staff's second factor
        page.click("input[type=submit]")
        page.wait_for_url("**/dashboard/")
        page.wait_for_function("typeof Chart !== 'undefined'")
        for chart in ("chart-daily", "chart-monthly", "chart-rates", "chart-revenue"):
            assert page.evaluate(DRAWN, chart), f"{chart} is blank"
        page.screenshot(path=SHOTS / "csp-dashboard.png", full_page=True)
        page.goto(f"{base}/admin/payments/paymentattempt/")
        page.wait_for_selector("#changelist #result_list")
        page.screenshot(path=SHOTS / "csp-admin.png", full_page=True)

        # The API docs: Swagger UI's start-up script carries the nonce.
        page.goto(f"{base}/api/docs/")
        page.wait_for_selector("text=/api/v1/refunds/")
        page.screenshot(path=SHOTS / "csp-api-docs.png", full_page=False)

    assert in_browser(steps) == []


@pytest.mark.parametrize("allowed", [True, False])
def test_the_checkout_form_may_lead_to_another_origins_hosted_page(
    sandbox, settings, monkeypatch, allowed
):
    """The shopper's checkout answers with a redirect to the provider's page on another origin
    (here the same server as 127.0.0.1, while the store is on localhost): Chromium checks that
    redirect against the store page's form-action, so the page lists the hosted pages' origins.
    Without them the shopper would be stopped (the refusal the second case shows)."""
    other = sandbox.replace("localhost", "127.0.0.1")
    assert other != sandbox
    settings.WASLA_SANDBOX_BASE_URL = other
    settings.WASLA_PROVIDER_BASE_URLS = {
        **settings.WASLA_PROVIDER_BASE_URLS,
        "tap": {"sandbox": f"{other}/sandbox/tap", "live": "https://api.tap.company"},
    }
    if not allowed:
        monkeypatch.setattr(security_headers, "checkout_origins", list)  # none: 'self' only
    tenant = make_tenant("nakheel-" + sandbox.rsplit(":", 1)[1], name="Nakheel Dates")
    make_tap_config(tenant)
    product = Product.objects.create(tenant=tenant, name="Sukkari dates", price=Decimal("85.00"))

    def steps(page) -> None:  # type: ignore[no-untyped-def]
        page.goto(f"{sandbox}/store/{tenant.slug}/products/{product.pk}/")
        page.check("#pay-tapmada")
        page.fill("#email", "buyer@example.com")
        page.fill("#phone", "0557877988")
        page.click("#place-order")
        if allowed:
            page.wait_for_url(f"{other}/sandbox/tap/pay/**")
            page.wait_for_selector("#pay-succeed")
        else:
            page.wait_for_timeout(1500)
            assert not page.url.startswith(other)

    found = in_browser(steps, allow_csp_violations=True)
    if allowed:
        assert found == []
    else:
        assert any("form-action" in line for line in found), found
