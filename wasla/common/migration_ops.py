"""Migration operations for PostgreSQL-only database guards (triggers).

The zero-setup demo runs on SQLite, where these guards have no equivalent; they are skipped there
and nowhere else. Production and the test suite run on PostgreSQL, where they always apply.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations


class PostgresRunSQL(migrations.RunSQL):
    def database_forwards(self, app_label: str, schema_editor: Any, *args: Any) -> None:
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, *args)

    def database_backwards(self, app_label: str, schema_editor: Any, *args: Any) -> None:
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, *args)
