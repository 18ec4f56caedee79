"""PostgreSQL guards for payments and credit notes (invariant 9, docs/invariants.md):

- an issued invoice's `amount_credited` only grows, as `amount_paid` does (the function of
  migration 0002, re-created with that one check more);
- a payment recorded on an invoice, and a merchant credit, are facts: never changed or deleted;
- the settlement adjustments a credit note credits change only while it is a draft (the
  document-part trigger of migration 0002).
"""

from django.db import migrations

from wasla.common.migration_ops import PostgresRunSQL

INVOICE_FINAL = r"""
CREATE OR REPLACE FUNCTION invoicing_invoice_final() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.status = 'draft' THEN
        IF TG_OP = 'DELETE' THEN
            RETURN OLD;
        END IF;
        RETURN NEW;
    END IF;
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'invoice % is %: an issued document is final, it cannot be deleted',
            OLD.id, OLD.status USING ERRCODE = 'restrict_violation';
    END IF;
    IF (NEW.tenant_id, NEW.currency, NEW.year, NEW.month, NEW.number, NEW.total_operations,
        NEW.subtotal, NEW.vat_total, NEW.total, NEW.issued_at, NEW.due_date, NEW.created_at)
       IS DISTINCT FROM
       (OLD.tenant_id, OLD.currency, OLD.year, OLD.month, OLD.number, OLD.total_operations,
        OLD.subtotal, OLD.vat_total, OLD.total, OLD.issued_at, OLD.due_date, OLD.created_at) THEN
        RAISE EXCEPTION 'invoice % is %: an issued document is final, correct it by a credit note',
            OLD.id, OLD.status USING ERRCODE = 'restrict_violation';
    END IF;
    IF NEW.status <> OLD.status AND NOT (OLD.status = 'issued' AND NEW.status = 'paid') THEN
        RAISE EXCEPTION 'invoice % cannot go from % to %', OLD.id, OLD.status, NEW.status
            USING ERRCODE = 'restrict_violation';
    END IF;
    IF NEW.amount_paid < OLD.amount_paid
       OR (OLD.paid_at IS NOT NULL AND NEW.paid_at IS DISTINCT FROM OLD.paid_at) THEN
        RAISE EXCEPTION 'invoice %: payments recorded on it only add up', OLD.id
            USING ERRCODE = 'restrict_violation';
    END IF;
    IF NEW.amount_credited < OLD.amount_credited THEN
        RAISE EXCEPTION 'invoice %: credit notes issued on it only add up', OLD.id
            USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END
$$;
"""

INVOICE_FINAL_0002 = r"""
CREATE OR REPLACE FUNCTION invoicing_invoice_final() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.status = 'draft' THEN
        IF TG_OP = 'DELETE' THEN
            RETURN OLD;
        END IF;
        RETURN NEW;
    END IF;
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'invoice % is %: an issued document is final, it cannot be deleted',
            OLD.id, OLD.status USING ERRCODE = 'restrict_violation';
    END IF;
    IF (NEW.tenant_id, NEW.currency, NEW.year, NEW.month, NEW.number, NEW.total_operations,
        NEW.subtotal, NEW.vat_total, NEW.total, NEW.issued_at, NEW.due_date, NEW.created_at)
       IS DISTINCT FROM
       (OLD.tenant_id, OLD.currency, OLD.year, OLD.month, OLD.number, OLD.total_operations,
        OLD.subtotal, OLD.vat_total, OLD.total, OLD.issued_at, OLD.due_date, OLD.created_at) THEN
        RAISE EXCEPTION 'invoice % is %: an issued document is final, correct it by a credit note',
            OLD.id, OLD.status USING ERRCODE = 'restrict_violation';
    END IF;
    IF NEW.status <> OLD.status AND NOT (OLD.status = 'issued' AND NEW.status = 'paid') THEN
        RAISE EXCEPTION 'invoice % cannot go from % to %', OLD.id, OLD.status, NEW.status
            USING ERRCODE = 'restrict_violation';
    END IF;
    IF NEW.amount_paid < OLD.amount_paid
       OR (OLD.paid_at IS NOT NULL AND NEW.paid_at IS DISTINCT FROM OLD.paid_at) THEN
        RAISE EXCEPTION 'invoice %: payments recorded on it only add up', OLD.id
            USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END
$$;
"""

FORWARDS = (
    INVOICE_FINAL
    + r"""
CREATE FUNCTION invoicing_fact_final() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% rows are facts: they are never changed or deleted (% refused)',
        TG_TABLE_NAME, TG_OP USING ERRCODE = 'restrict_violation';
END
$$;

CREATE TRIGGER invoice_payment_final BEFORE UPDATE OR DELETE ON invoicing_invoicepayment
    FOR EACH ROW EXECUTE FUNCTION invoicing_fact_final();
CREATE TRIGGER merchant_credit_final BEFORE UPDATE OR DELETE ON invoicing_merchantcredit
    FOR EACH ROW EXECUTE FUNCTION invoicing_fact_final();
CREATE TRIGGER credit_note_adjustment_final
    BEFORE INSERT OR UPDATE OR DELETE ON invoicing_creditnoteadjustment
    FOR EACH ROW EXECUTE FUNCTION
        invoicing_document_part_final('invoicing_creditnote', 'credit_note_id');
"""
)

BACKWARDS = (
    r"""
DROP TRIGGER credit_note_adjustment_final ON invoicing_creditnoteadjustment;
DROP TRIGGER merchant_credit_final ON invoicing_merchantcredit;
DROP TRIGGER invoice_payment_final ON invoicing_invoicepayment;
DROP FUNCTION invoicing_fact_final();
"""
    + INVOICE_FINAL_0002
)


class Migration(migrations.Migration):
    dependencies = [("invoicing", "0003_payments_and_credits")]

    operations = [PostgresRunSQL(FORWARDS, BACKWARDS)]
