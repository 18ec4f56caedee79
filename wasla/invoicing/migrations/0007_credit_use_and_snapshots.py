"""Merchant credit used by later invoices, and the parties of issued documents frozen at issue.

- `Invoice.amount_credit_applied`: the merchant credit used when the invoice was issued; the
  amounts CHECK becomes `amount_due = total - amount_paid - amount_credited -
  amount_credit_applied`, and the invoice's freeze trigger (migrations 0002, 0004) now also
  refuses any change to it and to the two snapshots once issued.
- `MerchantCreditUse` (credit, invoice, amount): a fact (never changed or deleted). A trigger
  locks the credit's row and refuses a use that would take the credit's uses past its amount, or
  that joins a credit and an invoice of another tenant or currency.
- `buyer_snapshot` / `seller_snapshot` on invoices and credit notes: the tenant's tax profile
  and Wasla's seller profile with its IBAN, copied at issue; an issued document must have both
  (CHECK). Documents issued before this migration are filled from the profiles as they stand
  when it runs (the best record there is: until now the documents rendered the current
  profiles anyway). To write them it lifts, for its own transaction only, FORCE ROW LEVEL
  SECURITY on the three tables (the owner runs migrations) and the credit-note freeze trigger.
"""

import importlib
from decimal import Decimal

import django.db.models.deletion
import django.db.models.expressions
from django.db import migrations, models

from wasla.common.migration_ops import PostgresRunSQL
from wasla.invoicing.parties import buyer_snapshot, seller_snapshot

INVOICE_FINAL_0004 = importlib.import_module(
    "wasla.invoicing.migrations.0004_payments_and_credits_final"
).INVOICE_FINAL

INVOICE_FINAL = INVOICE_FINAL_0004.replace(
    "NEW.issued_at, NEW.due_date, NEW.created_at)",
    "NEW.issued_at, NEW.due_date, NEW.created_at,\n"
    "        NEW.amount_credit_applied, NEW.buyer_snapshot, NEW.seller_snapshot)",
).replace(
    "OLD.issued_at, OLD.due_date, OLD.created_at)",
    "OLD.issued_at, OLD.due_date, OLD.created_at,\n"
    "        OLD.amount_credit_applied, OLD.buyer_snapshot, OLD.seller_snapshot)",
)
assert INVOICE_FINAL.count("amount_credit_applied") == 2

FORWARDS = (
    INVOICE_FINAL  # noqa: S608 (constant SQL, no input)
    + r"""
-- AFTER the insert, so row-level security has judged the row first (a use written for
-- another tenant is refused as such) and the sum includes the new use.
CREATE FUNCTION invoicing_credit_use_within_credit() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    credit record;
    invoice record;
    used numeric;
BEGIN
    -- The credit's row lock queues concurrent uses of one credit: each sees the others'.
    SELECT amount, currency, tenant_id INTO credit
        FROM invoicing_merchantcredit WHERE id = NEW.credit_id FOR UPDATE;
    SELECT currency, tenant_id INTO invoice FROM invoicing_invoice WHERE id = NEW.invoice_id;
    IF credit.tenant_id IS DISTINCT FROM NEW.tenant_id
       OR invoice.tenant_id IS DISTINCT FROM NEW.tenant_id
       OR credit.currency IS DISTINCT FROM invoice.currency THEN
        RAISE EXCEPTION 'merchant credit % cannot be used on invoice % (tenant or currency)',
            NEW.credit_id, NEW.invoice_id USING ERRCODE = 'check_violation';
    END IF;
    SELECT COALESCE(sum(amount), 0) INTO used
        FROM invoicing_merchantcredituse WHERE credit_id = NEW.credit_id;
    IF used > credit.amount THEN
        RAISE EXCEPTION 'merchant credit % is %: its uses would add up to %',
            NEW.credit_id, credit.amount, used USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER merchant_credit_use_within_credit AFTER INSERT ON invoicing_merchantcredituse
    FOR EACH ROW EXECUTE FUNCTION invoicing_credit_use_within_credit();
CREATE TRIGGER merchant_credit_use_final BEFORE UPDATE OR DELETE ON invoicing_merchantcredituse
    FOR EACH ROW EXECUTE FUNCTION invoicing_fact_final();
"""
)

BACKWARDS = (
    r"""
DROP TRIGGER merchant_credit_use_final ON invoicing_merchantcredituse;
DROP TRIGGER merchant_credit_use_within_credit ON invoicing_merchantcredituse;
DROP FUNCTION invoicing_credit_use_within_credit();
"""
    + INVOICE_FINAL_0004
)

SNAPSHOT_TABLES = ("invoicing_invoice", "invoicing_creditnote", "tenants_tenant")


def snapshots_fill(apps, schema_editor):
    """The parties of every document issued before now, from the profiles as they stand."""
    postgres = schema_editor.connection.vendor == "postgresql"
    forced = []
    if postgres:
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(
                "SELECT relname FROM pg_class WHERE relforcerowsecurity AND relname = ANY(%s)",
                [list(SNAPSHOT_TABLES)],
            )
            forced = [row[0] for row in cursor.fetchall()]
            for table in forced:
                cursor.execute(f'ALTER TABLE "{table}" NO FORCE ROW LEVEL SECURITY')
            cursor.execute(
                "ALTER TABLE invoicing_creditnote DISABLE TRIGGER credit_note_final_once_issued"
            )
    seller = seller_snapshot()
    tenants = {tenant.pk: tenant for tenant in apps.get_model("tenants", "Tenant").objects.all()}
    for name, drafts in (("Invoice", ("draft", "void")), ("CreditNote", ("draft",))):
        model = apps.get_model("invoicing", name)
        for document in model.objects.exclude(status__in=drafts).filter(
            buyer_snapshot__isnull=True
        ):
            document.buyer_snapshot = buyer_snapshot(tenants[document.tenant_id])
            document.seller_snapshot = seller
            document.save(update_fields=["buyer_snapshot", "seller_snapshot"])
    if postgres:
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(
                "ALTER TABLE invoicing_creditnote ENABLE TRIGGER credit_note_final_once_issued"
            )
            for table in forced:
                cursor.execute(f'ALTER TABLE "{table}" FORCE ROW LEVEL SECURITY')


class Migration(migrations.Migration):
    dependencies = [
        ("invoicing", "0006_document_part_check_static"),
        ("tenants", "0003_tenant_tax_profile"),
    ]

    operations = [
        migrations.CreateModel(
            name="MerchantCreditUse",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("amount", models.DecimalField(decimal_places=3, max_digits=14)),
                ("created_at", models.DateTimeField()),
            ],
            options={
                "ordering": ["created_at", "id"],
            },
        ),
        migrations.RemoveConstraint(
            model_name="invoice",
            name="invoice_amounts_add_up",
        ),
        migrations.AddField(
            model_name="creditnote",
            name="buyer_snapshot",
            field=models.JSONField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="creditnote",
            name="seller_snapshot",
            field=models.JSONField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="invoice",
            name="amount_credit_applied",
            field=models.DecimalField(
                db_default=Decimal("0"), decimal_places=3, default=Decimal("0"), max_digits=14
            ),
        ),
        migrations.AddField(
            model_name="invoice",
            name="buyer_snapshot",
            field=models.JSONField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="invoice",
            name="seller_snapshot",
            field=models.JSONField(blank=True, null=True),
        ),
        migrations.AddConstraint(
            model_name="invoice",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("amount_credit_applied__gte", Decimal("0")),
                    ("amount_credited__gte", Decimal("0")),
                    (
                        "amount_due",
                        django.db.models.expressions.CombinedExpression(
                            django.db.models.expressions.CombinedExpression(
                                django.db.models.expressions.CombinedExpression(
                                    models.F("total"), "-", models.F("amount_paid")
                                ),
                                "-",
                                models.F("amount_credited"),
                            ),
                            "-",
                            models.F("amount_credit_applied"),
                        ),
                    ),
                    ("amount_due__gte", Decimal("0")),
                    ("amount_paid__gte", Decimal("0")),
                    ("subtotal__gte", Decimal("0")),
                    (
                        "total",
                        django.db.models.expressions.CombinedExpression(
                            models.F("subtotal"), "+", models.F("vat_total")
                        ),
                    ),
                    ("vat_total__gte", Decimal("0")),
                ),
                name="invoice_amounts_add_up",
            ),
        ),
        migrations.AddField(
            model_name="merchantcredituse",
            name="credit",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="uses",
                to="invoicing.merchantcredit",
            ),
        ),
        migrations.AddField(
            model_name="merchantcredituse",
            name="invoice",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="credit_uses",
                to="invoicing.invoice",
            ),
        ),
        migrations.AddField(
            model_name="merchantcredituse",
            name="tenant",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="+", to="tenants.tenant"
            ),
        ),
        migrations.AddConstraint(
            model_name="merchantcredituse",
            constraint=models.CheckConstraint(
                condition=models.Q(("amount__gt", Decimal("0"))),
                name="merchant_credit_use_positive",
            ),
        ),
        migrations.AddConstraint(
            model_name="merchantcredituse",
            constraint=models.UniqueConstraint(
                fields=("credit", "invoice"), name="merchant_credit_use_once"
            ),
        ),
        migrations.RunPython(snapshots_fill, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="creditnote",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("status", "draft"),
                    models.Q(("buyer_snapshot__isnull", False), ("seller_snapshot__isnull", False)),
                    _connector="OR",
                ),
                name="credit_note_issued_has_parties",
            ),
        ),
        migrations.AddConstraint(
            model_name="invoice",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("status__in", ["draft", "void"]),
                    models.Q(("buyer_snapshot__isnull", False), ("seller_snapshot__isnull", False)),
                    _connector="OR",
                ),
                name="invoice_issued_has_parties",
            ),
        ),
        PostgresRunSQL(FORWARDS, BACKWARDS),
    ]
