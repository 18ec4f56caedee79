"""Onboard Wasla's EGS unit with ZATCA (wasla.invoicing.zatca.onboarding): `--otp` is the
one-time code of ZATCA's portal. Resumable, and a renewal once a unit is active. It prints each
step reached (or `--json`), never a key, token or secret; on failure it says which step stopped.
"""

import json
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from wasla.invoicing.zatca.clearance import zatca_client
from wasla.invoicing.zatca.client import ZatcaRefused, ZatcaUnavailable
from wasla.invoicing.zatca.onboarding import OnboardingFailed, zatca_onboard
from wasla.tenants.context import platform_access


class Command(BaseCommand):
    help = "Onboard (or renew) Wasla's ZATCA EGS unit with the OTP from ZATCA's portal."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--otp", required=True, help="the OTP from ZATCA's Fatoora portal")
        parser.add_argument("--json", action="store_true", help="print the outcome as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        client = zatca_client()
        try:
            with platform_access(reason="ZATCA onboarding (manage.py zatca_onboard)"):
                report = zatca_onboard(otp=options["otp"], now=timezone.now(), client=client)
        except OnboardingFailed as error:
            raise CommandError(f"onboarding stopped at {error}") from None
        except ZatcaRefused as error:
            raise CommandError(f"onboarding stopped: {error}") from None
        except ZatcaUnavailable as error:
            raise CommandError(f"onboarding stopped, ZATCA unavailable: {error}") from None
        finally:
            client.close()
        if options["json"]:
            summary = {
                "environment": settings.WASLA_ZATCA_ENVIRONMENT,
                "unit": report.unit_serial,
                "renewal": report.renewal,
                "steps": report.steps,
                "stamped": report.stamped,
                "clearance": {str(o.document_id): o.outcome for o in report.cleared},
            }
            self.stdout.write(json.dumps(summary, indent=2))
            return
        kind = "renewed" if report.renewal else "onboarded"
        self.stdout.write(f"EGS unit {report.unit_serial} {kind}:")
        for step in report.steps:
            self.stdout.write(f"  - {step}")
        for outcome in report.cleared:
            self.stdout.write(f"  document {outcome.document_id}: {outcome.outcome}")
