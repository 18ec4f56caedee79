"""Load: locust, headless, for a bounded time, runs chaos/locustfile.py's mix (checkouts paid on
the Stripe simulator's hosted page with its signed webhooks and our redeliveries, refunds, API
lists, portal and dashboard pages) through the suite's stack (chaos_stack in conftest.py).

Asserts: 0 failed requests; afterwards every paid payment of the run's merchants has exactly one
paid attempt per order, one settlement and one fee posting, and verify_ledger passes. Prints
requests/s and p50/p95/p99 per endpoint. Sizes: 20 s in `make test`, 2 minutes in `make chaos`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from chaos import report
from chaos.load_support import (
    Target,
    read_locust_stats,
    sized,
    sql_rows,
    stats_table,
    target_for_stack,
)

ROOT = Path(__file__).resolve().parent.parent
USERS = sized(8, 16)
SECONDS = sized(20, 120)
TENANTS = 3
# Every kind of request of the mix must have run (so a silent skip cannot pass for a success).
MIX = {
    "/api/v1/orders/",
    "/api/v1/payments/",
    "/api/v1/payments/[id]/refunds/",
    "/webhooks/tap/[token]/ (redelivery)",
    "/merchant/payments/",
    "/dashboard/",
}


@pytest.fixture
def load_target(chaos_stack: Any) -> Target:
    """The suite's stack with the run's own merchants and a staff login."""
    return target_for_stack(chaos_stack, label="load", tenants=TENANTS)


def run_locust(target: Target, work: Path) -> tuple[subprocess.CompletedProcess[str], Path]:
    seed_file = work / "seed.json"
    seed_file.write_text(json.dumps(target.seed))
    prefix = work / "load"
    verify = target.verify if isinstance(target.verify, str) else ("1" if target.verify else "0")
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "WASLA_LOAD_SEED": str(seed_file),
        "WASLA_LOAD_VERIFY": verify,
        "WASLA_LOAD_PROVIDERS": ",".join(target.providers),
    }
    for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        env.pop(name, None)  # requests would take these over the client's own `verify`
    command = [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(ROOT / "chaos" / "locustfile.py"),
        "--headless",
        "--users",
        str(USERS),
        "--spawn-rate",
        str(USERS),
        "--run-time",
        f"{SECONDS}s",
        "--stop-timeout",
        "40",  # a checkout under way finishes (its payment is waited for) before the end
        "--host",
        target.base_url,
        "--csv",
        str(prefix),
        "--only-summary",
        "--loglevel",
        "WARNING",
    ]
    done = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=SECONDS + 180
    )
    return done, prefix


def exactly_once(target: Target) -> dict[str, int]:
    """Per order of the run's merchants: paid attempts, settlements and fee postings."""
    from wasla.ledger.models import LedgerTransaction
    from wasla.orders.models import Order
    from wasla.payments.models import PaymentAttempt
    from wasla.settlement.models import SettlementRecord
    from wasla.tenants.models import Tenant

    slugs = [t["slug"] for t in target.seed["tenants"]]
    paid = ("paid", "partially_refunded", "refunded")
    query = f"""
        SELECT o.id,
               (SELECT count(*) FROM {PaymentAttempt._meta.db_table} a
                 WHERE a.order_id = o.id AND a.status = ANY(%(paid)s)),
               (SELECT count(*) FROM {SettlementRecord._meta.db_table} s WHERE s.order_id = o.id),
               (SELECT count(*) FROM {LedgerTransaction._meta.db_table} l
                  JOIN {SettlementRecord._meta.db_table} s ON l.idempotency_key = 'fee:' || s.id
                 WHERE s.order_id = o.id AND l.tenant_id = o.tenant_id)
          FROM {Order._meta.db_table} o JOIN {Tenant._meta.db_table} t ON t.id = o.tenant_id
         WHERE t.slug = ANY(%(slugs)s)
    """  # table names from the models' _meta
    rows = sql_rows(target.owner_dsn, query, {"paid": list(paid), "slugs": slugs})  # type: ignore[arg-type]
    bad = [row for row in rows if not (row[1] == row[2] == row[3] and row[1] <= 1)]
    assert not bad, (
        f"orders whose effects are not exactly once (id, paid, settlements, fees): {bad[:10]}"
    )
    return {
        "orders": len(rows),
        "paid": sum(1 for row in rows if row[1] == 1),
        "settlements": sum(row[2] for row in rows),
        "fee postings": sum(row[3] for row in rows),
    }


def test_load_mix_has_no_failures_and_effects_exactly_once(
    load_target: Target, tmp_path: Path
) -> None:
    target = load_target
    done, prefix = run_locust(target, tmp_path)
    stats = prefix.with_name(prefix.name + "_stats.csv")
    assert stats.exists(), f"locust wrote no stats (exit {done.returncode}):\n{done.stderr[-3000:]}"
    rows = read_locust_stats(stats)
    table = stats_table(rows)
    print(f"\nload against {target.label}: {USERS} users, {SECONDS} s\n{table}")
    total = next(r for r in rows if r.name == "Aggregated")
    report(
        f"load ({target.label}, {USERS} users, {SECONDS} s): {total.requests} requests,"
        f" {total.failures} failures, {total.rps:.1f} req/s,"
        f" p50/p95/p99 {total.p50:.0f}/{total.p95:.0f}/{total.p99:.0f} ms"
    )
    for line in table.splitlines():
        report("  " + line)
    failures = prefix.with_name(prefix.name + "_failures.csv")
    assert total.failures == 0, failures.read_text() if failures.exists() else done.stderr[-3000:]
    assert done.returncode == 0, done.stderr[-3000:]
    seen = {r.name for r in rows if r.requests}
    assert seen >= MIX, f"the mix did not run: {sorted(MIX - seen)} missing"

    totals = exactly_once(target)
    report(f"load exactly-once: {totals}")
    assert totals["paid"] > 0
    target.verify_ledger()
