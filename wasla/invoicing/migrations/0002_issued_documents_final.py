"""PostgreSQL holds invariant 9 itself (docs/invariants.md): issued documents are final and their
numbers never go back. No code path — ORM, raw SQL, admin — can:

- insert an invoice or credit note other than as a draft (issuing is the one way to a number);
- change an issued or paid invoice's tenant, currency, period, number, amounts, operations,
  issue time or due date, move its status backwards, lower `amount_paid`, change `paid_at`
  once set, or delete it; change anything of an issued credit note, or delete it;
- insert, change or delete the lines (or billed settlements) of a document that is not a draft;
- lower or delete a series counter.
TRUNCATE is left alone, as for the ledger: it is not a row change, and the test runner empties
tables with it. SQLite (the demo) has no such triggers.
"""

from django.db import migrations

from wasla.common.migration_ops import PostgresRunSQL

FORWARDS = r"""
CREATE FUNCTION invoicing_document_born_draft() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status <> 'draft' THEN
        RAISE EXCEPTION '% rows are created as drafts and issued afterwards', TG_TABLE_NAME
            USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER invoice_born_draft BEFORE INSERT ON invoicing_invoice
    FOR EACH ROW EXECUTE FUNCTION invoicing_document_born_draft();
CREATE TRIGGER credit_note_born_draft BEFORE INSERT ON invoicing_creditnote
    FOR EACH ROW EXECUTE FUNCTION invoicing_document_born_draft();

CREATE FUNCTION invoicing_invoice_final() RETURNS trigger LANGUAGE plpgsql AS $$
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

CREATE TRIGGER invoice_final_once_issued BEFORE UPDATE OR DELETE ON invoicing_invoice
    FOR EACH ROW EXECUTE FUNCTION invoicing_invoice_final();

CREATE FUNCTION invoicing_credit_note_final() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.status <> 'draft' THEN
        RAISE EXCEPTION 'credit note % is issued: it is final (% refused)', OLD.id, TG_OP
            USING ERRCODE = 'restrict_violation';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER credit_note_final_once_issued BEFORE UPDATE OR DELETE ON invoicing_creditnote
    FOR EACH ROW EXECUTE FUNCTION invoicing_credit_note_final();

-- The rows that make up a document (its lines, the settlements an invoice bills) change only
-- while the document is a draft. TG_ARGV: the parent table and the column pointing at it.
CREATE FUNCTION invoicing_document_part_final() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    parent_ids bigint[];
    issued boolean;
BEGIN
    IF TG_OP = 'INSERT' THEN
        parent_ids := ARRAY[(to_jsonb(NEW) ->> TG_ARGV[1])::bigint];
    ELSIF TG_OP = 'DELETE' THEN
        parent_ids := ARRAY[(to_jsonb(OLD) ->> TG_ARGV[1])::bigint];
    ELSE
        parent_ids := ARRAY[(to_jsonb(OLD) ->> TG_ARGV[1])::bigint,
                            (to_jsonb(NEW) ->> TG_ARGV[1])::bigint];
    END IF;
    EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I WHERE id = ANY($1) AND status <> %L)',
                   TG_ARGV[0], 'draft')
        INTO issued USING parent_ids;
    IF issued THEN
        RAISE EXCEPTION '% of an issued document are final (% refused)', TG_TABLE_NAME, TG_OP
            USING ERRCODE = 'restrict_violation';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER invoice_line_final BEFORE INSERT OR UPDATE OR DELETE ON invoicing_invoiceline
    FOR EACH ROW EXECUTE FUNCTION invoicing_document_part_final('invoicing_invoice', 'invoice_id');
CREATE TRIGGER invoice_settlement_final
    BEFORE INSERT OR UPDATE OR DELETE ON invoicing_invoicesettlement
    FOR EACH ROW EXECUTE FUNCTION invoicing_document_part_final('invoicing_invoice', 'invoice_id');
CREATE TRIGGER credit_note_line_final
    BEFORE INSERT OR UPDATE OR DELETE ON invoicing_creditnoteline
    FOR EACH ROW EXECUTE FUNCTION
        invoicing_document_part_final('invoicing_creditnote', 'credit_note_id');

CREATE FUNCTION invoicing_counter_only_rises() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' OR NEW.series <> OLD.series OR NEW.last_number < OLD.last_number THEN
        RAISE EXCEPTION 'document numbers are never reset or reused (% on series % refused)',
            TG_OP, OLD.series USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER document_counter_only_rises BEFORE UPDATE OR DELETE ON invoicing_documentcounter
    FOR EACH ROW EXECUTE FUNCTION invoicing_counter_only_rises();
"""

BACKWARDS = r"""
DROP TRIGGER document_counter_only_rises ON invoicing_documentcounter;
DROP FUNCTION invoicing_counter_only_rises();
DROP TRIGGER credit_note_line_final ON invoicing_creditnoteline;
DROP TRIGGER invoice_settlement_final ON invoicing_invoicesettlement;
DROP TRIGGER invoice_line_final ON invoicing_invoiceline;
DROP FUNCTION invoicing_document_part_final();
DROP TRIGGER credit_note_final_once_issued ON invoicing_creditnote;
DROP FUNCTION invoicing_credit_note_final();
DROP TRIGGER invoice_final_once_issued ON invoicing_invoice;
DROP FUNCTION invoicing_invoice_final();
DROP TRIGGER credit_note_born_draft ON invoicing_creditnote;
DROP TRIGGER invoice_born_draft ON invoicing_invoice;
DROP FUNCTION invoicing_document_born_draft();
"""


class Migration(migrations.Migration):
    dependencies = [("invoicing", "0001_initial")]

    operations = [PostgresRunSQL(FORWARDS, BACKWARDS)]
