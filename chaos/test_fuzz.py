"""Fuzz: every operation of the published OpenAPI schema (schemathesis, with a real tenant's API
token) and the webhook endpoints (hypothesis: forged and valid signatures over mutated events,
raw bytes, truncated, nested and oversized bodies, wrong content types, unknown endpoints),
over HTTPS through the suite's stack (nginx, gunicorn, pgbouncer; chaos_stack in conftest.py).

Asserts: no response is a 5xx, and no settlement or ledger row appeared (counted by SQL as the
tables' owner before and after). Prints the request count and the status histogram.
Sizes: about 1,000 requests in `make test`, at least 10,000 with WASLA_CHAOS_FULL=1.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings

from chaos import report
from chaos.load_support import (
    FULL,
    Target,
    count_rows,
    histogram_table,
    money_tables,
    sized,
    sql_rows,
    target_for_stack,
)
from chaos.load_webhook_fuzz import BODY_LIMIT, Delivery, deliveries

pytestmark = pytest.mark.chaos

TOTAL = sized(1_000, 10_000)  # requests, API and webhooks together
API_EXAMPLES = sized(30, 330)  # per operation (hypothesis stops early on small input spaces)
WEBHOOK_SHARE = sized(350, 3_000)  # at least this many webhook deliveries
CLOSED_UNREAD = 0  # histogram key: an oversized body refused while it was still being sent


@pytest.fixture
def fuzz_target(chaos_stack: Any) -> Target:
    """The suite's stack with one merchant of its own."""
    return target_for_stack(chaos_stack, label="fuzz", tenants=1)


def _settings(examples: int) -> Any:
    return settings(
        max_examples=examples,
        deadline=None,
        derandomize=not FULL,  # the sample is repeatable; the full run explores
        database=None,
        phases=[Phase.explicit, Phase.generate],  # nothing raises, so nothing to shrink
        suppress_health_check=list(HealthCheck),
    )


def fuzz_api(target: Target, statuses: Counter[int], errors: list[str]) -> int:
    tenant = target.seed["tenants"][0]
    session = requests.Session()
    session.verify = target.verify
    session.headers["Authorization"] = f"Bearer {tenant['token']}"
    schema = schemathesis.openapi.from_url(target.url("/api/schema/"), verify=target.verify)
    operations = [result.ok() for result in schema.get_all_operations()]  # type: ignore[union-attr]
    assert len(operations) >= 21  # every route and method of the merchant API
    sent = 0
    for operation in operations:
        label = f"{operation.method.upper()} {operation.path}"

        @given(case=operation.as_strategy())
        @_settings(API_EXAMPLES)
        def run(case: Any) -> None:
            nonlocal sent
            if case.headers and "Idempotency-Key" in case.headers:
                case.headers["Idempotency-Key"] = "fuzz-" + uuid.uuid4().hex
            response = case.call(base_url=target.base_url, session=session, verify=target.verify)
            statuses[response.status_code] += 1
            sent += 1
            if response.status_code >= 500:
                errors.append(f"{label} -> {response.status_code}: {case.as_curl_command()}")  # noqa: B023

        run()
    return sent


def fuzz_webhooks(target: Target, count: int, statuses: Counter[int], errors: list[str]) -> int:
    tenant = target.seed["tenants"][0]
    session = requests.Session()
    session.verify = target.verify
    kinds: Counter[str] = Counter()
    reconnects: list[str] = []
    sent = 0

    def post(delivery: Delivery) -> requests.Response:
        return session.post(
            target.url(delivery.path),
            data=delivery.body,
            headers=delivery.headers,
            timeout=60,
            verify=target.verify,  # per request: REQUESTS_CA_BUNDLE would override the session's
        )

    @given(delivery=deliveries(tenant))
    @_settings(count)
    def run(delivery: Delivery) -> None:
        nonlocal sent
        sent += 1
        kinds[delivery.kind.split("/")[1]] += 1
        try:
            response = post(delivery)
        except requests.ConnectionError:
            session.close()  # a fresh connection for what follows
            if len(delivery.body) > BODY_LIMIT:
                # Refused before it was read: the server answered and closed while the client
                # was still sending (HTTP allows it; nginx in front answers 413 instead).
                statuses[CLOSED_UNREAD] += 1
                return
            # A kept-alive connection the server had just closed (what every HTTP client
            # retries); a request that kills its worker fails again on a fresh connection.
            reconnects.append(delivery.kind)
            response = post(delivery)
        statuses[response.status_code] += 1
        if response.status_code >= 500:
            errors.append(
                f"POST {delivery.path} ({delivery.kind}, {len(delivery.body)} bytes)"
                f" -> {response.status_code}: {delivery.body[:300]!r}"
            )

    run()
    report(f"fuzz webhook bodies: {dict(sorted(kinds.items()))}, reconnects: {len(reconnects)}")
    return sent


# --- The inbox after the fuzz ---------------------------------------------------------------
# Signed fuzz events name payments that do not exist, so the pipeline parks them and the sweeper
# tries them again (up to WASLA_WEBHOOK_MAX_ATTEMPTS). Money is counted once each has been tried
# at least once; then the parked ones are retired (marked ignored, as the pipeline itself ends
# them when their tries run out), so the tests after this one do not share the workers with
# thousands of hopeless retries.

SETTLE_SECONDS = 120


def _inbox_sql(target: Target, query: str, *params: Any) -> list[tuple[Any, ...]]:
    from wasla.payments.models import WebhookEvent
    from wasla.tenants.models import Tenant

    slug = target.seed["tenants"][0]["slug"]
    sql = query.format(events=WebhookEvent._meta.db_table, tenants=Tenant._meta.db_table)
    return sql_rows(target.owner_dsn, sql, (*params, slug))


_FUZZ_TENANT = "tenant_id = (SELECT id FROM {tenants} WHERE slug = %s)"


def inbox_tried_once(target: Target) -> int:
    """Wait until every verified event of the fuzz's merchant was processed at least once;
    the number still untried when the wait ran out."""
    deadline = time.monotonic() + SETTLE_SECONDS
    while True:
        query = "SELECT count(*) FROM {events} WHERE signature_valid AND attempts = 0"
        query += " AND status = 'received' AND " + _FUZZ_TENANT
        untried = _inbox_sql(target, query)[0][0]
        if not untried or time.monotonic() > deadline:
            return int(untried)
        time.sleep(1)


def inbox_statuses(target: Target) -> dict[str, int]:
    query = "SELECT status, count(*) FROM {events} WHERE signature_valid AND " + _FUZZ_TENANT
    return dict(_inbox_sql(target, query + " GROUP BY status ORDER BY status"))


def inbox_retire_parked(target: Target) -> int:
    query = (
        "UPDATE {events} SET status = 'ignored', next_attempt_at = NULL,"
        " error = 'chaos fuzz: retired after the run' WHERE status = 'received' AND "
        + _FUZZ_TENANT
        + " RETURNING id"
    )
    return len(_inbox_sql(target, query))


def test_fuzz_never_answers_5xx_and_moves_no_money(fuzz_target: Target) -> None:
    target = fuzz_target
    tables = money_tables()
    before = count_rows(target.owner_dsn, tables)
    api_statuses: Counter[int] = Counter()
    hook_statuses: Counter[int] = Counter()
    errors: list[str] = []

    api_sent = fuzz_api(target, api_statuses, errors)
    hook_sent = fuzz_webhooks(target, max(WEBHOOK_SHARE, TOTAL - api_sent), hook_statuses, errors)

    untried = inbox_tried_once(target)  # whatever a verified event would do, it has done
    after = count_rows(target.owner_dsn, tables)
    report(f"fuzz inbox (verified events by status): {inbox_statuses(target)}")
    retired = inbox_retire_parked(target)
    report(f"fuzz against {target.label} ({target.base_url}):")
    for line in histogram_table(api_statuses, "API (schemathesis)").splitlines():
        report("  " + line)
    for line in histogram_table(hook_statuses, "webhooks (hypothesis)").splitlines():
        report("  " + line)
    report(f"fuzz total: {api_sent + hook_sent} requests, {len(errors)} responses >= 500")
    report(f"fuzz money rows before/after: { {k: (before[k], after[k]) for k in tables} }")
    report(f"fuzz: {retired} parked events retired after the checks, {untried} never tried")
    assert not errors, "\n".join(errors[:20])
    assert untried == 0, f"{untried} verified fuzz events never processed in {SETTLE_SECONDS} s"
    assert after == before, f"the fuzz moved money: {before} -> {after}"
    assert api_sent + hook_sent >= TOTAL
