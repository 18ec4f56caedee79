"""The portal's exports page in Chromium, Arabic and English: the datasets and a period, a
mistake shown on the page, a choice downloaded as a CSV file."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client

from testsupport.browser import SHOTS, axe_serious, in_browser, set_language
from testsupport.factories import make_attempt, make_tap_config, make_tenant
from wasla.tenants.models import TenantMember

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]


@pytest.mark.parametrize("language", ["ar", "en"])
def test_exports_page(live_server, language):
    tenant = make_tenant(f"nakheel-{language}", name="متجر النخيل")
    make_attempt(make_tap_config(tenant), status="failed", failure_message="رُفضت البطاقة")
    user = get_user_model().objects.create_user(f"finance-{language}", password="x" * 12)
    TenantMember.objects.create(tenant=tenant, user=user, role=TenantMember.Role.FINANCE)
    client = Client()
    client.force_login(user)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    base = live_server.url

    def steps(page) -> None:
        set_language(page, base, language)
        page.context.add_cookies(
            [{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": base}]
        )
        page.goto(f"{base}/merchant/exports/")
        assert page.get_attribute("html", "dir") == ("rtl" if language == "ar" else "ltr")
        assert page.locator("input[name=dataset]").count() == 5
        page.screenshot(path=SHOTS / f"portal-exports-{language}.png", full_page=True)
        assert axe_serious(page) == []

        page.fill("input[name=date_from]", "2026-12-05")
        page.fill("input[name=date_to]", "2026-12-01")
        page.click("form.exports button[type=submit]")
        page.wait_for_selector("[role=alert]")
        page.screenshot(path=SHOTS / f"portal-exports-error-{language}.png", full_page=True)
        assert axe_serious(page) == []

        page.fill("input[name=date_from]", "")
        page.fill("input[name=date_to]", "")
        with page.expect_download() as info:
            page.click("form.exports button[type=submit]")
        download = info.value
        assert download.suggested_filename.startswith("wasla-payments-")
        body = Path(download.path()).read_text(encoding="utf-8")
        assert body.startswith("\ufeffid,tenant,")
        assert "رُفضت البطاقة" in body

    in_browser(steps)
