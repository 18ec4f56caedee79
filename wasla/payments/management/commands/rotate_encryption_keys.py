"""Re-encrypt every secret stored at rest with the first key of WASLA_ENCRYPTION_KEYS.

Rotation: prepend the new key, run this command, then remove the old key. Reading a row
decrypts it with whichever key fits; saving it encrypts with the first key. Every model with an
`EncryptedTextField` is covered, whichever app it belongs to (the merchants' gateway secrets,
the ZATCA unit's private key and CSIDs), found through the app registry rather than imported, so
a model added later is rotated without touching this command.
"""

from collections.abc import Iterator
from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import models, transaction

from wasla.common.crypto import EncryptedTextField
from wasla.tenants.context import platform_access


def encrypted_models() -> Iterator[tuple[type[models.Model], list[str]]]:
    """Each model storing encrypted text, with the names of those fields."""
    for model in apps.get_models():
        fields = [
            field.name
            for field in model._meta.concrete_fields
            if isinstance(field, EncryptedTextField)
        ]
        if fields:
            yield model, fields


class Command(BaseCommand):
    help = "Re-encrypt every secret stored at rest with the newest encryption key."

    def handle(self, *args: Any, **options: Any) -> None:
        # Every tenant's secrets are re-encrypted: a platform job (audited).
        with platform_access(reason="rotate encryption keys"), transaction.atomic():
            for model, fields in encrypted_models():
                rows = list(model._default_manager.select_for_update().order_by("pk"))
                for row in rows:
                    row.save(update_fields=fields)
                self.stdout.write(f"rotated {len(rows)} {model._meta.verbose_name_plural}")
