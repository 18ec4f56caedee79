"""The default plan "standard" v1 (1.00 SAR fixed, 0 %, VAT 15 %), in force for every payment
since before Wasla existed; existing settlements get their payment time and that plan."""

from datetime import UTC, datetime
from decimal import Decimal

from django.db import migrations
from django.db.models import F, OuterRef, Subquery
from django.db.models.functions import Coalesce

SINCE = datetime(2000, 1, 1, tzinfo=UTC)


def forwards(apps, schema_editor):
    FeePlan = apps.get_model("settlement", "FeePlan")
    SettlementRecord = apps.get_model("settlement", "SettlementRecord")
    PaymentAttempt = apps.get_model("payments", "PaymentAttempt")
    plan, _ = FeePlan.objects.get_or_create(
        code="standard",
        version=1,
        defaults={
            "name": "Standard",
            "currency": "SAR",
            "fixed_fee": Decimal("1.00"),
            "percentage": Decimal("0"),
            "vat_rate": Decimal("15.00"),
            "refund_policy": "percentage_back",
            "effective_from": SINCE,
        },
    )
    paid_at = PaymentAttempt.objects.filter(pk=OuterRef("payment_attempt_id")).values("paid_at")
    SettlementRecord.objects.update(payment_paid_at=Coalesce(Subquery(paid_at), F("created_at")))
    SettlementRecord.objects.filter(currency="SAR", fee_plan__isnull=True).update(fee_plan=plan)
    if SettlementRecord.objects.filter(fee_plan=plan).exists():
        FeePlan.objects.filter(pk=plan.pk).update(in_use=True)


class Migration(migrations.Migration):
    dependencies = [
        ("settlement", "0003_fee_plans"),
        ("payments", "0003_paymentattempt_provider_payment_reference_and_more"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
