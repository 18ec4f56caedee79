"""Room in each page of settlement records for their status changes.

A settlement's row is written once and then changes status twice (`pending` → `invoiced` →
`paid`), never an indexed column. With pages filled to 80 % PostgreSQL can make those updates
heap-only (HOT): the new row version stays in its page and none of the table's seven indexes is
touched. The monthly run marks every billed settlement `invoiced`, so at a million settlements
this is most of what the update costs (bench/invoicing.py).
"""

from django.db import migrations

from wasla.common.migration_ops import PostgresRunSQL


class Migration(migrations.Migration):
    dependencies = [("settlement", "0006_settlement_status_forwards")]

    operations = [
        PostgresRunSQL(
            "ALTER TABLE settlement_settlementrecord SET (fillfactor = 80)",
            "ALTER TABLE settlement_settlementrecord RESET (fillfactor)",
        )
    ]
