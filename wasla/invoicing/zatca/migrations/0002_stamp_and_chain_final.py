"""PostgreSQL holds the ZATCA chain itself (docs/invariants.md, invariant 9). No code path —
ORM, raw SQL, admin — can:

- move an EGS unit's chain head backwards: its ICV never goes down, its hash changes only when
  the ICV moves on, and a unit is never deleted once it has stamped;
- change a ZATCA document's UUID, document (invoice or credit note) or tenant; once it is
  stamped, change its unit, ICV, PIH, hash, signed XML, QR or stamping time, or delete it;
- take a cleared document back from cleared, or change its cleared XML.
TRUNCATE is left alone, as for the invoices: the test runner empties tables with it.
"""

from django.db import migrations

from wasla.common.migration_ops import PostgresRunSQL

FORWARDS = r"""
CREATE FUNCTION zatca_chain_head_forward() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF OLD.last_icv > 0 THEN
            RAISE EXCEPTION 'EGS unit % has stamped documents: it is never deleted', OLD.id
                USING ERRCODE = 'restrict_violation';
        END IF;
        RETURN OLD;
    END IF;
    IF NEW.uuid <> OLD.uuid OR NEW.last_icv < OLD.last_icv
       OR (NEW.last_icv = OLD.last_icv AND NEW.last_hash <> OLD.last_hash) THEN
        RAISE EXCEPTION 'the chain head of EGS unit % only moves forward (ICV % -> %)',
            OLD.id, OLD.last_icv, NEW.last_icv USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER egs_chain_head_forward BEFORE UPDATE OR DELETE ON zatca_egsunit
    FOR EACH ROW EXECUTE FUNCTION zatca_chain_head_forward();

CREATE FUNCTION zatca_document_stamp_final() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF OLD.icv IS NOT NULL THEN
            RAISE EXCEPTION 'ZATCA document % is stamped: it is never deleted', OLD.id
                USING ERRCODE = 'restrict_violation';
        END IF;
        RETURN OLD;
    END IF;
    IF (NEW.uuid, NEW.tenant_id, NEW.invoice_id, NEW.credit_note_id)
       IS DISTINCT FROM (OLD.uuid, OLD.tenant_id, OLD.invoice_id, OLD.credit_note_id) THEN
        RAISE EXCEPTION 'ZATCA document %: its UUID and document never change', OLD.id
            USING ERRCODE = 'restrict_violation';
    END IF;
    IF OLD.icv IS NOT NULL AND
       (NEW.egs_id, NEW.icv, NEW.pih, NEW.invoice_hash, NEW.signed_xml, NEW.qr, NEW.stamped_at)
       IS DISTINCT FROM
       (OLD.egs_id, OLD.icv, OLD.pih, OLD.invoice_hash, OLD.signed_xml, OLD.qr, OLD.stamped_at)
    THEN
        RAISE EXCEPTION 'ZATCA document % is stamped (ICV %): its stamp is final',
            OLD.id, OLD.icv USING ERRCODE = 'restrict_violation';
    END IF;
    IF OLD.status IN ('cleared', 'cleared_with_warnings')
       AND (NEW.status <> OLD.status OR NEW.cleared_xml IS DISTINCT FROM OLD.cleared_xml) THEN
        RAISE EXCEPTION 'ZATCA document % is cleared: that is final', OLD.id
            USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER zatca_document_stamp_final BEFORE UPDATE OR DELETE ON zatca_zatcadocument
    FOR EACH ROW EXECUTE FUNCTION zatca_document_stamp_final();
"""

BACKWARDS = r"""
DROP TRIGGER zatca_document_stamp_final ON zatca_zatcadocument;
DROP FUNCTION zatca_document_stamp_final();
DROP TRIGGER egs_chain_head_forward ON zatca_egsunit;
DROP FUNCTION zatca_chain_head_forward();
"""


class Migration(migrations.Migration):
    dependencies = [("zatca", "0001_initial")]

    operations = [PostgresRunSQL(FORWARDS, BACKWARDS)]
