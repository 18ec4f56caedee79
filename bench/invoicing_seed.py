"""Seed for bench/invoicing.py: T tenants x N settlements of one month, set-based, in SQL.

Runs as the owner of the tables (a superuser) on a freshly migrated database, in one
transaction with `session_replication_role = replica`, so the per-row triggers (the deferred
ledger balance check, the plan `in_use` marker) do not fire three million times: the rows they
would check or write are written here directly, and `seed_check` then proves set-based what the
balance trigger would have (every ledger transaction has two entries or more and balances). On
a small seed `verify_ledger` checks the balances and the hash chains too (--verify).

Per tenant `t000001`…: a complete tax profile; odd tenants on the "standard" plan (1.00 SAR
fixed), even ones assigned "bench-percent" (2.5 %, fee back on partial refunds); a cash-on-
delivery gateway; N paid orders and attempts in January 2026 (Asia/Riyadh; 1 % of them late
December stragglers not billed yet) with their pending settlements, each with the fee snapshot
the engine writes and its fee posting (Dr Unbilled / Cr Income). 5 % get a partial refund (a
`fee_reduction` adjustment, posted Dr Income / Cr Unbilled when it gives fee back) and 2 % a
full refund (`reversal` adjustment, settlement `reversed`, the fee posting reversed). The hash
chain of each tenant's ledger is computed by a recursive query, as `ledger_post` would chain it.
"""

from __future__ import annotations

from typing import Any

import psycopg

# The statements in order; %(tenants)s and %(per_tenant)s are bound by psycopg.
SEED: list[str] = [
    "SET LOCAL session_replication_role = replica",
    """
    INSERT INTO tenants_tenant (id, name, slug, legal_name_ar, legal_name_en, vat_number,
        address, is_active, created_at, building_number, city, country_code, cr_number,
        district, postal_code, street)
    SELECT g, 'Bench store ' || g, 't' || lpad(g::text, 6, '0'), 'مؤسسة المقعد ' || g,
        'Bench Trading ' || g, '3' || lpad(g::text, 13, '0') || '3', '', true, now(), '7431',
        'Jeddah', 'SA', lpad(g::text, 10, '1'), 'Al Rawdah', '23435', 'Prince Sultan Street'
    FROM generate_series(1, %(tenants)s) g
    """,
    """
    INSERT INTO settlement_feeplan (code, name, version, currency, fixed_fee, percentage,
        vat_rate, minimum_fee, maximum_fee, refund_policy, effective_from, in_use, created_at)
    VALUES ('bench-percent', 'Bench percent', 1, 'SAR', 0, 2.5, 15.00, NULL, NULL,
        'percentage_back', '2020-01-01T00:00:00Z', true, now())
    """,
    "UPDATE settlement_feeplan SET in_use = true WHERE code = 'standard' AND version = 1",
    """
    INSERT INTO settlement_feeplanassignment (id, plan_code, currency, effective_from,
        in_use, created_at, tenant_id)
    SELECT g, 'bench-percent', 'SAR', '2020-01-01T00:00:00Z', true, now(), g
    FROM generate_series(2, %(tenants)s, 2) g
    """,
    """
    INSERT INTO payments_paymentgatewayconfig (id, provider, mode, public_key, secret_key,
        webhook_secret, webhook_token, is_active, created_at, tenant_id)
    SELECT g, 'cod', 'sandbox', '', '', '', md5('gw' || g)::uuid, true, now(), g
    FROM generate_series(1, %(tenants)s) g
    """,
    # One row per settlement: who, when, how much, which plan and what happens to it later.
    """
    CREATE TEMP TABLE seed_s ON COMMIT DROP AS
    SELECT g AS tenant_id, k, (g - 1)::bigint * %(per_tenant)s + k AS id,
        md5('o' || g || ':' || k)::uuid AS order_id, md5('a' || g || ':' || k)::uuid AS attempt_id,
        md5('r' || g || ':' || k)::uuid AS refund_id,
        10.00 + ((g * 7919 + k * 104729) %% 99001) / 100.0 AS gross,
        g %% 2 = 0 AS percent_plan,
        CASE WHEN k %% 50 = 7 THEN 'reversed' WHEN k %% 20 = 3 THEN 'partial' END AS refund,
        timestamptz '2025-12-31T21:00:00Z'
            + ((k - 1) * (2678399 / %(per_tenant)s)) * interval '1 second'
            - CASE WHEN k %% 100 = 50 THEN interval '20 days' ELSE interval '0' END AS paid_at
    FROM generate_series(1, %(tenants)s) g, generate_series(1, %(per_tenant)s) k
    """,
    """
    ALTER TABLE seed_s ADD COLUMN fee numeric, ADD COLUMN refunded numeric,
        ADD COLUMN fee_delta numeric, ADD COLUMN plan_id bigint, ADD COLUMN comp text
    """,
    """
    UPDATE seed_s SET
        fee = CASE WHEN percent_plan THEN round(gross * 2.5 / 100, 2) ELSE 1.00 END,
        refunded = CASE refund WHEN 'reversed' THEN gross WHEN 'partial' THEN round(gross / 2, 2)
                   ELSE 0 END,
        plan_id = (SELECT id FROM settlement_feeplan
                   WHERE code = CASE WHEN percent_plan THEN 'bench-percent' ELSE 'standard' END),
        comp = 'T' || lpad(tenant_id::text, 6, '0')
    """,
    """
    UPDATE seed_s SET fee_delta = CASE refund WHEN 'reversed' THEN -fee
        WHEN 'partial' THEN -least(
            round(refunded * (CASE WHEN percent_plan THEN 2.5 ELSE 0 END) / 100, 2),
            fee - CASE WHEN percent_plan THEN 0 ELSE fee END)
        END
    """,
    """
    INSERT INTO orders_order (id, reference, amount, currency, customer_email, customer_phone,
        customer_name, delivery_address, status, created_at, paid_at, tenant_id)
    SELECT order_id, 'B-' || k, gross, 'SAR', '', '+966557877988', '', '',
        CASE refund WHEN 'reversed' THEN 'refunded' WHEN 'partial' THEN 'partially_refunded'
        ELSE 'paid' END, paid_at, paid_at, tenant_id
    FROM seed_s ORDER BY id
    """,
    """
    INSERT INTO payments_paymentattempt (id, provider, method, amount, currency, status,
        provider_reference, idempotency_key, redirect_url, return_url, raw_response,
        refunded_amount, failure_code, failure_message, created_at, updated_at, paid_at,
        order_id, tenant_id, gateway_config_id, provider_payment_reference)
    SELECT attempt_id, 'cod', 'cod', gross, 'SAR',
        CASE refund WHEN 'reversed' THEN 'refunded' WHEN 'partial' THEN 'partially_refunded'
        ELSE 'paid' END, NULL, tenant_id || ':bench-' || k, '', '', '{}', refunded, '', '',
        paid_at, paid_at, paid_at, order_id, tenant_id, tenant_id, ''
    FROM seed_s ORDER BY id
    """,
    """
    INSERT INTO settlement_settlementrecord (id, currency, gross_amount, wasla_fee, net_amount,
        fee_breakdown, status, created_at, updated_at, order_id, payment_attempt_id, tenant_id,
        payment_paid_at, fee_plan_id, fee_plan_assignment_id)
    SELECT id, 'SAR', gross, fee, gross - fee, jsonb_build_object(
            'plan', CASE WHEN percent_plan THEN 'bench-percent' ELSE 'standard' END,
            'plan_id', plan_id, 'plan_version', 1,
            'assignment_id', CASE WHEN percent_plan THEN tenant_id END,
            'override_used', false, 'overrides', '[]'::jsonb, 'currency', 'SAR',
            'gross', round(gross, 2)::text,
            'fixed', CASE WHEN percent_plan THEN '0.00' ELSE '1.00' END,
            'fixed_part', CASE WHEN percent_plan THEN '0.00' ELSE '1.00' END,
            'percentage', CASE WHEN percent_plan THEN '2.5' ELSE '0' END,
            'percentage_part', CASE WHEN percent_plan THEN trim_scale(gross * 2.5 / 100)::text
                               ELSE '0' END,
            'minimum_fee', NULL, 'maximum_fee', NULL, 'minimum_applied', false,
            'maximum_applied', false, 'capped_at_gross', false, 'fee', round(fee, 2)::text,
            'vat_rate', '15.00', 'refund_policy', 'percentage_back'),
        CASE WHEN refund = 'reversed' THEN 'reversed' ELSE 'pending' END, paid_at, paid_at,
        order_id, attempt_id, tenant_id, paid_at, plan_id,
        CASE WHEN percent_plan THEN tenant_id END
    FROM seed_s ORDER BY id
    """,
    """
    INSERT INTO payments_refundrecord (id, provider, amount, currency, reason,
        provider_reference, idempotency_key, source, status, failure_message, raw_response,
        created_at, updated_at, payment_attempt_id, tenant_id)
    SELECT refund_id, 'cod', refunded, 'SAR', '', NULL, tenant_id || ':bench-refund-' || k,
        'api', 'succeeded', '', '{}', paid_at + interval '1 hour', paid_at + interval '1 hour',
        attempt_id, tenant_id
    FROM seed_s WHERE refund IS NOT NULL ORDER BY id
    """,
    """
    INSERT INTO settlement_settlementadjustment (id, kind, refund_amount, fee_delta, created_at,
        refund_id, settlement_id, tenant_id)
    SELECT id, CASE refund WHEN 'reversed' THEN 'reversal' ELSE 'fee_reduction' END, refunded,
        fee_delta, paid_at + interval '1 hour', refund_id, id, tenant_id
    FROM seed_s WHERE refund IS NOT NULL ORDER BY id
    """,
    # The ledger: one row per transaction (fee, reduction, reversal) in each tenant's order. The
    # fee postings come first, numbered as their settlements, so a reversal reverses `id`.
    """
    CREATE TEMP TABLE seed_tx ON COMMIT DROP AS
    SELECT t.tenant_id, row_number() OVER (PARTITION BY t.tenant_id ORDER BY kind, id) AS sequence,
        row_number() OVER (ORDER BY kind, id) AS tx_id, t.kind, t.id, t.comp, t.amount,
        t.created_at FROM (
        SELECT tenant_id, 1 AS kind, id, comp, fee AS amount, paid_at AS created_at
        FROM seed_s
        UNION ALL
        SELECT tenant_id, 2, id, comp, -fee_delta, paid_at + interval '1 hour'
        FROM seed_s WHERE refund = 'partial' AND fee_delta < 0
        UNION ALL
        SELECT tenant_id, 3, id, comp, fee, paid_at + interval '1 hour'
        FROM seed_s WHERE refund = 'reversed'
    ) t
    """,
    """
    ALTER TABLE seed_tx ADD COLUMN entry_type text, ADD COLUMN key text,
        ADD COLUMN reverses bigint, ADD COLUMN fingerprint text, ADD COLUMN own text
    """,
    """
    UPDATE seed_tx SET
        entry_type = CASE kind WHEN 1 THEN 'fee' WHEN 2 THEN 'adjustment' ELSE 'reversal' END,
        reverses = CASE WHEN kind = 3 THEN id END
    """,
    # `fee:<settlement>`, `fee-reduction:<adjustment>` (adjustment id = settlement id here),
    # `reversal:<transaction>`; the fingerprint is `ledger_fingerprint`'s canonical JSON.
    """
    UPDATE seed_tx SET
        key = CASE kind WHEN 1 THEN 'fee:' || id WHEN 2 THEN 'fee-reduction:' || id
              ELSE 'reversal:' || reverses END,
        fingerprint = encode(sha256(convert_to(
            '{"entry_type":"' || entry_type || '","lines":['
            || CASE kind
               WHEN 1 THEN format(%(unbilled)s, comp, round(amount, 2), '0.00') || ','
                           || format(%(income)s, comp, '0.00', round(amount, 2))
               WHEN 2 THEN format(%(income)s, comp, round(amount, 2), '0.00') || ','
                           || format(%(unbilled)s, comp, '0.00', round(amount, 2))
               ELSE format(%(unbilled)s, comp, '0.00', round(amount, 2)) || ','
                    || format(%(income)s, comp, round(amount, 2), '0.00') END
            || '],"reference_id":"settlement:' || id || '","reverses":'
            || coalesce(reverses::text, 'null') || ',"tenant":' || tenant_id || '}', 'UTF8')),
            'hex')
    """,
    """
    UPDATE seed_tx SET own = '{"created_at":"'
        || to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS') || '+00:00'
        || '","fingerprint":"' || fingerprint || '","idempotency_key":"' || key
        || '","sequence":' || sequence || '}'
    """,
    "CREATE UNIQUE INDEX ON seed_tx (tenant_id, sequence)",
    "ANALYZE seed_tx",
    # The chain steps one transaction per tenant at a time: an index lookup each, never a scan
    # of the whole staging table per step.
    "SET LOCAL enable_hashjoin = off",
    "SET LOCAL enable_mergejoin = off",
    """
    INSERT INTO ledger_ledgertransaction (id, entry_type, reference_id, idempotency_key,
        fingerprint, sequence, previous_hash, hash, created_at, reverses_id, tenant_id)
    WITH RECURSIVE chain (tenant_id, sequence, previous_hash, hash) AS (
        SELECT tenant_id, sequence, '',
            encode(sha256(convert_to(E'\\n' || own, 'UTF8')), 'hex')
        FROM seed_tx WHERE sequence = 1
        UNION ALL
        SELECT t.tenant_id, t.sequence, c.hash,
            encode(sha256(convert_to(c.hash || E'\\n' || t.own, 'UTF8')), 'hex')
        FROM chain c JOIN seed_tx t ON t.tenant_id = c.tenant_id AND t.sequence = c.sequence + 1
    )
    SELECT t.tx_id, t.entry_type, 'settlement:' || t.id, t.key, t.fingerprint, t.sequence,
        c.previous_hash, c.hash, t.created_at, t.reverses, t.tenant_id
    FROM seed_tx t JOIN chain c USING (tenant_id, sequence)
    ORDER BY t.tx_id
    """,
    "RESET enable_hashjoin",
    "RESET enable_mergejoin",
    """
    INSERT INTO ledger_ledgeraccount (id, code, type, currency, balance, created_at, tenant_id)
    SELECT 2 * g - 1, 'Assets:Merchants:T' || lpad(g::text, 6, '0') || ':Unbilled', 'asset',
        'SAR', 0, now(), g FROM generate_series(1, %(tenants)s) g
    UNION ALL
    SELECT 2 * g, 'Income:Fees:T' || lpad(g::text, 6, '0'), 'income', 'SAR', 0, now(), g
    FROM generate_series(1, %(tenants)s) g
    """,
    # Two entries per transaction in the order posted: a fee Dr Unbilled / Cr Income, a
    # reduction Dr Income / Cr Unbilled, a reversal the fee's lines swapped (Cr Unbilled / Dr
    # Income). Both accounts move by the same signed amount, so one running sum serves both.
    """
    INSERT INTO ledger_financialledgerentry (id, debit, credit, balance_after, tenant_id,
        account_id, transaction_id)
    SELECT row_number() OVER (ORDER BY tx_id, line), debit, credit,
        sum(delta) OVER (PARTITION BY account_id ORDER BY tx_id), tenant_id, account_id, tx_id
    FROM (
        SELECT tx_id, line, tenant_id,
            2 * tenant_id - 2 + CASE WHEN kind = 2 THEN 3 - line ELSE line END AS account_id,
            CASE WHEN (kind <> 3) = (line = 1) THEN amount ELSE 0 END AS debit,
            CASE WHEN (kind <> 3) = (line = 1) THEN 0 ELSE amount END AS credit,
            CASE WHEN kind = 1 THEN amount ELSE -amount END AS delta
        FROM seed_tx, (VALUES (1), (2)) AS lines (line)
    ) e
    """,
    """
    UPDATE ledger_ledgeraccount a SET balance = b.balance
    FROM (SELECT tenant_id, sum(CASE WHEN kind = 1 THEN amount ELSE -amount END) AS balance
          FROM seed_tx GROUP BY tenant_id) b
    WHERE a.tenant_id = b.tenant_id
    """,
    "SELECT setval(pg_get_serial_sequence('tenants_tenant', 'id'), %(tenants)s)",
    """SELECT setval(pg_get_serial_sequence('settlement_feeplanassignment', 'id'),
        greatest(%(tenants)s, 1))""",
    "SELECT setval(pg_get_serial_sequence('payments_paymentgatewayconfig', 'id'), %(tenants)s)",
    """SELECT setval(pg_get_serial_sequence(table_name, 'id'), (SELECT max(id) FROM seed_s))
       FROM (VALUES ('settlement_settlementrecord'), ('settlement_settlementadjustment')) t
            (table_name)""",
    """SELECT setval(pg_get_serial_sequence('ledger_ledgertransaction', 'id'),
        (SELECT max(tx_id) FROM seed_tx))""",
    """SELECT setval(pg_get_serial_sequence('ledger_financialledgerentry', 'id'),
        (SELECT count(*) * 2 FROM seed_tx))""",
    "SELECT setval(pg_get_serial_sequence('ledger_ledgeraccount', 'id'), 2 * %(tenants)s)",
]

# What the deferred balance trigger would have refused, set-based; must return no row.
CHECK = """
SELECT t.id, count(e.id), coalesce(sum(e.debit), 0), coalesce(sum(e.credit), 0)
FROM ledger_ledgertransaction t LEFT JOIN ledger_financialledgerentry e ON e.transaction_id = t.id
GROUP BY t.id HAVING count(e.id) < 2 OR coalesce(sum(e.debit), 0) <> coalesce(sum(e.credit), 0)
LIMIT 1
"""


def seed(conn: Any, *, tenants: int, per_tenant: int) -> dict[str, int]:
    """Seed, check and analyse; returns row counts of what was made."""
    params = {
        "tenants": tenants,
        "per_tenant": per_tenant,
        "unbilled": '["Assets:Merchants:%s:Unbilled","asset","SAR","%s","%s"]',
        "income": '["Income:Fees:%s","income","SAR","%s","%s"]',
    }
    with conn.transaction(), psycopg.ClientCursor(conn) as cursor:
        for statement in SEED:
            cursor.execute(statement, params)
        cursor.execute(CHECK)
        bad = cursor.fetchone()
        if bad is not None:
            raise SystemExit(f"seeded ledger transaction {bad[0]} does not balance: {bad}")
    conn.execute("VACUUM ANALYZE")
    counts = {}
    for table in (
        "settlement_settlementrecord",
        "settlement_settlementadjustment",
        "ledger_ledgertransaction",
        "ledger_financialledgerentry",
    ):
        counts[table] = conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608
    return counts
