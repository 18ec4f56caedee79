"""Stripe (card with 3DS), PayPal and cash on delivery from the storefront in real headless
Chromium; screenshots of each step under var/screenshots/."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest

from testsupport.browser import SHOTS, in_browser, set_language
from testsupport.factories import make_tenant
from wasla.payments.gateways import gateway_config_connect
from wasla.payments.models import PaymentAttempt, PaymentGatewayConfig
from wasla.settlement.models import SettlementRecord
from wasla.storefront.models import Product

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CREDENTIALS = {
    "stripe": ("pk_test_browser", "sk_test_browser"),
    "paypal": ("browser-client", "browser-secret"),
    "cod": ("", ""),
}


@pytest.fixture
def store(sandbox):
    tenant = make_tenant("qahwa-" + uuid.uuid4().hex[:6])
    tenant.name = "Qahwa House"
    tenant.save()
    for provider, (public, secret) in CREDENTIALS.items():
        gateway_config_connect(
            tenant=tenant,
            provider=provider,
            mode=PaymentGatewayConfig.Mode.SANDBOX,
            public_key=public,
            secret_key=secret + uuid.uuid4().hex[:6],
        )
    product = Product.objects.create(
        tenant=tenant,
        name="Dallah set",
        description="Brass dallah with four finjan cups.",
        price=Decimal("199.00"),
    )
    return sandbox, tenant, product


def _checkout(page, base, tenant, product, option: str, name: str) -> None:
    page.goto(f"{base}/store/{tenant.slug}/products/{product.pk}/")
    page.check(f"#pay-{option}")
    page.fill("#email", "buyer@example.com")
    if option == "codcod":  # the courier needs someone to deliver to
        page.fill("#customer_name", "Sara Alqahtani")
        page.fill("#delivery_address", "Al Olaya, King Fahd Road, Building 7421, Riyadh")
    page.screenshot(path=SHOTS / f"{name}-1-checkout.png", full_page=True)
    page.click("#place-order")


def test_stripe_card_with_3ds_in_chromium(store):
    base, tenant, product = store

    def steps(page) -> None:
        _checkout(page, base, tenant, product, "stripecard", "stripe")
        page.wait_for_url("**/sandbox/stripe/pay/**")
        assert page.inner_text("#merchant-name") == "Qahwa House"  # the store, not the sandbox
        page.screenshot(path=SHOTS / "stripe-2-hosted-page.png", full_page=True)
        page.click("#pay-succeed")
        page.wait_for_url("**/3ds/**")
        page.screenshot(path=SHOTS / "stripe-3-3ds.png", full_page=True)
        page.click("[id='3ds-succeed']")
        page.wait_for_url("**/payments/return/**")
        page.wait_for_selector("#payment-status[data-status=paid]")
        page.screenshot(path=SHOTS / "stripe-4-paid.png", full_page=True)

    in_browser(steps)
    attempt = PaymentAttempt.objects.get(tenant=tenant)
    assert (attempt.provider, attempt.status) == ("stripe", "paid")
    assert SettlementRecord.objects.get(payment_attempt=attempt).wasla_fee == Decimal("1.00")


def test_paypal_in_chromium(store):
    base, tenant, product = store

    def steps(page) -> None:
        _checkout(page, base, tenant, product, "paypalpaypal", "paypal")
        page.wait_for_url("**/sandbox/paypal/checkoutnow/**")
        assert page.inner_text("#merchant-name") == "Qahwa House"  # brand_name
        assert page.get_attribute("html", "dir") == "rtl"  # Arabic first there too
        page.screenshot(path=SHOTS / "paypal-2-approval-page.png", full_page=True)
        page.click("#pay-succeed")
        page.wait_for_url("**/payments/return/**")
        page.wait_for_selector("#payment-status[data-status=paid]")
        page.screenshot(path=SHOTS / "paypal-3-paid.png", full_page=True)

    in_browser(steps)
    attempt = PaymentAttempt.objects.get(tenant=tenant)
    assert (attempt.provider, attempt.status) == ("paypal", "paid")
    assert SettlementRecord.objects.filter(payment_attempt=attempt).count() == 1


def test_cash_on_delivery_in_chromium(store):
    base, tenant, product = store

    def steps(page) -> None:
        set_language(page, base, "en")  # the assertions read the English page
        _checkout(page, base, tenant, product, "codcod", "cod")
        page.wait_for_url("**/payments/return/**")
        page.wait_for_selector("#payment-status[data-status=pending]")
        page.screenshot(path=SHOTS / "cod-2-pay-on-delivery.png", full_page=True)
        assert page.inner_text("#status-label") == "Pay on delivery"
        assert "SAR\u00a0199.00" in page.inner_text("#payment-status")

    in_browser(steps)
    attempt = PaymentAttempt.objects.get(tenant=tenant)
    assert (attempt.provider, attempt.status) == ("cod", "pending")
    assert not SettlementRecord.objects.exists()
