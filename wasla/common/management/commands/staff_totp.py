"""Give a staff member a new TOTP device (first sign-in, a lost phone) and show its secret once:
the otpauth:// URL and the base32 text for their authenticator app. Old devices are removed."""

from __future__ import annotations

import json
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from wasla.common.staff_otp import staff_totp_replace


class Command(BaseCommand):
    help = "Create a new TOTP device for a staff user and print its secret (shown once)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("username")
        parser.add_argument("--json", action="store_true", help="print the result as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        user = get_user_model().objects.filter(username=options["username"]).first()
        if user is None or not user.is_staff:
            raise CommandError(f"no staff user {options['username']!r}")
        totp = staff_totp_replace(user=user)
        if options["json"]:
            self.stdout.write(json.dumps({"username": user.get_username(), "secret": totp.secret}))
            return
        self.stdout.write(f"TOTP secret for {user.get_username()}: {totp.secret}")
        self.stdout.write(f"Authenticator URL: {totp.url}")
