"""The document-part guard of migration 0002 without dynamic SQL: same rule, ~20x cheaper.

`invoicing_document_part_final` (the BEFORE row trigger on invoice lines, billed settlements,
credit note lines and credited adjustments) found the parent through `to_jsonb(NEW)` and an
`EXECUTE format(...)`, which PostgreSQL plans again for every row: about a quarter of a
millisecond per billed settlement, most of the monthly run's time (bench/invoicing.py). It now
reads the parent column and table with static statements, whose plans plpgsql keeps. The rule
is unchanged: a row of a document that is not a draft is neither inserted, changed nor deleted
(invariant 9), and the triggers and their arguments stay as they were.
"""

from django.db import migrations

from wasla.common.migration_ops import PostgresRunSQL

FORWARDS = r"""
CREATE OR REPLACE FUNCTION invoicing_document_part_final() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    parent_ids bigint[] := '{}';
    issued boolean;
BEGIN
    IF TG_ARGV[0] = 'invoicing_invoice' THEN
        IF TG_OP <> 'DELETE' THEN
            parent_ids := parent_ids || NEW.invoice_id;
        END IF;
        IF TG_OP <> 'INSERT' THEN
            parent_ids := parent_ids || OLD.invoice_id;
        END IF;
        SELECT EXISTS (SELECT 1 FROM invoicing_invoice WHERE id = ANY (parent_ids)
                       AND status <> 'draft') INTO issued;
    ELSIF TG_ARGV[0] = 'invoicing_creditnote' THEN
        IF TG_OP <> 'DELETE' THEN
            parent_ids := parent_ids || NEW.credit_note_id;
        END IF;
        IF TG_OP <> 'INSERT' THEN
            parent_ids := parent_ids || OLD.credit_note_id;
        END IF;
        SELECT EXISTS (SELECT 1 FROM invoicing_creditnote WHERE id = ANY (parent_ids)
                       AND status <> 'draft') INTO issued;
    ELSE
        RAISE EXCEPTION 'invoicing_document_part_final: unknown document table %', TG_ARGV[0];
    END IF;
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
"""

# Migration 0002's function, as it was.
BACKWARDS = r"""
CREATE OR REPLACE FUNCTION invoicing_document_part_final() RETURNS trigger LANGUAGE plpgsql AS $$
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
"""


class Migration(migrations.Migration):
    dependencies = [("invoicing", "0005_collection_cards_tries_events")]

    operations = [PostgresRunSQL(FORWARDS, BACKWARDS)]
