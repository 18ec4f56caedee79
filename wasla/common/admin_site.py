"""The admin site asks staff for a second factor: a TOTP code from an authenticator app.

`StaffAdminConfig` (wasla/common/admin_apps.py) replaces "django.contrib.admin" in
INSTALLED_APPS and makes `StaffAdminSite`
the default site (Django's documented way to override `admin.site`), so every admin registered
with `admin.site` / `@admin.register` is behind it. The site is django-otp's `OTPAdminSite`:
a staff member signed in without a verified device (a session from the merchant portal's form, or
`force_login`) is treated as not staff, and sent to the admin's sign-in, which asks for the
username, the password and the current code. The dashboard checks the same (wasla/dashboard/
access.py), so one sign-in serves both.

A staff member gets a device from `manage.py staff_totp <username>` (or the demo's seed); the
admin lists the devices under "TOTP devices" to remove a lost one.
"""

from __future__ import annotations

from typing import Any

from django.contrib.admin.forms import AdminAuthenticationForm
from django.utils.translation import gettext_lazy as _
from django_otp.admin import OTPAdminAuthenticationForm, OTPAdminSite
from django_otp.forms import OTPAuthenticationFormMixin
from django_otp.plugins.otp_totp.models import TOTPDevice


class StaffAuthenticationForm(OTPAdminAuthenticationForm):
    """Username, password and the code; django-otp's messages in our words (and catalog).

    A staff member has one authenticator (wasla/common/staff_otp.py), so the form checks the code
    against it instead of asking which device to use, as django-otp's form would.
    """

    otp_error_messages = dict(
        OTPAuthenticationFormMixin.otp_error_messages,
        token_required=_("Enter the 6-digit code from your authenticator app."),
        invalid_token=_("That code is not valid. Enter the current code from your app."),
        device_required=_(
            "No authenticator is set up for this account. Ask an administrator for one."
        ),
    )

    def clean(self) -> dict[str, Any]:
        cleaned = AdminAuthenticationForm.clean(self)  # the password (and django-axes's lock)
        user = self.get_user()
        device = TOTPDevice.objects.devices_for_user(user, confirmed=True).order_by("pk").first()
        if device is not None:
            cleaned["otp_device"] = device.persistent_id
        self.clean_otp(user)
        return cleaned


class StaffAdminSite(OTPAdminSite):
    login_form = StaffAuthenticationForm
    login_template = "admin/staff_login.html"

    def __init__(self, name: str = "admin") -> None:
        super().__init__(name)
