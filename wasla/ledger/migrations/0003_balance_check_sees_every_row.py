"""The deferred balance check must judge a ledger transaction by all of its entries, whatever
tenant scope (row-level security) the committing connection happens to have: it runs as the
function's owner, the migration role, which bypasses row-level security."""

from django.db import migrations

from wasla.common.migration_ops import PostgresRunSQL


class Migration(migrations.Migration):
    dependencies = [("ledger", "0002_append_only_and_balanced")]

    operations = [
        PostgresRunSQL(
            "ALTER FUNCTION ledger_check_balanced() SECURITY DEFINER"
            " SET search_path = public, pg_temp",
            "ALTER FUNCTION ledger_check_balanced() SECURITY INVOKER RESET search_path",
        )
    ]
