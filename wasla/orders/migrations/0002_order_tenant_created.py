"""A tenant's rows newest first (`ORDER BY created_at DESC, id DESC LIMIT n` behind the API's
and the portal's lists) read straight off this index, backwards. With only the tenant index
PostgreSQL fetched and sorted every row of the tenant: for a tenant with 50,000 payments that
was the page's slowest statement (bench/dashboard.py at a million payments).
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("orders", "0001_initial")]

    operations = [
        migrations.AddIndex(
            model_name="order",
            index=models.Index(fields=["tenant", "created_at", "id"], name="order_tenant_created"),
        ),
    ]
