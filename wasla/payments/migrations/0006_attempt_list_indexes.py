"""Payments newest first, read straight off an index (backwards) instead of sorted.

- `attempt_tenant_created` (tenant, created_at, id): a tenant's payments, `ORDER BY created_at
  DESC, id DESC LIMIT n` behind the API's and the portal's lists. With only the tenant index
  PostgreSQL fetched and sorted every payment of the tenant: for one with 50,000 that was the
  page's slowest statement (bench/dashboard.py at a million payments: 38 ms of a 188 ms page,
  page p50 47 ms after).
- `attempt_created` (created_at, id): every tenant's payments in a date range, newest first,
  keyset-paged (the staff dashboard's payment list): 367 ms to under 1 ms for its first page.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("payments", "0005_verbose_names")]

    operations = [
        migrations.AddIndex(
            model_name="paymentattempt",
            index=models.Index(
                fields=["tenant", "created_at", "id"], name="attempt_tenant_created"
            ),
        ),
        migrations.AddIndex(
            model_name="paymentattempt",
            index=models.Index(fields=["created_at", "id"], name="attempt_created"),
        ),
    ]
