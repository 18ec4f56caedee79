"""What the fuzz and the load runs share: the run's size (bounded sample or full), the target
they hit (base URL, TLS verification, SQL as the database owner, the seeded credentials), the
staff and portal sign-in (one place each, so a second factor changes one function), the money
rows counted before and after, and the tables they print.

Sizes: `make test` runs a bounded sample; `make chaos` sets WASLA_CHAOS_FULL=1 for the full run.
"""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
from base64 import b32decode
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from django_otp.oath import TOTP

FULL = os.environ.get("WASLA_CHAOS_FULL", "") not in ("", "0")  # as chaos/conftest.py reads it


def sized(sample: int, full: int) -> int:
    """`full` in the full run (`make chaos`), `sample` in `make test`."""
    return full if FULL else sample


# --- Money rows: what neither a fuzz nor a refused request may create ------------------------


def money_tables() -> dict[str, str]:
    """Label -> table of every row that records money: settlements and their adjustments, ledger
    transactions and entries (names read from the models, so a rename follows)."""
    from wasla.ledger.models import FinancialLedgerEntry, LedgerTransaction
    from wasla.settlement.models import SettlementAdjustment, SettlementRecord

    models = {
        "settlements": SettlementRecord,
        "settlement adjustments": SettlementAdjustment,
        "ledger transactions": LedgerTransaction,
        "ledger entries": FinancialLedgerEntry,
    }
    return {label: model._meta.db_table for label, model in models.items()}


def count_rows(owner_dsn: str, tables: Mapping[str, str]) -> dict[str, int]:
    """Row counts read as the tables' owner (no row-level security in the way)."""
    with psycopg.connect(owner_dsn, autocommit=True) as conn:
        return {
            # Table names come from the models' _meta, never from input.
            label: conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]  # type: ignore[index]
            for label, table in tables.items()
        }


def sql_rows(owner_dsn: str, query: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    with psycopg.connect(owner_dsn, autocommit=True) as conn:
        return conn.execute(query, params).fetchall()  # type: ignore[arg-type]


# --- The target ------------------------------------------------------------------------------


@dataclass
class Target:
    """Where the run sends its requests and how it checks the database behind them."""

    base_url: str
    owner_dsn: str  # libpq URL of the database, as the role that owns the tables
    verify: bool | str = True  # requests' TLS verification: a CA bundle path for the stack
    seed: dict[str, Any] = field(default_factory=dict)
    label: str = "stack"
    providers: tuple[str, ...] = ("tap", "stripe")  # what the load's checkouts go through
    verify_ledger: Callable[[], None] = lambda: None

    def url(self, path: str) -> str:
        return self.base_url.rstrip("/") + path


ROOT = Path(__file__).resolve().parent.parent


def target_for_stack(stack: Any, *, label: str, tenants: int) -> Target:
    """The running stack (scripts/stack.py's `Stack`, or chaos/ministack.py's stand-in) with
    `tenants` new merchants seeded through its own settings (`python -m chaos.load_seed`)."""
    env = {**os.environ, **stack.env, "PYTHONPATH": str(ROOT)}
    sandbox = getattr(stack, "sandbox_url", stack.base_url)
    providers: tuple[str, ...] = ("tap", "stripe")
    if "WASLA_STRIPE_SANDBOX_URL" not in stack.env:
        # The stand-in points only Tap at its simulator: Stripe's gateway is connected (its
        # webhook registered) for the fuzz, but the load checks out through Tap alone.
        env["WASLA_STRIPE_SANDBOX_URL"] = f"{sandbox}/sandbox/stripe"
        providers = ("tap",)
    seeded = subprocess.run(
        [sys.executable, "-m", "chaos.load_seed", "--tenants", str(tenants), "--label", label],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert seeded.returncode == 0, f"seeding failed:\n{seeded.stdout}\n{seeded.stderr[-3000:]}"
    certificate = getattr(stack, "certificate", None)
    owner_url = getattr(stack, "owner_url", None) or stack.cluster.database_url(stack.database)
    return Target(
        base_url=stack.base_url,
        owner_dsn=owner_url,
        verify=str(certificate) if certificate else True,
        seed=json.loads(seeded.stdout.strip().splitlines()[-1]),
        label=type(stack).__name__,
        providers=providers,
        verify_ledger=lambda: _check_manage(stack, "verify_ledger"),
    )


def _check_manage(stack: Any, *args: str) -> None:
    """`manage.py <args>` in the stack's environment; raises when it exits non-zero."""
    stack.manage(*args)  # both stacks raise on a non-zero exit


# --- Signing in: the one place that knows how a person logs in ------------------------------


Client = Any  # requests.Session and locust's HttpSession alike (their signatures differ)


_CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def _form_login(
    client: Client, base: str, path: str, username: str, password: str, **extra: str
) -> Any:
    page = client.get(base + path, name=path) if _is_locust(client) else client.get(base + path)
    match = _CSRF.search(page.text)
    assert match, f"no CSRF token on {path} ({page.status_code})"
    data = {
        "csrfmiddlewaretoken": match.group(1),
        "username": username,
        "password": password,
        **extra,
    }
    headers = {"Referer": base + path if base else page.url}
    kwargs: dict[str, Any] = {"data": data, "headers": headers, "allow_redirects": False}
    if _is_locust(client):
        kwargs["name"] = path + " (sign in)"
    answer = client.post(base + path, **kwargs)
    assert answer.status_code == 302, f"sign-in at {path} answered {answer.status_code}"
    return answer


def _is_locust(client: Client) -> bool:
    return type(client).__module__.startswith("locust")


def staff_login(client: Client, staff: Mapping[str, str], base: str = "") -> None:
    """Sign a Wasla staff user in (the admin's sign-in page, where the dashboard sends staff),
    with the current code of their authenticator: staff's second factor."""
    code = f"{TOTP(b32decode(staff['totp_secret'])).token():06d}"
    _form_login(client, base, "/admin/login/", staff["username"], staff["password"], otp_token=code)


def portal_login(client: Client, owner: Mapping[str, str], base: str = "") -> None:
    """Sign a merchant's team member in to the portal."""
    _form_login(client, base, "/merchant/login/", owner["username"], owner["password"])


# --- Printing --------------------------------------------------------------------------------


def histogram_table(statuses: Counter[int], title: str) -> str:
    lines = [f"{title}: {sum(statuses.values())} requests", "  status  count"]
    for status, count in sorted(statuses.items()):
        note = "" if status else "  (connection closed: an oversized body refused unread)"
        lines.append(f"  {status or 'closed':>6}  {count:>5}{note}")
    return "\n".join(lines)


@dataclass(frozen=True)
class EndpointStats:
    name: str
    method: str
    requests: int
    failures: int
    rps: float
    p50: float
    p95: float
    p99: float


def read_locust_stats(path: Path) -> list[EndpointStats]:
    """Rows of locust's `<prefix>_stats.csv` (per endpoint, then the "Aggregated" row)."""

    def number(row: Mapping[str, str], key: str) -> float:
        value = row.get(key) or "0"
        return 0.0 if value == "N/A" else float(value)

    with path.open(newline="") as handle:
        return [
            EndpointStats(
                name=row["Name"],
                method=row["Type"],
                requests=int(row["Request Count"]),
                failures=int(row["Failure Count"]),
                rps=number(row, "Requests/s"),
                p50=number(row, "50%"),
                p95=number(row, "95%"),
                p99=number(row, "99%"),
            )
            for row in csv.DictReader(handle)
        ]


def stats_table(rows: list[EndpointStats]) -> str:
    width = max(len(f"{r.method} {r.name}") for r in rows)
    head = f"{'endpoint':<{width}}  {'reqs':>6}  {'fails':>5}  {'req/s':>7}  "
    head += f"{'p50 ms':>7}  {'p95 ms':>7}  {'p99 ms':>7}"
    lines = [head, "-" * len(head)]
    for r in rows:
        label = f"{r.method} {r.name}".strip()
        lines.append(
            f"{label:<{width}}  {r.requests:>6}  {r.failures:>5}  {r.rps:>7.1f}  "
            f"{r.p50:>7.0f}  {r.p95:>7.0f}  {r.p99:>7.0f}"
        )
    return "\n".join(lines)
