"""Staff sessions end when the browser closes and at the latest WASLA_STAFF_SESSION_SECONDS
after sign-in; merchants keep Django's two-week session."""

from __future__ import annotations

import time

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from testsupport.portal import PASSWORD, make_member
from testsupport.staff import totp_code
from wasla.common.staff_session import DEADLINE_KEY

pytestmark = pytest.mark.django_db


def test_a_staff_session_is_a_browser_session_with_a_deadline(settings):
    assert settings.WASLA_STAFF_SESSION_SECONDS == 8 * 3600
    staff = get_user_model().objects.create_user("ops", password="pw-ops-1234", is_staff=True)
    client = Client()
    before = int(time.time())
    signed = client.post(
        "/admin/login/",
        {"username": "ops", "password": "pw-ops-1234", "otp_token": totp_code(staff)},
    )
    after = int(time.time())
    assert signed.status_code == 302
    cookie = signed.cookies[settings.SESSION_COOKIE_NAME]
    assert not cookie["max-age"]  # no lifetime: the browser drops it when it closes
    assert not cookie["expires"]
    deadline = client.session[DEADLINE_KEY]
    assert before + 8 * 3600 <= deadline <= after + 8 * 3600
    assert client.get("/dashboard/").status_code == 200

    # Past the deadline the session is over: signed out, sent to the sign-in.
    session = client.session
    session[DEADLINE_KEY] = int(time.time()) - 1
    session.save()
    answer = client.get("/dashboard/")
    assert answer.status_code == 302
    assert answer["Location"].startswith("/admin/login/")
    assert "_auth_user_id" not in client.session
    assert client.get("/admin/").status_code == 302


def test_a_merchant_session_is_djangos_default(settings, tenant):
    make_member(tenant, username="salem")
    client = Client()
    signed = client.post("/merchant/login/", {"username": "salem", "password": PASSWORD})
    assert signed.status_code == 302
    cookie = signed.cookies[settings.SESSION_COOKIE_NAME]
    assert int(cookie["max-age"]) == settings.SESSION_COOKIE_AGE
    assert DEADLINE_KEY not in client.session
