"""Staff need a second factor (TOTP) for /admin/ and /dashboard/: signed in with a password
only, they are sent to the staff sign-in, which asks for the authenticator's code, and see no
data. Merchants sign in to the portal with their password alone (they are not staff)."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from testsupport.portal import PASSWORD, make_member
from testsupport.staff import staff_client, totp_code, totp_code_for_secret

pytestmark = pytest.mark.django_db

STAFF_PASSWORD = "pw-ops-1234"


@pytest.fixture
def staff():
    return get_user_model().objects.create_user(
        "ops", password=STAFF_PASSWORD, is_staff=True, is_superuser=True
    )


def _sign_in(client: Client, code: str | None, next_url: str = "/admin/"):
    data = {"username": "ops", "password": STAFF_PASSWORD, "next": next_url}
    if code is not None:
        data["otp_token"] = code
    return client.post("/admin/login/", data)


@pytest.mark.parametrize("url", ["/admin/", "/admin/tenants/tenant/", "/dashboard/"])
def test_staff_signed_in_without_the_second_factor_get_the_sign_in_not_the_data(staff, url):
    client = Client()
    client.force_login(staff)  # a password sign-in, no device verified
    answer = client.get(url)
    assert answer.status_code == 302
    assert answer["Location"].startswith("/admin/login/")


def test_the_staff_sign_in_asks_for_the_code_and_refuses_a_wrong_one(staff):
    client = Client()
    client.cookies["wasla_language"] = "en"
    form = client.get("/admin/login/").content.decode()
    assert 'name="otp_token"' in form
    assert 'autocomplete="one-time-code"' in form
    without = _sign_in(client, code=None)
    assert without.status_code == 200
    totp_code(staff)  # the staff member has a device now
    without = _sign_in(client, code="")
    assert "Enter the 6-digit code from your authenticator app." in without.content.decode()
    wrong = _sign_in(client, code="000000" if totp_code(staff) != "000000" else "111111")
    assert wrong.status_code == 200
    assert "That code is not valid." in wrong.content.decode()
    assert "_auth_user_id" not in client.session
    assert client.get("/admin/").status_code == 302


def test_staff_without_a_device_cannot_sign_in(staff):
    client = Client()
    assert _sign_in(client, code="123456").status_code == 200
    assert "_auth_user_id" not in client.session
    assert not TOTPDevice.objects.filter(user=staff).exists()


def test_with_the_code_staff_open_the_admin_and_the_dashboard(staff):
    client = Client()
    signed = _sign_in(client, code=totp_code(staff), next_url="/dashboard/")
    assert signed.status_code == 302
    assert signed["Location"] == "/dashboard/"
    assert client.get("/dashboard/").status_code == 200
    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/tenants/tenant/").status_code == 200


def test_a_code_works_once(staff):
    code = totp_code(staff)
    assert _sign_in(Client(), code=code).status_code == 302
    assert _sign_in(Client(), code=code).status_code == 200  # replayed: refused


def test_staff_signed_in_through_the_merchant_form_still_need_the_code(staff):
    client = Client()
    assert client.post(
        "/merchant/login/", {"username": "ops", "password": STAFF_PASSWORD}
    ).status_code in (200, 302)
    assert client.get("/dashboard/")["Location"].startswith("/admin/login/")
    assert client.get("/admin/")["Location"].startswith("/admin/login/")


def test_merchants_sign_in_to_the_portal_with_their_password_alone(tenant):
    make_member(tenant, username="salem")
    client = Client()
    assert (
        client.post("/merchant/login/", {"username": "salem", "password": PASSWORD}).status_code
        == 302
    )
    assert client.get("/merchant/").status_code == 200
    assert not TOTPDevice.objects.exists()
    # A merchant is not staff: the second factor would not open the dashboard either.
    assert client.get("/dashboard/").status_code == 403


def test_verified_non_staff_get_no_admin(tenant):
    member = make_member(tenant, username="salem")
    client = staff_client(member)  # a verified device, but no is_staff
    assert client.get("/admin/")["Location"].startswith("/admin/login/")
    assert client.get("/dashboard/").status_code == 403


def test_staff_totp_gives_a_new_secret_that_signs_in(staff, capsys):
    old = totp_code(staff) and TOTPDevice.objects.get(user=staff).key
    call_command("staff_totp", "ops", "--json")
    secret = json.loads(capsys.readouterr().out)["secret"]
    device = TOTPDevice.objects.get(user=staff)  # one device: the old one is gone
    assert device.key != old
    client = Client()
    assert _sign_in(client, code=totp_code_for_secret(secret)).status_code == 302
    assert client.get("/admin/").status_code == 200
