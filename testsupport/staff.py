"""Staff in tests sign in as in production: password and a verified second factor (TOTP).

`staff_login(client, user)` is `force_login` plus the second factor, for tests about something
else than signing in; `totp_code(user)` is the current code of the user's authenticator, for
tests (and browsers) that sign in through the real form.
"""

from __future__ import annotations

from base64 import b32decode

from django.contrib.auth.models import User
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP

from wasla.common.staff_otp import StaffTotp, staff_totp_ensure


def staff_login(client: Client, user: User) -> Client:
    """Sign `user` in on `client` with a verified TOTP device, as the staff sign-in does."""
    totp = staff_totp_ensure(user=user)
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = totp.device.persistent_id
    session.save()
    return client


def staff_client(user: User) -> Client:
    return staff_login(Client(), user)


def totp_code(user: User) -> str:
    """The current code of `user`'s authenticator (a device is created when there is none)."""
    return totp_code_for_secret(staff_totp_ensure(user=user).secret)


def totp_code_for_secret(secret: str) -> str:
    return f"{TOTP(b32decode(secret)).token():06d}"


__all__ = ["StaffTotp", "staff_client", "staff_login", "totp_code", "totp_code_for_secret"]
