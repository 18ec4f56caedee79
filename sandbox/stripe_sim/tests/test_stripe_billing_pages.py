"""The card-saving pages of Checkout in setup mode, in real headless Chromium, with screenshots
under var/screenshots/: the card choice, then 3-D Secure for a card that needs it."""

from __future__ import annotations

import pytest
import stripe

from sandbox.stripe_sim.models import StripePaymentMethod
from sandbox.stripe_sim.tests.test_stripe_billing import (
    AUTH_REQUIRED,
    customer_create,
    setup_session_create,
)
from testsupport.browser import SHOTS, in_browser

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_saving_a_card_through_3ds_in_chromium(client: stripe.StripeClient) -> None:
    customer = customer_create(client)
    session = setup_session_create(client, customer.id)

    def steps(page) -> None:
        page.goto(session.url)
        page.screenshot(path=SHOTS / "stripe-setup-1-choose-card.png", full_page=True)
        assert "بيئة اختبار" in page.inner_text("body")  # "Sandbox": Arabic by default
        page.click(f"[id='save-{AUTH_REQUIRED}']")
        page.wait_for_url("**/3ds/**")
        page.screenshot(path=SHOTS / "stripe-setup-2-3ds.png", full_page=True)
        assert page.inner_text("#threeds-card").endswith("3184")

    in_browser(steps)
    assert not StripePaymentMethod.objects.filter(customer=customer.id).exists()
