"""A tenant's settlements newest first off an index, as payments 0005 does for its payments:
the API's list of a tenant with 41,000 settlements went from p50 93 ms to 44 ms
(bench/dashboard.py at a million payments)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("settlement", "0008_verbose_names")]

    operations = [
        migrations.AddIndex(
            model_name="settlementrecord",
            index=models.Index(
                fields=["tenant", "created_at", "id"], name="settlement_tenant_created"
            ),
        ),
    ]
