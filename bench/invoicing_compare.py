"""The check of bench/invoicing.py: both sides made the same invoices, invoice by invoice.

Read as the owner of the tables (no row-level security) from each side's database, per tenant:
the invoice (number, period, status, operations, subtotal, VAT, total, amounts due, paid and
credited, issue time, due date, buyer and seller), its lines, the settlements it bills with their
fees, and its ledger posting (account,
debit, credit, balance after, sequence, previous hash); then the settlements by status, the
accounts' balances and the invoice counter. The posting's own hash differs by design: it covers
the moment it was written.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

INVOICES = """
SELECT t.slug, i.number, i.year, i.month, i.currency, i.status, i.total_operations, i.subtotal,
    i.vat_total, i.total, i.amount_due, i.amount_paid, i.amount_credited, i.amount_credit_applied,
    i.issued_at, i.due_date, i.buyer_snapshot::text, i.seller_snapshot::text,
    (SELECT json_agg(json_build_array(l.position, l.description_ar, l.description_en, l.quantity,
                     l.unit_price, l.net_amount, l.vat_rate, l.vat_amount) ORDER BY l.position)
     FROM invoicing_invoiceline l WHERE l.invoice_id = i.id)::text AS lines,
    (SELECT json_build_array(count(*), sum(s.fee),
                             md5(string_agg(s.settlement_id || ':' || s.fee, ','
                                            ORDER BY s.settlement_id)))
     FROM invoicing_invoicesettlement s WHERE s.invoice_id = i.id)::text AS settlements,
    (SELECT json_agg(json_build_array(lt.entry_type, lt.sequence, lt.previous_hash, a.code,
                     a.type, e.debit, e.credit, e.balance_after) ORDER BY e.id)
     FROM ledger_ledgertransaction lt JOIN ledger_financialledgerentry e ON e.transaction_id = lt.id
     JOIN ledger_ledgeraccount a ON a.id = e.account_id
     WHERE lt.tenant_id = i.tenant_id AND lt.reference_id = 'invoice:' || i.id)::text AS posting
FROM invoicing_invoice i JOIN tenants_tenant t ON t.id = i.tenant_id
ORDER BY t.slug, i.currency
"""

TOTALS = [
    "SELECT status, count(*) FROM settlement_settlementrecord GROUP BY status ORDER BY status",
    """SELECT a.tenant_id, a.code, a.currency, a.balance FROM ledger_ledgeraccount a
       ORDER BY a.tenant_id, a.code, a.currency""",
    "SELECT series, last_number FROM invoicing_documentcounter ORDER BY series",
    "SELECT count(*) FROM ledger_ledgertransaction",
    "SELECT count(*) FROM ledger_financialledgerentry",
]


def compare(a: Any, b: Any) -> int:
    """Raise SystemExit on the first difference between the two sides; the invoices compared."""
    rows_a = a.execute(INVOICES).fetchall()
    rows_b = b.execute(INVOICES).fetchall()
    columns = [c.name for c in a.execute(INVOICES + " LIMIT 0").description]
    if len(rows_a) != len(rows_b):
        raise SystemExit(f"A made {len(rows_a)} invoices, B made {len(rows_b)}")
    for row_a, row_b in zip(rows_a, rows_b, strict=True):
        for name, value_a, value_b in zip(columns, row_a, row_b, strict=True):
            if value_a != value_b:
                raise SystemExit(
                    f"invoices differ for tenant {row_a[0]} (A) / {row_b[0]} (B) in {name}:\n"
                    f"  A: {value_a}\n  B: {value_b}"
                )
        if row_a[-1] is None:
            raise SystemExit(f"invoice of tenant {row_a[0]} has no ledger posting")
    for query in TOTALS:
        result_a, result_b = a.execute(query).fetchall(), b.execute(query).fetchall()
        if result_a != result_b:
            diff = [(x, y) for x, y in zip(result_a, result_b, strict=False) if x != y][:3]
            raise SystemExit(f"sides differ in {query.split()[1:4]}: {diff or 'row count'}")
    return len(rows_a)


def outcome_counts(outcomes: list[str]) -> dict[str, int]:
    return dict(Counter(outcomes))
