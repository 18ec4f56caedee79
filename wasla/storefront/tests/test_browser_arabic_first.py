"""Every page a shopper sees, in Arabic (the default) and in English (the header switch), in
real headless Chromium: the landing page, a store, a product page (cash on delivery's name and
address, an error), the hosted Tap and Stripe pages naming the store, the return page (paid;
declined with "try another method" leading to a second method that succeeds).

Screenshots `store-*-<lang>.png` and `sandbox-*-<lang>.png` under var/screenshots/; axe-core
finds no serious or critical violation on the landing, store, product and return pages."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest

from testsupport.browser import SHOTS, axe_serious, in_browser, set_language
from wasla.orders.models import Order
from wasla.payments.gateways import gateway_config_connect
from wasla.payments.models import PaymentAttempt, PaymentGatewayConfig
from wasla.storefront.models import Product

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LANGUAGES = ["ar", "en"]
TEXT = {
    "ar": {
        "stores": "المتاجر التجريبية",
        "buy": "اشترِ الآن",
        "name_needed": "يتطلب الدفع عند الاستلام اسم مستلم الطلب.",
        "pay_on_delivery": "الدفع عند الاستلام",
        "failed": "تعذّر الدفع",
        "try_another": "جرّب وسيلة دفع أخرى",
        "paid": "مدفوع",
        "amount": "199.00\u00a0ر.س.\u200f",
        "hosted_pay": "ادفع",
    },
    "en": {
        "stores": "Demo stores",
        "buy": "Buy now",
        "name_needed": "Cash on delivery needs the name of the person receiving.",
        "pay_on_delivery": "Pay on delivery",
        "failed": "Payment failed",
        "try_another": "Try another payment method",
        "paid": "Paid",
        "amount": "SAR\u00a0199.00",
        "hosted_pay": "Pay",
    },
}
CREDENTIALS = {
    "tap": ("pk_test_arabic", "sk_test_arabic"),
    "stripe": ("pk_test_arabic", "sk_test_arabic"),
    "cod": ("", ""),
}


@pytest.fixture
def store(sandbox):
    suffix = uuid.uuid4().hex[:6]
    from testsupport.factories import make_tenant

    tenant = make_tenant("qahwa-" + suffix)
    tenant.name = "قهوة هاوس Qahwa House"
    tenant.save()
    for provider, (public, secret) in CREDENTIALS.items():
        gateway_config_connect(
            tenant=tenant,
            provider=provider,
            mode=PaymentGatewayConfig.Mode.SANDBOX,
            public_key=public,
            secret_key=secret + suffix,
        )
    product = Product.objects.create(
        tenant=tenant,
        name="دلة نحاسية Dallah set",
        description="Brass dallah with four finjan cups.",
        price=Decimal("199.00"),
    )
    return sandbox, tenant, product


def _shot(page, name: str, language: str) -> None:
    page.screenshot(path=SHOTS / f"{name}-{language}.png", full_page=True)


def _direction(page) -> tuple[str, str]:
    return page.get_attribute("html", "lang"), page.get_attribute("html", "dir")


@pytest.mark.parametrize("language", LANGUAGES)
def test_landing_store_and_cash_on_delivery(store, language):
    base, tenant, product = store
    text = TEXT[language]
    seen: dict[str, object] = {}

    def steps(page) -> None:
        if language == "en":
            set_language(page, base, "en")
        page.goto(f"{base}/")
        assert _direction(page) == (language, "rtl" if language == "ar" else "ltr")
        assert text["stores"] in page.inner_text("main")
        _shot(page, "store-landing", language)
        seen["landing"] = axe_serious(page)

        page.click(f"#store-{tenant.slug}")
        page.wait_for_url(f"**/store/{tenant.slug}/")
        assert text["buy"] in page.inner_text(f"#buy-{product.pk}")
        assert text["amount"] in page.inner_text("main")
        _shot(page, "store-home", language)
        seen["home"] = axe_serious(page)

        page.click(f"#buy-{product.pk}")
        page.check("#pay-codcod")
        page.fill("#delivery_address", "Al Olaya, King Fahd Road, Building 7421, Riyadh")
        page.click("#place-order")
        page.wait_for_selector("#customer_name-error")
        assert page.inner_text("#customer_name-error") == text["name_needed"]
        assert page.get_attribute("#customer_name", "aria-invalid") == "true"
        _shot(page, "store-product-error", language)
        seen["product"] = axe_serious(page)

        page.fill("#customer_name", "سارة القحطاني")
        page.click("#place-order")
        page.wait_for_url("**/payments/return/**")
        page.wait_for_selector("#payment-status[data-status=pending]")
        assert page.inner_text("#status-label") == text["pay_on_delivery"]
        _shot(page, "store-return-cod", language)
        seen["return"] = axe_serious(page)

    in_browser(steps)
    assert seen == {"landing": [], "home": [], "product": [], "return": []}
    order = Order.objects.get(tenant=tenant)
    assert order.customer_name == "سارة القحطاني"
    assert order.delivery_address.startswith("Al Olaya")


@pytest.mark.parametrize("language", LANGUAGES)
def test_declined_then_another_method_pays_the_same_order(store, language):
    base, tenant, product = store
    text = TEXT[language]
    seen: dict[str, object] = {}

    def steps(page) -> None:
        if language == "en":
            set_language(page, base, "en")
        page.goto(f"{base}/store/{tenant.slug}/products/{product.pk}/")
        page.check("#pay-tapmada")
        page.fill("#email", "buyer@example.com")
        _shot(page, "store-product", language)
        seen["product"] = axe_serious(page)
        page.click("#place-order")

        page.wait_for_url("**/sandbox/tap/pay/**")
        assert _direction(page)[0] == language
        assert page.inner_text("#merchant-name") == tenant.name
        assert text["hosted_pay"] in page.inner_text("#pay-succeed")
        _shot(page, "sandbox-tap-pay", language)
        page.click("#pay-decline")

        page.wait_for_url("**/payments/return/**")
        page.wait_for_selector("#payment-status[data-status=failed]")
        assert page.inner_text("#status-label") == text["failed"]
        assert page.inner_text("#try-another") == text["try_another"]
        _shot(page, "store-return-declined", language)
        seen["declined"] = axe_serious(page)

        page.click("#try-another")
        page.wait_for_selector("#retry-notice")
        assert page.is_checked("#pay-stripecard") or page.is_checked("#pay-codcod")
        _shot(page, "store-product-retry", language)
        seen["retry"] = axe_serious(page)
        page.check("#pay-stripecard")
        page.click("#place-order")

        page.wait_for_url("**/sandbox/stripe/pay/**")
        assert _direction(page)[0] == language
        assert page.inner_text("#merchant-name") == tenant.name
        _shot(page, "sandbox-stripe-pay", language)
        page.click("#pay-succeed")
        page.wait_for_url("**/3ds/**")
        assert tenant.name in page.inner_text("body")
        _shot(page, "sandbox-stripe-3ds", language)
        page.click("[id='3ds-succeed']")

        page.wait_for_url("**/payments/return/**")
        page.wait_for_selector("#payment-status[data-status=paid]")
        assert page.inner_text("#status-label") == text["paid"]
        _shot(page, "store-return-paid", language)
        seen["paid"] = axe_serious(page)

    in_browser(steps)
    assert seen == {"product": [], "declined": [], "retry": [], "paid": []}
    order = Order.objects.get(tenant=tenant)
    attempts = PaymentAttempt.objects.filter(order=order).order_by("created_at")
    assert [(a.provider, a.status) for a in attempts] == [("tap", "failed"), ("stripe", "paid")]
    assert order.status == "paid"


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_hosted_pages_switch_language_themselves(store, language):
    """The sandbox stands for a third party: its page has its own switch (a GET link that sets
    the same cookie), which brings the shopper back to the same hosted page."""
    base, tenant, product = store
    other = "en" if language == "ar" else "ar"

    def steps(page) -> None:
        if language == "en":
            set_language(page, base, "en")
        page.goto(f"{base}/store/{tenant.slug}/products/{product.pk}/")
        page.check("#pay-tapcard")
        page.click("#place-order")
        page.wait_for_url("**/sandbox/tap/pay/**")
        hosted = page.url
        page.click("#language-switch")
        page.wait_for_load_state()
        assert page.url == hosted
        assert _direction(page)[0] == other
        assert page.inner_text("#merchant-name") == tenant.name

    in_browser(steps)
