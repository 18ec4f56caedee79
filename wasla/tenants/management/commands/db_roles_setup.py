"""Create the database roles row-level security needs (idempotent; run as a superuser)."""

from __future__ import annotations

import os
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import connections

from wasla.tenants.rls import roles_ensure


class Command(BaseCommand):
    help = (
        "Create the app role (LOGIN, no BYPASSRLS) and the platform role (BYPASSRLS) if missing."
        " The app role's password comes from WASLA_DB_APP_PASSWORD when set."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--database", default="default")

    def handle(self, *args: Any, **options: Any) -> None:
        connection = connections[options["database"]]
        if connection.vendor != "postgresql":
            raise CommandError("row-level security needs PostgreSQL")
        with connection.cursor() as cursor:
            roles_ensure(cursor, app_password=os.environ.get("WASLA_DB_APP_PASSWORD") or None)
        self.stdout.write("database roles ready")
