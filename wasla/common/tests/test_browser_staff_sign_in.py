"""Staff's sign-in in real headless Chromium, in Arabic (right to left) and English: the admin's
sign-in page asks for the authenticator's code besides the password; a wrong code keeps staff
out, the right one opens the dashboard; five wrong passwords bring the lock-out page.
Screenshots under var/screenshots/ (`staff-sign-in-<lang>.png`, `staff-lockout-<lang>.png`);
no serious or critical axe-core violation; every browser test fails on a CSP refusal."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from testsupport.browser import SHOTS, axe_serious, in_browser, set_language
from testsupport.staff import totp_code_for_secret
from wasla.common.staff_otp import staff_totp_ensure

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "pw-ops-5678"


def _fill(page, username: str, password: str, code: str) -> None:  # type: ignore[no-untyped-def]
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.fill("#id_otp_token", code)
    page.click("input[type=submit]")
    page.wait_for_load_state()


@pytest.mark.parametrize("language", ["ar", "en"])
def test_staff_sign_in_asks_for_the_code(live_server, language):
    ops = get_user_model().objects.create_user("ops", password=PASSWORD, is_staff=True)
    secret = staff_totp_ensure(user=ops).secret
    base = live_server.url

    def steps(page) -> None:  # type: ignore[no-untyped-def]
        set_language(page, base, language)
        page.goto(f"{base}/dashboard/")
        page.wait_for_url("**/admin/login/**")
        assert page.get_attribute("html", "dir") == ("rtl" if language == "ar" else "ltr")
        assert page.locator("#id_otp_token").is_visible()
        page.screenshot(path=SHOTS / f"staff-sign-in-{language}.png", full_page=True)
        assert axe_serious(page) == []

        wrong = f"{(int(totp_code_for_secret(secret)) + 1) % 1_000_000:06d}"
        _fill(page, "ops", PASSWORD, wrong)
        assert "/admin/login/" in page.url  # the right password alone does not let staff in
        page.screenshot(path=SHOTS / f"staff-sign-in-wrong-code-{language}.png", full_page=True)

        _fill(page, "ops", PASSWORD, totp_code_for_secret(secret))
        page.wait_for_url("**/dashboard/")

    assert in_browser(steps) == []


@pytest.mark.parametrize("language", ["ar", "en"])
def test_five_wrong_passwords_bring_the_lock_out_page(live_server, language):
    ops = get_user_model().objects.create_user("ops", password=PASSWORD, is_staff=True)
    secret = staff_totp_ensure(user=ops).secret
    base = live_server.url

    def steps(page) -> None:  # type: ignore[no-untyped-def]
        set_language(page, base, language)
        for attempt in range(5):
            page.goto(f"{base}/admin/login/")
            _fill(page, "ops", f"wrong-{attempt}", totp_code_for_secret(secret))
        assert page.get_attribute("html", "lang") == language
        assert page.locator("main").is_visible()
        page.screenshot(path=SHOTS / f"staff-lockout-{language}.png", full_page=True)
        assert axe_serious(page) == []
        # Locked: the right password and code are refused too.
        page.goto(f"{base}/admin/login/")
        _fill(page, "ops", PASSWORD, totp_code_for_secret(secret))
        assert "/dashboard/" not in page.url
        assert "/admin/login/" in page.url

    assert in_browser(steps) == []
