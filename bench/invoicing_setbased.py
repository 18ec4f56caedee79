"""Side B of bench/invoicing.py: the monthly run as one hand-written, set-based SQL transaction.

It does the work `invoices_generate_all` does for every tenant at once, with the same rules
(wasla/invoicing/services.py): the active tenants locked; those with a complete tax profile and
no invoice for the month yet; their pending settlements in the currency paid before the end of
the month locked, then each one's fee net of its adjustments read; one line per VAT rate with
VAT computed once on the aggregate and rounded half-up; an invoice when the subtotal is
positive, born a draft with its lines and billed settlements, then issued under the locked
invoice counter with consecutive numbers in slug order; the settlements marked `invoiced`; and
each invoice's ledger posting (Dr Receivable / Cr Unbilled / Cr VAT Output) under the tenant's
chain lock, on its locked accounts, with the fingerprint and hash chain `ledger_post` writes.
It runs logged in as the app role in the platform role (`platform_access`), as side A does.
"""

from __future__ import annotations

from typing import Any

import psycopg

# ledger/services.py CHAIN_LOCK_CLASS.
CHAIN_LOCK_CLASS = 0x4C454447


# The tax profile is complete as tenants/tax_profile.py says; account codes
# (ledger/accounts.py) are those of plain slugs, the only ones the seed makes (checked).
STATEMENTS: list[str] = [
    "SELECT set_config('wasla.tenant_id', '', true), set_config('role', %(platform_role)s, true)",
    """INSERT INTO tenants_platformaccesslog (reason, actor, at)
       VALUES ('set-based monthly invoicing (bench)', 'system', now())""",
    """CREATE TEMP TABLE b_locked ON COMMIT DROP AS
       SELECT id AS tenant_id, slug,
           btrim(legal_name_ar) <> '' AND btrim(legal_name_en) <> ''
           AND btrim(vat_number) ~ '^3[0-9]{13}3$' AND btrim(cr_number) ~ '^[0-9]{10}$'
           AND btrim(building_number) ~ '^[0-9]{4}$' AND btrim(street) <> ''
           AND btrim(district) <> '' AND btrim(city) <> '' AND btrim(postal_code) ~ '^[0-9]{5}$'
           AND btrim(country_code) ~ '^[A-Z]{2}$' AS complete
       FROM tenants_tenant WHERE is_active ORDER BY id FOR UPDATE""",
    """CREATE TEMP TABLE b_tenant ON COMMIT DROP AS
       SELECT tenant_id, slug FROM b_locked l WHERE complete AND NOT EXISTS (
           SELECT 1 FROM invoicing_invoice i WHERE i.tenant_id = l.tenant_id
           AND i.year = %(year)s AND i.month = %(month)s AND i.currency = %(currency)s
           AND i.status <> 'void')""",
    """DO $$ BEGIN IF EXISTS (SELECT 1 FROM b_tenant WHERE slug !~ '^[a-z0-9][a-z0-9-]*$') THEN
         RAISE EXCEPTION 'the set-based run handles plain slugs only'; END IF; END $$""",
    """CREATE TEMP TABLE b_settlement ON COMMIT DROP AS
       SELECT s.id FROM settlement_settlementrecord s JOIN b_tenant t USING (tenant_id)
       WHERE s.status = 'pending' AND s.currency = %(currency)s AND s.payment_paid_at < %(end)s
       ORDER BY s.id FOR UPDATE OF s""",
    # A new snapshot after the locks, as `_billable` reads the amounts in a second statement.
    """CREATE TEMP TABLE b_billable ON COMMIT DROP AS
       SELECT s.tenant_id, s.id,
           coalesce(nullif(s.fee_breakdown ->> 'vat_rate', ''), '15.00')::numeric AS vat_rate,
           s.wasla_fee + coalesce((SELECT sum(a.fee_delta) FROM settlement_settlementadjustment a
                                   WHERE a.settlement_id = s.id), 0) AS fee
       FROM settlement_settlementrecord s JOIN b_settlement USING (id)
       WHERE s.status = 'pending'""",
    """CREATE TEMP TABLE b_line ON COMMIT DROP AS
       SELECT tenant_id, vat_rate, count(*) AS quantity, round(sum(fee), %(exponent)s) AS net,
           round(sum(fee) * vat_rate / 100, %(exponent)s) AS vat,
           round(sum(fee) / count(*), %(exponent)s) AS unit_price,
           row_number() OVER (PARTITION BY tenant_id ORDER BY vat_rate) AS position
       FROM b_billable GROUP BY tenant_id, vat_rate""",
    """INSERT INTO invoicing_documentcounter (series, last_number) VALUES ('invoice', 0)
       ON CONFLICT (series) DO NOTHING""",
    """CREATE TEMP TABLE b_counter ON COMMIT DROP AS
       SELECT last_number FROM invoicing_documentcounter WHERE series = 'invoice' FOR UPDATE""",
    """CREATE TEMP TABLE b_invoice ON COMMIT DROP AS
       SELECT tenant_id, slug, upper(left(slug, 1)) || substr(slug, 2) AS comp,
           subtotal, vat_total, subtotal + vat_total AS total, operations,
           (SELECT last_number FROM b_counter) + row_number() OVER (ORDER BY slug) AS number,
           nextval(pg_get_serial_sequence('invoicing_invoice', 'id')) AS invoice_id
       FROM (SELECT l.tenant_id, t.slug, sum(net) AS subtotal, sum(vat) AS vat_total,
                    sum(quantity) AS operations
             FROM b_line l JOIN b_tenant t USING (tenant_id) GROUP BY l.tenant_id, t.slug
             HAVING sum(net) > 0) i""",
    """INSERT INTO invoicing_invoice (id, currency, year, month, number, total_operations,
           subtotal, vat_total, total, amount_paid, amount_due, due_date, status, issued_at,
           paid_at, created_at, tenant_id, amount_credited)
       SELECT invoice_id, %(currency)s, %(year)s, %(month)s, NULL, operations, subtotal,
           vat_total, total, 0, total, NULL, 'draft', NULL, NULL, now(), tenant_id, 0
       FROM b_invoice ORDER BY number""",
    """INSERT INTO invoicing_invoiceline (position, description_ar, description_en, quantity,
           unit_price, net_amount, vat_rate, vat_amount, invoice_id, tenant_id)
       SELECT l.position, %(line_ar)s, %(line_en)s, l.quantity, l.unit_price, l.net, l.vat_rate,
           l.vat, i.invoice_id, l.tenant_id
       FROM b_line l JOIN b_invoice i USING (tenant_id) ORDER BY i.number, l.position""",
    """INSERT INTO invoicing_invoicesettlement (fee, invoice_id, settlement_id, tenant_id)
       SELECT b.fee, i.invoice_id, b.id, b.tenant_id
       FROM b_billable b JOIN b_invoice i USING (tenant_id) ORDER BY b.id""",
    """UPDATE invoicing_documentcounter SET last_number = (SELECT max(number) FROM b_invoice)
       WHERE series = 'invoice' AND EXISTS (SELECT 1 FROM b_invoice)""",
    # The parties as they stand at issue: the tenant's tax profile, Wasla's seller profile.
    """UPDATE invoicing_invoice SET number = b.number, status = 'issued',
           issued_at = %(now)s, due_date = %(due_date)s, seller_snapshot = %(seller)s::jsonb,
           buyer_snapshot = jsonb_build_object(
               'legal_name_ar', coalesce(t.legal_name_ar, ''),
               'legal_name_en', coalesce(t.legal_name_en, ''),
               'vat_number', coalesce(t.vat_number, ''), 'cr_number', coalesce(t.cr_number, ''),
               'building_number', coalesce(t.building_number, ''),
               'street', coalesce(t.street, ''), 'district', coalesce(t.district, ''),
               'city', coalesce(t.city, ''), 'postal_code', coalesce(t.postal_code, ''),
               'country_code', coalesce(t.country_code, ''))
       FROM b_invoice b JOIN tenants_tenant t ON t.id = b.tenant_id
       WHERE invoicing_invoice.id = b.invoice_id""",
    """SELECT count(pg_advisory_xact_lock(%(lock_class)s, tenant_id::int))
       FROM (SELECT tenant_id FROM b_invoice ORDER BY tenant_id) t""",
    # The posting's lines, in `invoice_post_issue`'s order; VAT Output only for VAT.
    """CREATE TEMP TABLE b_posting ON COMMIT DROP AS
       SELECT i.tenant_id, i.invoice_id, l.line, l.code, l.type, l.debit, l.credit
       FROM b_invoice i CROSS JOIN LATERAL (VALUES
           (1, 'Assets:Merchants:' || i.comp || ':Receivable', 'asset', i.total, 0),
           (2, 'Assets:Merchants:' || i.comp || ':Unbilled', 'asset', 0, i.subtotal),
           (3, 'Liabilities:VAT:Output:' || i.comp, 'liability', 0, i.vat_total)
       ) AS l (line, code, type, debit, credit)
       WHERE l.line < 3 OR i.vat_total > 0""",
    """INSERT INTO ledger_ledgeraccount (code, type, currency, balance, created_at, tenant_id)
       SELECT code, type, %(currency)s, 0, now(), tenant_id FROM b_posting
       ORDER BY tenant_id, code ON CONFLICT (tenant_id, code, currency) DO NOTHING""",
    """CREATE TEMP TABLE b_entry ON COMMIT DROP AS
       SELECT p.*, a.id AS account_id,
           a.balance + CASE WHEN a.type IN ('asset', 'expense') THEN p.debit - p.credit
                            ELSE p.credit - p.debit END AS balance_after
       FROM b_posting p JOIN ledger_ledgeraccount a
           ON a.tenant_id = p.tenant_id AND a.code = p.code AND a.currency = %(currency)s
       ORDER BY a.id FOR UPDATE OF a""",
    """CREATE TEMP TABLE b_tx ON COMMIT DROP AS
       SELECT i.tenant_id, i.invoice_id, nextval(pg_get_serial_sequence(
               'ledger_ledgertransaction', 'id')) AS tx_id,
           coalesce(h.sequence, 0) + 1 AS sequence, coalesce(h.hash, '') AS previous_hash,
           encode(sha256(convert_to('{"entry_type":"invoice","lines":[' || (
               SELECT string_agg(format('["%%s","%%s","%%s","%%s","%%s"]', p.code, p.type,
                   %(currency)s, round(p.debit, %(exponent)s), round(p.credit, %(exponent)s)),
                   ',' ORDER BY p.line)
               FROM b_posting p WHERE p.tenant_id = i.tenant_id)
               || '],"reference_id":"invoice:' || i.invoice_id || '","reverses":null,"tenant":'
               || i.tenant_id || '}', 'UTF8')), 'hex') AS fingerprint,
           now() AS created_at
       FROM b_invoice i LEFT JOIN LATERAL (
           SELECT t.sequence, t.hash FROM ledger_ledgertransaction t
           WHERE t.tenant_id = i.tenant_id ORDER BY t.sequence DESC LIMIT 1) h ON true""",
    """INSERT INTO ledger_ledgertransaction (id, entry_type, reference_id, idempotency_key,
           fingerprint, sequence, previous_hash, hash, created_at, reverses_id, tenant_id)
       SELECT tx_id, 'invoice', 'invoice:' || invoice_id, 'invoice:' || invoice_id, fingerprint,
           sequence, previous_hash, encode(sha256(convert_to(previous_hash || E'\\n'
               || '{"created_at":"' || to_char(created_at AT TIME ZONE 'UTC',
                   CASE WHEN extract(microseconds FROM created_at)::bigint %% 1000000 = 0
                   THEN 'YYYY-MM-DD"T"HH24:MI:SS' ELSE 'YYYY-MM-DD"T"HH24:MI:SS.US' END)
               || '+00:00","fingerprint":"' || fingerprint || '","idempotency_key":"invoice:'
               || invoice_id || '","sequence":' || sequence || '}', 'UTF8')), 'hex'),
           created_at, NULL, tenant_id
       FROM b_tx ORDER BY tx_id""",
    """INSERT INTO ledger_financialledgerentry (debit, credit, balance_after, tenant_id,
           account_id, transaction_id)
       SELECT e.debit, e.credit, e.balance_after, e.tenant_id, e.account_id, t.tx_id
       FROM b_entry e JOIN b_tx t USING (tenant_id) ORDER BY t.tx_id, e.line""",
    """UPDATE ledger_ledgeraccount a SET balance = e.balance_after
       FROM b_entry e WHERE a.id = e.account_id""",
    """UPDATE settlement_settlementrecord s SET status = 'invoiced'
       FROM b_billable b JOIN b_invoice i USING (tenant_id)
       WHERE s.id = b.id AND s.status = 'pending'""",
]


def invoices_generate_set_based(conn: Any, params: dict[str, Any]) -> None:
    """Run every statement in one transaction on `conn` (psycopg, logged in as the app role)."""
    with conn.transaction(), psycopg.ClientCursor(conn) as cursor:
        for statement in STATEMENTS:
            cursor.execute(statement, params)
