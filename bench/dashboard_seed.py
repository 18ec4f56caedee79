"""Seed for bench/dashboard.py: P payments across T tenants over 13 months, set-based, in SQL.

As bench/invoicing_seed.py does, it runs as the owner of the tables (a superuser) on a freshly
migrated database, in one transaction with `session_replication_role = replica`, so the per-row
triggers do not fire a million times; what they would write is written here directly (the fee
plans' and assignments' `in_use` markers). Nothing here is billed yet (every settlement is
`pending` or `reversed`), so the invoicing triggers have nothing to guard. The ledger is not
seeded: no page measured here reads it.

Tenant sizes are skewed as a real platform's are (`tenant_sizes`): 1 % of the tenants are large
(50,000 payments each at full scale), 9 % medium (3,000), the rest share what is left. For each
payment: an order, one attempt through one of the four providers (Tap mada / STC Pay / card /
Apple Pay, Stripe card, PayPal, cash on delivery) on the tenant's gateway of that provider; 75 %
paid, 5 % partially refunded, 2 % refunded, 8 % failed, 4 % cancelled, 3 % pending, 3 % created;
every paid one with its settlement and fee snapshot, every refund with its settlement
adjustment; one in four tenants also sells in KWD (a fifth of its payments); one payment in 50
has a webhook event. Times spread evenly over the 13 months before `now`.
"""

from __future__ import annotations

from typing import Any

import psycopg

# Providers by share of payments: (bucket upper bound out of 100, provider, method, gateway no.)
PROVIDER_MIX = [
    (40, "tap", "mada", 1),
    (55, "tap", "stcpay", 1),
    (70, "tap", "card", 1),
    (75, "tap", "applepay", 1),
    (88, "stripe", "card", 2),
    (95, "paypal", "paypal", 3),
    (100, "cod", "cod", 4),
]
GATEWAYS = ["tap", "stripe", "paypal", "cod"]


def _mix_sql(column: str) -> str:
    """CASE on the provider bucket `b` choosing `column` (provider, method or gateway number)."""
    index = {"provider": 1, "method": 2, "gateway": 3}[column]
    arms = " ".join(
        f"WHEN b < {row[0]} THEN " + (str(row[index]) if column == "gateway" else f"'{row[index]}'")
        for row in PROVIDER_MIX
    )
    return f"CASE {arms} END"


SEED: list[str] = [
    "SET LOCAL session_replication_role = replica",
    """
    CREATE TEMP TABLE seed_t ON COMMIT DROP AS
    SELECT t.tenant_id::bigint AS tenant_id, t.n::bigint AS n,
        (sum(t.n) OVER (ORDER BY t.tenant_id) - t.n)::bigint AS first_id
    FROM unnest(%(sizes)s::int[]) WITH ORDINALITY AS t (n, tenant_id)
    """,
    """
    INSERT INTO tenants_tenant (id, name, slug, legal_name_ar, legal_name_en, vat_number,
        address, is_active, created_at, building_number, city, country_code, cr_number,
        district, postal_code, street)
    SELECT tenant_id, 'Bench store ' || tenant_id, 't' || lpad(tenant_id::text, 6, '0'),
        'مؤسسة المقعد ' || tenant_id, 'Bench Trading ' || tenant_id,
        '3' || lpad(tenant_id::text, 13, '0') || '3', '', true, %(now)s - interval '400 days',
        '7431', 'Jeddah', 'SA', lpad(tenant_id::text, 10, '1'), 'Al Rawdah', '23435',
        'Prince Sultan Street'
    FROM seed_t
    """,
    """
    INSERT INTO settlement_feeplan (code, name, version, currency, fixed_fee, percentage,
        vat_rate, minimum_fee, maximum_fee, refund_policy, effective_from, in_use, created_at)
    VALUES ('bench-percent', 'Bench percent', 1, 'SAR', 0, 2.5, 15.00, NULL, NULL,
            'percentage_back', '2020-01-01T00:00:00Z', true, now()),
        ('bench-kwd', 'Bench KWD fixed', 1, 'KWD', 0.300, 0, 15.00, NULL, NULL,
            'percentage_back', '2020-01-01T00:00:00Z', true, now())
    """,
    "UPDATE settlement_feeplan SET in_use = true WHERE code = 'standard' AND version = 1",
    """
    INSERT INTO settlement_feeplanassignment (id, plan_code, currency, effective_from,
        in_use, created_at, tenant_id)
    SELECT tenant_id, 'bench-percent', 'SAR', '2020-01-01T00:00:00Z', true, now(), tenant_id
    FROM seed_t WHERE tenant_id %% 2 = 0
    """,
    """
    INSERT INTO payments_paymentgatewayconfig (id, provider, mode, public_key, secret_key,
        webhook_secret, webhook_token, is_active, created_at, tenant_id)
    SELECT (tenant_id - 1) * 4 + g.no, g.provider, 'sandbox', '', '', '',
        md5('gw' || tenant_id || ':' || g.provider)::uuid, true, %(now)s - interval '400 days',
        tenant_id
    FROM seed_t, unnest(%(gateways)s::text[]) WITH ORDINALITY AS g (provider, no)
    """,
    # One row per payment: who, when, how much, through what and what became of it.
    """
    CREATE TEMP TABLE seed_p ON COMMIT DROP AS
    SELECT t.tenant_id, k, t.first_id + k AS id,
        md5('o' || t.tenant_id || ':' || k)::uuid AS order_id,
        md5('a' || t.tenant_id || ':' || k)::uuid AS attempt_id,
        md5('r' || t.tenant_id || ':' || k)::uuid AS refund_id,
        ((t.first_id + k) * 2654435761) %% 100 AS b,
        ((t.first_id + k) * 7919) %% 100 AS s,
        t.tenant_id %% 4 = 1 AND (t.first_id + k) %% 5 = 0 AS kwd,
        t.tenant_id %% 2 = 0 AS percent_plan,
        %(now)s - (((t.first_id + k) * 104729) %% (395 * 86400)) * interval '1 second'
            AS created_at
    FROM seed_t t, generate_series(1, t.n) k
    """,
    """
    ALTER TABLE seed_p ADD COLUMN provider text, ADD COLUMN method text,
        ADD COLUMN gateway bigint, ADD COLUMN currency text, ADD COLUMN amount numeric,
        ADD COLUMN status text, ADD COLUMN order_status text, ADD COLUMN refunded numeric,
        ADD COLUMN fee numeric, ADD COLUMN fee_delta numeric, ADD COLUMN paid_at timestamptz
    """,
    # The CASEs come from PROVIDER_MIX above, constants of this module, never from input.
    f"""
    UPDATE seed_p SET provider = {_mix_sql("provider")}, method = {_mix_sql("method")},
        gateway = (tenant_id - 1) * 4 + {_mix_sql("gateway")},
        currency = CASE WHEN kwd THEN 'KWD' ELSE 'SAR' END,
        amount = CASE WHEN kwd THEN 1.000 + ((id * 104723) %% 299001) / 1000.0
                 ELSE 10.00 + ((id * 104729) %% 99001) / 100.0 END,
        status = CASE WHEN s < 75 THEN 'paid' WHEN s < 80 THEN 'partially_refunded'
                 WHEN s < 82 THEN 'refunded' WHEN s < 90 THEN 'failed'
                 WHEN s < 94 THEN 'cancelled' WHEN s < 97 THEN 'pending' ELSE 'created' END
    """,  # noqa: S608
    """
    UPDATE seed_p SET
        order_status = CASE WHEN status IN ('paid', 'partially_refunded', 'refunded')
                       THEN status WHEN status IN ('failed', 'cancelled') THEN 'cancelled'
                       ELSE 'pending' END,
        paid_at = CASE WHEN status IN ('paid', 'partially_refunded', 'refunded')
                  THEN created_at + interval '40 seconds' END,
        refunded = CASE status WHEN 'refunded' THEN amount
                   WHEN 'partially_refunded' THEN round(amount / 2, CASE WHEN kwd THEN 3 ELSE 2 END)
                   ELSE 0 END,
        fee = CASE WHEN kwd THEN 0.300 WHEN percent_plan THEN round(amount * 2.5 / 100, 2)
              ELSE 1.00 END
    """,
    """
    UPDATE seed_p SET fee_delta = CASE status WHEN 'refunded' THEN -fee
        WHEN 'partially_refunded' THEN
            CASE WHEN percent_plan AND NOT kwd THEN -least(round(refunded * 2.5 / 100, 2), fee)
            ELSE 0 END
        END
    """,
    """
    INSERT INTO orders_order (id, reference, amount, currency, customer_email, customer_phone,
        customer_name, delivery_address, status, created_at, paid_at, tenant_id)
    SELECT order_id, 'B-' || k, amount, currency, 'buyer' || k || '@example.com',
        '+966557877988', '', '', order_status, created_at - interval '10 seconds', paid_at,
        tenant_id
    FROM seed_p ORDER BY id
    """,
    """
    INSERT INTO payments_paymentattempt (id, provider, method, amount, currency, status,
        provider_reference, idempotency_key, redirect_url, return_url, raw_response,
        refunded_amount, failure_code, failure_message, created_at, updated_at, paid_at,
        order_id, tenant_id, gateway_config_id, provider_payment_reference)
    SELECT attempt_id, provider, method, amount, currency, status,
        CASE WHEN status <> 'created' AND provider <> 'cod' THEN provider || '_' || id END,
        tenant_id || ':bench-' || k, '', 'https://shop.example/thanks', '{}', refunded,
        CASE WHEN status = 'failed' THEN 'card_declined' ELSE '' END,
        CASE WHEN status = 'failed' THEN 'The card was declined.' ELSE '' END,
        created_at, coalesce(paid_at, created_at), paid_at, order_id, tenant_id, gateway,
        CASE WHEN paid_at IS NOT NULL AND provider <> 'cod' THEN provider || '_pay_' || id
             ELSE '' END
    FROM seed_p ORDER BY id
    """,
    """
    INSERT INTO settlement_settlementrecord (id, currency, gross_amount, wasla_fee, net_amount,
        fee_breakdown, status, created_at, updated_at, order_id, payment_attempt_id, tenant_id,
        payment_paid_at, fee_plan_id, fee_plan_assignment_id)
    SELECT p.id, p.currency, p.amount, p.fee, p.amount - p.fee, jsonb_build_object(
            'plan', f.code, 'plan_id', f.id, 'plan_version', 1,
            'assignment_id', CASE WHEN p.percent_plan AND NOT p.kwd THEN p.tenant_id END,
            'override_used', false, 'overrides', '[]'::jsonb, 'currency', p.currency,
            'gross', p.amount::text, 'fixed', f.fixed_fee::text,
            'percentage', f.percentage::text, 'fee', p.fee::text, 'vat_rate', '15.00',
            'refund_policy', f.refund_policy),
        CASE WHEN p.status = 'refunded' THEN 'reversed' ELSE 'pending' END,
        p.paid_at, p.paid_at, p.order_id, p.attempt_id, p.tenant_id, p.paid_at, f.id,
        CASE WHEN p.percent_plan AND NOT p.kwd THEN p.tenant_id END
    FROM seed_p p JOIN settlement_feeplan f ON f.version = 1 AND f.code =
        CASE WHEN p.kwd THEN 'bench-kwd' WHEN p.percent_plan THEN 'bench-percent'
             ELSE 'standard' END
    WHERE p.paid_at IS NOT NULL ORDER BY p.id
    """,
    """
    INSERT INTO payments_refundrecord (id, provider, amount, currency, reason,
        provider_reference, idempotency_key, source, status, failure_message, raw_response,
        created_at, updated_at, payment_attempt_id, tenant_id)
    SELECT refund_id, provider, refunded, currency, '', NULL, tenant_id || ':bench-refund-' || k,
        'api', 'succeeded', '', '{}', paid_at + interval '2 days', paid_at + interval '2 days',
        attempt_id, tenant_id
    FROM seed_p WHERE refunded > 0 ORDER BY id
    """,
    """
    INSERT INTO settlement_settlementadjustment (id, kind, refund_amount, fee_delta, created_at,
        refund_id, settlement_id, tenant_id)
    SELECT id, CASE status WHEN 'refunded' THEN 'reversal'
                WHEN 'partially_refunded' THEN
                    CASE WHEN fee_delta < 0 THEN 'fee_reduction' ELSE 'fee_kept' END END,
        refunded, fee_delta, paid_at + interval '2 days', refund_id, id, tenant_id
    FROM seed_p WHERE refunded > 0 ORDER BY id
    """,
    """
    INSERT INTO payments_webhookevent (provider, event_id, event_type, headers, body,
        signature_valid, status, error, attempts, attempts_at_replay, next_attempt_at,
        error_history, received_at, processed_at, gateway_config_id, tenant_id)
    SELECT provider, 'evt_' || id,
        CASE WHEN status = 'failed' THEN 'charge.failed' ELSE 'charge.succeeded' END, '{}',
        '{"id": "evt_' || id || '"}', true,
        CASE WHEN s < 85 THEN 'processed' WHEN s < 90 THEN 'ignored'
             WHEN s < 95 THEN 'failed' ELSE 'received' END,
        CASE WHEN s BETWEEN 90 AND 94 THEN 'provider unreachable' ELSE '' END,
        1, 0, NULL, '[]', created_at + interval '20 seconds',
        CASE WHEN s < 90 THEN created_at + interval '21 seconds' END, gateway, tenant_id
    FROM seed_p WHERE id %% 50 = 0 AND provider <> 'cod' ORDER BY id
    """,
    """SELECT setval(pg_get_serial_sequence('tenants_tenant', 'id'),
        (SELECT max(tenant_id) FROM seed_t))""",
    """SELECT setval(pg_get_serial_sequence('settlement_feeplanassignment', 'id'),
        (SELECT max(tenant_id) FROM seed_t))""",
    """SELECT setval(pg_get_serial_sequence('payments_paymentgatewayconfig', 'id'),
        4 * (SELECT max(tenant_id) FROM seed_t))""",
    """SELECT setval(pg_get_serial_sequence(table_name, 'id'), (SELECT max(id) FROM seed_p))
       FROM (VALUES ('settlement_settlementrecord'), ('settlement_settlementadjustment')) t
            (table_name)""",
]


def tenant_sizes(*, payments: int, tenants: int) -> list[int]:
    """Payments per tenant, largest first: 1 % of the tenants get 5 % of the payments each
    (50,000 of a million), the next 9 % 0.3 % each, the rest an even share of what is left."""
    large = max(1, tenants // 100)
    medium = max(0, tenants * 9 // 100)
    small = tenants - large - medium
    sizes = [payments * 5 // 100] * large + [payments * 3 // 1000] * medium
    left = max(0, payments - sum(sizes))
    if small:
        sizes += [left // small + (1 if i < left % small else 0) for i in range(small)]
    else:
        sizes[-1] += left
    return sizes


def seed(conn: Any, *, payments: int, tenants: int, now: Any) -> dict[str, int]:
    """Seed and analyse on an autocommit owner connection; returns row counts made."""
    params = {
        "sizes": tenant_sizes(payments=payments, tenants=tenants),
        "gateways": GATEWAYS,
        "now": now,
    }
    with conn.transaction(), psycopg.ClientCursor(conn) as cursor:
        for statement in SEED:
            cursor.execute(statement, params)
    conn.execute("VACUUM ANALYZE")
    counts = {}
    for table in (
        "orders_order",
        "payments_paymentattempt",
        "settlement_settlementrecord",
        "payments_refundrecord",
        "payments_webhookevent",
    ):
        counts[table] = conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608
    return counts
