"""The test database's roles: the suite connects as the application role (root conftest.py),
but a few tests need the role that owns the tables (a backup, a raw dump of a column)."""

from __future__ import annotations

import os

from django.db import connections

# Filled by the root conftest's `django_db_setup` before it switches to the application role.
OWNERS: dict[str, str] = {}
# Where the server asks for passwords (not this machine's trust on 127.0.0.1).
APP_PASSWORD = os.environ.get("WASLA_DB_APP_PASSWORD", "")


def database_owner(alias: str = "default") -> str:
    """The role that owns the test database's tables (what migrations ran as)."""
    return OWNERS.get(alias) or connections[alias].settings_dict["USER"]
