"""Brute force on the sign-in forms (django-axes, attempts kept in PostgreSQL): after five wrong
passwords for a username from one address, the sign-in is locked — the next try is refused even
with the right password — with the translated page, 429 and Retry-After, until the cool-off ends.
The merchant portal's form and the staff sign-in (admin and dashboard) alike."""

from __future__ import annotations

import datetime as dt

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import get_user_model
from django.test import Client

from testsupport.portal import PASSWORD, make_member
from testsupport.staff import totp_code

pytestmark = pytest.mark.django_db

WRONG = "not the password"


def _portal_try(client: Client, username: str, password: str):
    return client.post("/merchant/login/", {"username": username, "password": password})


def test_the_portal_locks_after_five_wrong_passwords_even_the_right_one_then(settings, tenant):
    assert settings.AXES_FAILURE_LIMIT == 5
    user = make_member(tenant, username="salem")
    client = Client()
    client.cookies["wasla_language"] = "en"
    for _ in range(4):
        answer = _portal_try(client, "salem", WRONG)
        assert answer.status_code == 200  # the form again, with its error
        assert "Sign in to your store" in answer.content.decode()
    locked = _portal_try(client, "salem", WRONG)  # the fifth wrong password locks
    assert locked.status_code == 429
    refused = _portal_try(client, "salem", PASSWORD)  # the sixth try: the right password
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) == 15 * 60
    page = refused.content.decode()
    assert "Sign-in paused" in page
    assert "locked after 5 wrong passwords" in page
    assert "_auth_user_id" not in client.session
    assert client.get("/merchant/").status_code == 302  # not signed in

    # The lock is on this username from this address: the owner elsewhere still signs in.
    elsewhere = Client(REMOTE_ADDR="192.0.2.44")
    assert _portal_try(elsewhere, "salem", PASSWORD).status_code == 302
    assert elsewhere.get("/merchant/").status_code == 200

    # After the cool-off the right password signs in again (and clears the failures).
    AccessAttempt.objects.update(attempt_time=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=16))
    assert _portal_try(client, "salem", PASSWORD).status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)
    assert not AccessAttempt.objects.filter(username="salem", failures_since_start__gt=0).exists()


def test_the_lock_page_is_arabic_first(tenant):
    make_member(tenant, username="noura")
    client = Client()
    for _ in range(5):
        _portal_try(client, "noura", WRONG)
    page = _portal_try(client, "noura", PASSWORD).content.decode()
    assert '<html lang="ar" dir="rtl">' in page
    assert "توقّف تسجيل الدخول" in page


def test_the_staff_sign_in_locks_too_even_with_the_right_code():
    staff = get_user_model().objects.create_user("ops", password="pw-ops-1234", is_staff=True)
    client = Client()
    for _ in range(5):
        answer = client.post(
            "/admin/login/", {"username": "ops", "password": WRONG, "otp_token": "000000"}
        )
    assert answer.status_code == 429
    refused = client.post(
        "/admin/login/",
        {"username": "ops", "password": "pw-ops-1234", "otp_token": totp_code(staff)},
    )
    assert refused.status_code == 429
    assert client.get("/admin/").status_code == 302
    assert client.get("/dashboard/").status_code == 302
