"""Staff's second factor: one confirmed TOTP device per staff member (django-otp).

The secret is shown once, as the base32 text and the otpauth:// URL an authenticator app
scans or takes by hand; it is kept in the database (django-otp's TOTPDevice.key, hex) and
never logged.
"""

from __future__ import annotations

from base64 import b32encode
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

DEVICE_NAME = "authenticator"


@dataclass(frozen=True)
class StaffTotp:
    device: TOTPDevice
    secret: str  # base32, as authenticator apps take it
    url: str  # otpauth://totp/...


def staff_totp(device: TOTPDevice) -> StaffTotp:
    return StaffTotp(
        device=device, secret=b32encode(device.bin_key).decode("ascii"), url=device.config_url
    )


@transaction.atomic
def staff_totp_replace(*, user: AbstractBaseUser) -> StaffTotp:
    """A new confirmed device for `user`, the old ones removed (a lost phone, a new secret)."""
    TOTPDevice.objects.filter(user=user).delete()
    return staff_totp(TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=True))


@transaction.atomic
def staff_totp_ensure(*, user: AbstractBaseUser) -> StaffTotp:
    """`user`'s confirmed device, created when there is none (the demo's seed, run again)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=True)
    return staff_totp(device)
