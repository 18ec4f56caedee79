"""Sign-in, sign-out and password reset, end to end: the e-mail (locmem) carries the link,
the link sets a new password, the new password signs in."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.test import Client

from testsupport.portal import PASSWORD, make_member

pytestmark = pytest.mark.django_db


def test_sign_in_and_out(tenant):
    user = make_member(tenant, username="huda")
    client = Client()
    wrong = client.post("/merchant/login/", {"username": "huda", "password": "nope"})
    assert wrong.status_code == 200  # the form again, with its error
    assert "_auth_user_id" not in client.session
    answer = client.post(
        "/merchant/login/?next=/merchant/payments/",
        {"username": "huda", "password": PASSWORD, "next": "/merchant/payments/"},
    )
    assert answer.status_code == 302
    assert answer["Location"] == "/merchant/payments/"
    assert client.get("/merchant/payments/").status_code == 200
    assert int(client.session["_auth_user_id"]) == user.pk
    out = client.post("/merchant/logout/")
    assert out.status_code == 302
    assert out["Location"] == "/merchant/login/"
    plain = client.post("/merchant/login/", {"username": "huda", "password": PASSWORD})
    assert plain["Location"] == "/merchant/"  # no ?next=: the overview
    out = client.post("/merchant/logout/")
    assert out.status_code == 302
    assert out["Location"] == "/merchant/login/"
    assert client.get("/merchant/").status_code == 302


def test_sign_in_page_is_arabic_by_default_and_english_on_request():
    arabic = Client().get("/merchant/login/")
    assert '<html lang="ar" dir="rtl">' in arabic.content.decode()
    english = Client()
    english.cookies["wasla_language"] = "en"
    page = english.get("/merchant/login/").content.decode()
    assert '<html lang="en" dir="ltr">' in page
    assert "Sign in to your store" in page


def test_password_reset_end_to_end(tenant):
    make_member(tenant, username="salem", email="salem@merchant.example")
    client = Client()
    client.cookies["wasla_language"] = "en"
    sent = client.post("/merchant/password-reset/", {"email": "salem@merchant.example"})
    assert sent.status_code == 302
    assert sent["Location"] == "/merchant/password-reset/sent/"
    assert len(mail.outbox) == 1
    link = re.search(r"https?://[^/\s]+(/merchant/password-reset/[^\s]+/)", mail.outbox[0].body)
    assert link, mail.outbox[0].body
    form = client.get(link.group(1), follow=True)
    assert form.status_code == 200
    set_url = form.redirect_chain[-1][0] if form.redirect_chain else link.group(1)
    new = "a brand new passphrase 77"
    done = client.post(set_url, {"new_password1": new, "new_password2": new})
    assert done.status_code == 302
    assert done["Location"] == "/merchant/password-reset/done/"
    fresh = Client()
    refused = fresh.post("/merchant/login/", {"username": "salem", "password": PASSWORD})
    assert refused.status_code == 200  # the form again: the old password no longer signs in
    assert "_auth_user_id" not in fresh.session
    signed = fresh.post("/merchant/login/", {"username": "salem", "password": new})
    assert signed.status_code == 302
    assert fresh.get("/merchant/").status_code == 200
    # The link works once.
    again = client.get(link.group(1), follow=True)
    assert b"expired" in again.content


def test_password_reset_for_an_unknown_address_says_the_same():
    sent = Client().post("/merchant/password-reset/", {"email": "nobody@example.com"})
    assert sent.status_code == 302
    assert mail.outbox == []
