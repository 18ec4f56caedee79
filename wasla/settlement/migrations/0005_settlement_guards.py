"""Database guards (PostgreSQL triggers), so no code path — ORM, raw SQL, admin — can rewrite
what a settlement was charged:

- a fee plan version or tenant assignment used by a settlement is frozen (no UPDATE, DELETE);
  inserting a settlement marks the version and assignment it used `in_use`;
- an `invoiced` or `paid` settlement keeps its amounts, currency, order, attempt, plan, payment
  time and breakdown snapshot, and cannot be deleted; only its status (and `updated_at`) move.
"""

from django.db import migrations

from wasla.common.migration_ops import PostgresRunSQL

FORWARDS = r"""
CREATE FUNCTION settlement_fee_source_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.in_use THEN
        RAISE EXCEPTION '% row % is used by a settlement and cannot change; add a new one',
            TG_TABLE_NAME, OLD.id USING ERRCODE = 'restrict_violation';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER fee_plan_frozen_once_used
    BEFORE UPDATE OR DELETE ON settlement_feeplan
    FOR EACH ROW EXECUTE FUNCTION settlement_fee_source_frozen();

CREATE TRIGGER fee_plan_assignment_frozen_once_used
    BEFORE UPDATE OR DELETE ON settlement_feeplanassignment
    FOR EACH ROW EXECUTE FUNCTION settlement_fee_source_frozen();

-- `AND NOT in_use`: after the first settlement the UPDATE matches nothing and locks nothing,
-- so payments never queue on the platform-wide plan row.
CREATE FUNCTION settlement_mark_fee_sources_used() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.fee_plan_id IS NOT NULL THEN
        UPDATE settlement_feeplan SET in_use = true
         WHERE id = NEW.fee_plan_id AND NOT in_use;
    END IF;
    IF NEW.fee_plan_assignment_id IS NOT NULL THEN
        UPDATE settlement_feeplanassignment SET in_use = true
         WHERE id = NEW.fee_plan_assignment_id AND NOT in_use;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER settlement_marks_fee_sources_used
    AFTER INSERT OR UPDATE OF fee_plan_id, fee_plan_assignment_id ON settlement_settlementrecord
    FOR EACH ROW EXECUTE FUNCTION settlement_mark_fee_sources_used();

CREATE FUNCTION settlement_invoiced_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
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
    RETURN NEW;
END
$$;

CREATE TRIGGER settlement_frozen_once_invoiced
    BEFORE UPDATE OR DELETE ON settlement_settlementrecord
    FOR EACH ROW EXECUTE FUNCTION settlement_invoiced_frozen();
"""

BACKWARDS = r"""
DROP TRIGGER settlement_frozen_once_invoiced ON settlement_settlementrecord;
DROP FUNCTION settlement_invoiced_frozen();
DROP TRIGGER settlement_marks_fee_sources_used ON settlement_settlementrecord;
DROP FUNCTION settlement_mark_fee_sources_used();
DROP TRIGGER fee_plan_assignment_frozen_once_used ON settlement_feeplanassignment;
DROP TRIGGER fee_plan_frozen_once_used ON settlement_feeplan;
DROP FUNCTION settlement_fee_source_frozen();
"""


class Migration(migrations.Migration):
    dependencies = [("settlement", "0004_default_fee_plan")]

    operations = [PostgresRunSQL(FORWARDS, BACKWARDS)]
