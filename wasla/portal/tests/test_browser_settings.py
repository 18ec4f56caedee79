"""The settings pages in real headless Chromium, in Arabic (right to left) and English: the
gateways page (test connection against the sandbox, the webhook URL's copy button), the page
that shows a new API token once, and the team page. Screenshots under var/screenshots/
(`portal-<page>-<lang>.png`); no serious or critical axe-core violation."""

from __future__ import annotations

import pytest
from django.urls import reverse

from testsupport.browser import SHOTS, axe_serious, in_browser, set_language
from testsupport.factories import (
    make_cod_config,
    make_paypal_config,
    make_stripe_config,
    make_tap_config,
    make_tenant,
)
from wasla.portal.tests.settings_support import PASSWORD, make_member
from wasla.tenants.models import ApiToken, Tenant
from wasla.tenants.services import api_token_create

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LANGUAGES = ["ar", "en"]


@pytest.fixture
def store(sandbox: str) -> tuple[str, Tenant, str]:
    tenant = make_tenant("nakheel-" + sandbox.rsplit(":", 1)[1], name="Nakheel Dates")
    owner = make_member(tenant, "owner", username=f"{tenant.slug}-owner")
    make_member(tenant, "finance", username="sara.finance")
    make_member(tenant, "viewer", username="omar.viewer")
    return sandbox, tenant, owner.user.username


def sign_in(page, base: str, username: str, language: str) -> None:  # type: ignore[no-untyped-def]
    set_language(page, base, language)
    page.goto(f"{base}{reverse('portal:login')}")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_load_state()


@pytest.mark.parametrize("language", LANGUAGES)
def test_gateways_page(store, language):
    base, tenant, username = store
    tap = make_tap_config(tenant)
    stripe = make_stripe_config(tenant)
    make_paypal_config(tenant)
    make_cod_config(tenant)
    make_tap_config(tenant, mode="live", is_active=False, public_key="pk_live_nakheel")
    secrets_ = [tap.secret_key, stripe.secret_key, stripe.webhook_secret]

    def steps(page) -> None:  # type: ignore[no-untyped-def]
        sign_in(page, base, username, language)
        page.goto(f"{base}{reverse('portal:gateways')}")
        assert page.get_attribute("html", "dir") == ("rtl" if language == "ar" else "ltr")
        page.click(f"#test-{tap.pk}")
        page.wait_for_selector(".messages li.success")
        copy = page.locator(f"button[data-copy=webhook-url-{tap.pk}]")
        before = copy.inner_text()
        copy.click()
        page.wait_for_function(
            "([el, before]) => el.textContent !== before", arg=[copy.element_handle(), before]
        )
        html = page.content()
        for secret in secrets_:
            assert secret not in html
        page.screenshot(path=SHOTS / f"portal-gateways-{language}.png", full_page=True)
        assert axe_serious(page) == []

    in_browser(steps)


@pytest.mark.parametrize("language", LANGUAGES)
def test_token_created_page(store, language):
    base, tenant, username = store
    api_token_create(tenant=tenant, name="Old POS")

    def steps(page) -> None:  # type: ignore[no-untyped-def]
        sign_in(page, base, username, language)
        page.goto(f"{base}{reverse('portal:token_create')}")
        page.fill("input[name=name]", "ERP integration")
        page.click("#create-token")
        page.wait_for_selector("#new-token")
        plaintext = page.inner_text("#new-token")
        assert plaintext.startswith("wsl_")
        page.screenshot(path=SHOTS / f"portal-token-created-{language}.png", full_page=True)
        assert axe_serious(page) == []
        page.reload()
        assert page.locator("#new-token").count() == 0
        page.goto(f"{base}{reverse('portal:tokens')}")
        assert plaintext not in page.content()
        page.screenshot(path=SHOTS / f"portal-tokens-{language}.png", full_page=True)
        assert axe_serious(page) == []

    in_browser(steps)
    assert ApiToken.objects.filter(tenant=tenant).count() == 2


@pytest.mark.parametrize("language", LANGUAGES)
def test_team_page(store, language):
    base, _tenant, username = store

    def steps(page) -> None:  # type: ignore[no-untyped-def]
        sign_in(page, base, username, language)
        page.goto(f"{base}{reverse('portal:team')}")
        assert page.locator("tbody tr").count() == 3
        page.screenshot(path=SHOTS / f"portal-team-{language}.png", full_page=True)
        assert axe_serious(page) == []
        page.goto(f"{base}{reverse('portal:team_invite')}")
        page.screenshot(path=SHOTS / f"portal-team-invite-{language}.png", full_page=True)
        assert axe_serious(page) == []

    in_browser(steps)
