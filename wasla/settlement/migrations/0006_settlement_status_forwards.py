"""A billed settlement's status moves only forwards: `invoiced` → `paid` (when its invoice is
paid), and a `paid` one stays paid. The rest of `settlement_invoiced_frozen` (migration 0005)
is unchanged: amounts, snapshot and links of a billed settlement never change.
"""

from django.db import migrations

from wasla.common.migration_ops import PostgresRunSQL

FUNCTION = r"""
CREATE OR REPLACE FUNCTION settlement_invoiced_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.status NOT IN ('invoiced', 'paid') THEN
        IF TG_OP = 'DELETE' THEN
            RETURN OLD;
        END IF;
        RETURN NEW;
    END IF;
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'settlement % is %: it cannot be deleted', OLD.id, OLD.status
            USING ERRCODE = 'restrict_violation';
    END IF;
    IF (NEW.tenant_id, NEW.order_id, NEW.payment_attempt_id, NEW.currency, NEW.gross_amount,
        NEW.wasla_fee, NEW.net_amount, NEW.fee_breakdown, NEW.fee_plan_id,
        NEW.fee_plan_assignment_id, NEW.payment_paid_at)
       IS DISTINCT FROM
       (OLD.tenant_id, OLD.order_id, OLD.payment_attempt_id, OLD.currency, OLD.gross_amount,
        OLD.wasla_fee, OLD.net_amount, OLD.fee_breakdown, OLD.fee_plan_id,
        OLD.fee_plan_assignment_id, OLD.payment_paid_at) THEN
        RAISE EXCEPTION 'settlement % is %: its amounts and snapshot cannot change',
            OLD.id, OLD.status USING ERRCODE = 'restrict_violation';
    END IF;
    %(status_check)s
    RETURN NEW;
END
$$;
"""

STATUS_FORWARDS = r"""IF NEW.status <> OLD.status AND NOT (OLD.status = 'invoiced' AND NEW.status = 'paid') THEN
        RAISE EXCEPTION 'settlement % cannot go from % to %', OLD.id, OLD.status, NEW.status
            USING ERRCODE = 'restrict_violation';
    END IF;"""

FORWARDS = FUNCTION.replace("%(status_check)s", STATUS_FORWARDS)
BACKWARDS = FUNCTION.replace("%(status_check)s", "")


class Migration(migrations.Migration):
    dependencies = [("settlement", "0005_settlement_guards")]

    operations = [PostgresRunSQL(FORWARDS, BACKWARDS)]
