"""PostgreSQL enforces invariant 5 itself: ledger rows are append-only, and a transaction whose
entries do not balance (or that has fewer than two) cannot commit. TRUNCATE is left alone: it is
not a row change, and the test runner empties tables with it. SQLite (the demo) has no such
triggers; the posting engine checks the same rules in Python there."""

from django.db import migrations

FORWARD = r"""
CREATE FUNCTION ledger_reject_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'ledger rows are append-only: % on % rejected', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation',
              HINT = 'post a reversal transaction instead';
END
$$;

CREATE TRIGGER ledger_transaction_append_only
    BEFORE UPDATE OR DELETE ON ledger_ledgertransaction
    FOR EACH ROW EXECUTE FUNCTION ledger_reject_change();
CREATE TRIGGER ledger_entry_append_only
    BEFORE UPDATE OR DELETE ON ledger_financialledgerentry
    FOR EACH ROW EXECUTE FUNCTION ledger_reject_change();

CREATE FUNCTION ledger_check_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    tx_id bigint;
    tx_tenant bigint;
    entry_count integer;
    bad_currency text;
BEGIN
    IF TG_TABLE_NAME = 'ledger_ledgertransaction' THEN
        tx_id := NEW.id;
    ELSE
        tx_id := NEW.transaction_id;
    END IF;
    SELECT tenant_id INTO tx_tenant FROM ledger_ledgertransaction WHERE id = tx_id;
    SELECT count(*) INTO entry_count FROM ledger_financialledgerentry WHERE transaction_id = tx_id;
    IF entry_count < 2 THEN
        RAISE EXCEPTION 'ledger transaction % has % entries, needs at least two', tx_id, entry_count
            USING ERRCODE = 'check_violation';
    END IF;
    IF EXISTS (
        SELECT 1 FROM ledger_financialledgerentry e JOIN ledger_ledgeraccount a ON a.id = e.account_id
        WHERE e.transaction_id = tx_id AND (e.tenant_id <> tx_tenant OR a.tenant_id <> tx_tenant)
    ) THEN
        RAISE EXCEPTION 'ledger transaction % mixes tenants', tx_id
            USING ERRCODE = 'check_violation';
    END IF;
    SELECT a.currency INTO bad_currency
        FROM ledger_financialledgerentry e JOIN ledger_ledgeraccount a ON a.id = e.account_id
        WHERE e.transaction_id = tx_id
        GROUP BY a.currency
        HAVING sum(e.debit) <> sum(e.credit)
        LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'ledger transaction % does not balance in %', tx_id, bad_currency
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END
$$;

CREATE CONSTRAINT TRIGGER ledger_transaction_balanced
    AFTER INSERT ON ledger_ledgertransaction
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION ledger_check_balanced();
CREATE CONSTRAINT TRIGGER ledger_entry_balanced
    AFTER INSERT ON ledger_financialledgerentry
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION ledger_check_balanced();
"""

BACKWARD = r"""
DROP TRIGGER ledger_entry_balanced ON ledger_financialledgerentry;
DROP TRIGGER ledger_transaction_balanced ON ledger_ledgertransaction;
DROP FUNCTION ledger_check_balanced();
DROP TRIGGER ledger_entry_append_only ON ledger_financialledgerentry;
DROP TRIGGER ledger_transaction_append_only ON ledger_ledgertransaction;
DROP FUNCTION ledger_reject_change();
"""


def _on_postgresql(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            with schema_editor.connection.cursor() as cursor:
                cursor.execute(sql)  # no parameters: the '%' of RAISE stay as written

    return run


class Migration(migrations.Migration):
    dependencies = [("ledger", "0001_initial")]

    operations = [migrations.RunPython(_on_postgresql(FORWARD), _on_postgresql(BACKWARD))]
