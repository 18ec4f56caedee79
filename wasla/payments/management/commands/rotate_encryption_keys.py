"""Re-encrypt every provider secret with the first key of WASLA_ENCRYPTION_KEYS.

Rotation: prepend the new key, run this command, then remove the old key. Reading a row
decrypts it with whichever key fits; saving it encrypts with the first key.
"""

from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

from wasla.payments.models import PaymentGatewayConfig
from wasla.tenants.context import platform_access

ENCRYPTED_FIELDS = ["secret_key", "webhook_secret"]


class Command(BaseCommand):
    help = "Re-encrypt provider secrets with the newest encryption key."

    def handle(self, *args: Any, **options: Any) -> None:
        # Every tenant's secrets are re-encrypted: a platform job (audited).
        with platform_access(reason="rotate encryption keys"), transaction.atomic():
            configs = list(PaymentGatewayConfig.objects.select_for_update().order_by("pk"))
            for config in configs:
                config.save(update_fields=ENCRYPTED_FIELDS)
        self.stdout.write(f"rotated {len(configs)} gateway config(s)")
