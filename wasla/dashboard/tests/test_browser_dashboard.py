"""The dashboard in real headless Chromium, in Arabic and in English: staff sign in through the
admin's login, see every chart drawn, filter by tenant, drill down to the payments, open the
invoices and run the simulator. Screenshots: var/screenshots/dashboard-*-<lang>.png."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from testsupport.browser import SHOTS, axe_serious, in_browser, set_language
from testsupport.staff import totp_code_for_secret
from wasla.common.staff_otp import staff_totp_ensure
from wasla.dashboard.rollups import FULL_DAYS, rollup_refresh
from wasla.dashboard.tests.books import build_book

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHARTS = ["chart-daily", "chart-monthly", "chart-rates", "chart-revenue"]

# True when the canvas holds any pixel a blank canvas of its size does not.
DRAWN = """(id) => {
  const canvas = document.getElementById(id);
  const blank = document.createElement("canvas");
  blank.width = canvas.width; blank.height = canvas.height;
  return canvas.width > 0 && canvas.toDataURL() !== blank.toDataURL();
}"""


@pytest.mark.parametrize("lang", ["ar", "en"])
def test_staff_use_the_dashboard_in_chromium(live_server, lang):
    book = build_book()
    rollup_refresh(since=timezone.localdate() - dt.timedelta(days=FULL_DAYS))
    ops = get_user_model().objects.create_user("ops", password="pw-ops-1234", is_staff=True)
    secret = staff_totp_ensure(user=ops).secret
    base = live_server.url
    souq_option = f"{book.souq.name} ({book.souq.slug})"

    def steps(page) -> None:
        set_language(page, base, lang)
        page.goto(f"{base}/dashboard/")
        page.wait_for_url("**/admin/login/**")
        page.fill("#id_username", "ops")
        page.fill("#id_password", "pw-ops-1234")
        page.fill("#id_otp_token", totp_code_for_secret(secret))  # the authenticator's code
        page.click("input[type=submit]")
        page.wait_for_url("**/dashboard/")
        assert page.get_attribute("html", "dir") == ("rtl" if lang == "ar" else "ltr")
        page.wait_for_function("typeof Chart !== 'undefined'")
        for chart in CHARTS:
            assert page.evaluate(DRAWN, chart), f"{chart} is blank"
        page.screenshot(path=SHOTS / f"dashboard-home-{lang}.png", full_page=True)
        assert axe_serious(page) == []
        overflow = page.evaluate(
            "document.documentElement.scrollWidth > document.documentElement.clientWidth"
        )
        assert not overflow, "the page scrolls sideways"

        page.select_option("#id_tenant", label=souq_option)
        page.click("#apply-filters")
        page.wait_for_url(f"**tenant={book.souq.pk}**")
        for chart in CHARTS:
            assert page.evaluate(DRAWN, chart), f"{chart} is blank after filtering"
        top = page.inner_text("#top-tenants")
        assert book.souq.name in top
        assert book.nakheel.name not in top
        page.screenshot(path=SHOTS / f"dashboard-home-filtered-{lang}.png", full_page=True)

        page.click("#daily-drill")
        page.wait_for_url(f"**/dashboard/payments/?**tenant={book.souq.pk}**")
        rows = page.locator("#payments-table tbody tr")
        assert rows.count() == 1
        assert "200.00" in rows.first.inner_text()
        page.screenshot(path=SHOTS / f"dashboard-payments-{lang}.png", full_page=True)
        assert axe_serious(page) == []
        # The drilled-down list as a CSV: the tenant's payment, Excel's BOM, Arabic intact.
        with page.expect_download() as download:
            page.click("#download-csv")
        csv_text = Path(download.value.path()).read_bytes().decode("utf-8")
        assert csv_text.startswith("\ufeff")
        lines = csv_text.strip().splitlines()
        assert len(lines) == 2, lines  # the header and the one payment
        assert "200.00" in lines[1]

        page.goto(f"{base}/dashboard/invoices/?status=overdue")
        assert page.locator("#invoices-table tbody tr").count() == 1
        page.screenshot(path=SHOTS / f"dashboard-invoices-{lang}.png", full_page=True)
        assert axe_serious(page) == []

        page.goto(f"{base}/dashboard/simulator/")
        page.fill("#id_percentage", "2.5")
        page.fill("#id_fixed_fee", "0.25")
        page.click("#apply-filters")
        page.wait_for_selector("#simulation")
        assert page.inner_text("#sim-count") == "2"
        assert "4.25" in page.inner_text("#sim-proposed")
        page.screenshot(path=SHOTS / f"dashboard-simulator-{lang}.png", full_page=True)
        assert axe_serious(page) == []

    in_browser(steps)
