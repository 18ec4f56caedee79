"""Degraded, not down: the stack with Redis stopped, and with Tap failing under load.

- Redis stopped (broker and cache): webhooks are still answered 2xx, each stored in PostgreSQL
  with its queueing refused at once; once Redis is back, beat's sweeper queues them and each
  payment is confirmed exactly once.
- Tap's API timing out, then answering 500, while checkouts come from several threads: once the
  gateway's circuit is open, checkout answers 503 (provider-circuit-open, Retry-After) without
  calling Tap (the proxy in front of the simulator counts every call); webhooks delivered
  meanwhile are accepted and processed once Tap answers again, exactly once.
"""

from __future__ import annotations

import statistics
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from chaos import chaos_full, report
from chaos.deliveries import (
    SETUP_COMMAND,
    Audit,
    CountingProxy,
    Provider,
    answers_total,
    api_client,
    audit,
    checkout,
    gateways_from_output,
    payments_create,
    stack_python,
    tap_deliveries,
    tap_knob,
    tap_knobs_reset,
)

PAYMENTS = 100 if chaos_full() else 12
CHECKOUT_THREADS = 4
CHECKOUTS_PER_THREAD = 15 if chaos_full() else 5
OPEN_CIRCUIT_PROBES = 10
DRAIN_TIMEOUT = 120.0


def _ms(seconds: list[float]) -> str:
    if not seconds:
        return "none"
    ordered = sorted(seconds)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return (
        f"p50 {statistics.median(ordered) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms,"
        f" max {ordered[-1] * 1000:.0f} ms (n={len(ordered)})"
    )


def _setup(stack, payments: int):  # type: ignore[no-untyped-def]
    run = uuid.uuid4().hex[:8]
    (gateway,) = gateways_from_output(stack_python(stack, SETUP_COMMAND.format(count=1, run=run)))
    tap_knobs_reset(stack.sandbox_url)
    tap_knob(stack.sandbox_url, webhook="drop")
    made = payments_create(stack.base_url, [gateway], payments, run=run)
    return run, gateway, made, tap_deliveries(stack.tap_url, made, copies=1, stale_every=0)


def _wait_drained(stack, run: str) -> tuple[Audit, float]:  # type: ignore[no-untyped-def]
    began = time.monotonic()
    url = stack.audit_url
    result = audit(url, run)
    while not result.drained and time.monotonic() - began < DRAIN_TIMEOUT:
        time.sleep(0.5)
        result = audit(url, run)
    assert result.drained, f"{result.events} {result.not_once[:5]}\n{stack.logs()}"
    return result, time.monotonic() - began


@pytest.mark.usefixtures("tap_knobs_restored")
def test_webhooks_are_accepted_with_redis_stopped_and_processed_once_it_is_back(
    chaos_stack, redis_server
):
    stack = chaos_stack
    run, _, _, deliveries = _setup(stack, PAYMENTS)
    redis_server.stop()
    try:
        missed = Provider(threads=4, deadline=60).deliver(deliveries)
        assert not missed, [d.label for d in missed]
        answers = answers_total(deliveries)
        took = [s for d in deliveries for s in d.seconds]
        # Stored from PostgreSQL alone: every delivery acknowledged on its first try.
        assert answers == {"200": len(deliveries)}, answers
        waiting = audit(stack.audit_url, run)
        assert waiting.events == {"received": len(deliveries)}, waiting.events
        assert waiting.per_order == {("pending", 0, 0, 0): PAYMENTS}, waiting.per_order
    finally:
        redis_server.start()
    result, drained_in = _wait_drained(stack, run)
    assert result.per_order == {("paid", 1, 1, 1): PAYMENTS}
    assert result.events == {"processed": PAYMENTS}
    report(
        f"redis stopped: {len(deliveries)} webhooks answered 200 on the first try ({_ms(took)});"
        f" Redis started again, the sweeper drained them in {drained_in:.1f} s:"
        f" {dict(result.per_order)}, inbox {dict(result.events)}"
    )


@pytest.mark.usefixtures("tap_knobs_restored")
def test_checkout_answers_503_without_calling_tap_once_its_circuit_is_open(
    chaos_stack, tap_proxy: CountingProxy
):
    stack = chaos_stack
    run, gateway, _, deliveries = _setup(stack, PAYMENTS)
    client = api_client(stack.base_url, gateway.api_token)
    outcomes: list[tuple[str, float, int]] = []  # (status/slug, seconds, Tap calls meanwhile)

    def one(n: int) -> None:
        with api_client(stack.base_url, gateway.api_token) as own:
            began, calls = time.monotonic(), tap_proxy.total()
            response = checkout(own, reference=f"chaos-{run}x-{n}")
            slug = response.json().get("type", "").rsplit("/", 1)[-1] if response.content else ""
            answer = f"{response.status_code} {slug}"
            outcomes.append((answer, time.monotonic() - began, tap_proxy.total() - calls))

    # Tap hangs: the product gives up after its read timeout (1.5 s here); not retried.
    tap_knob(stack.sandbox_url, api="timeout", timeout_seconds=3, api_fail_count=2)
    for n in range(2):
        one(n)
    # Then Tap answers 500 to everything, under load from several threads.
    tap_knob(stack.sandbox_url, api="error_500", api_fail_count=0)
    with ThreadPoolExecutor(CHECKOUT_THREADS) as pool:
        list(pool.map(one, range(2, 2 + CHECKOUT_THREADS * CHECKOUTS_PER_THREAD)))
    # With the circuit open: one checkout after another, each 503 with no call to Tap.
    probes = []
    for n in range(OPEN_CIRCUIT_PROBES):
        began, calls = time.monotonic(), tap_proxy.total()
        response = checkout(client, reference=f"chaos-{run}y-{n}")
        probes.append((response, time.monotonic() - began, tap_proxy.total() - calls))
    for response, _, _ in probes:
        assert response.status_code == 503, response.text
        assert response.json()["type"].endswith("provider-circuit-open")
        assert int(response.headers["Retry-After"]) >= 1
    # No call reached Tap while the probes ran (the circuit stays open for its reset timeout,
    # 20 s here, longer than the load's tail and the probes take).
    assert sum(calls for _, _, calls in probes) == 0, probes
    # Webhooks for payments made before the outage arrive now: accepted; their processing
    # (which fetches the charge from Tap) fails and is retried later, so none is applied yet.
    missed = Provider(threads=4, deadline=60).deliver(deliveries)
    assert not missed, [d.label for d in missed]
    assert answers_total(deliveries) == {"200": len(deliveries)}
    waiting = audit(stack.audit_url, run)
    assert waiting.events == {"received": PAYMENTS}, waiting.events
    assert waiting.per_order == {("pending", 0, 0, 0): PAYMENTS}, waiting.per_order
    timeouts = [s for o, s, _ in outcomes if o.startswith("502")]
    opened = [s for o, s, _ in outcomes if o == "503 provider-circuit-open"]
    assert opened, outcomes  # the circuit opened under the load already
    by_answer: dict[str, int] = {}
    for answer, _, _ in outcomes:
        by_answer[answer] = by_answer.get(answer, 0) + 1

    # Tap recovers; once the circuit's reset timeout is over, a trial call closes it.
    tap_knobs_reset(stack.sandbox_url)
    tap_knob(stack.sandbox_url, webhook="drop")
    recovered_after = _checkout_until_created(client, run)
    result, drained_in = _wait_drained(stack, run)
    assert result.per_order == {("paid", 1, 1, 1): PAYMENTS}
    assert result.events == {"processed": PAYMENTS}
    report(
        f"tap failing: checkouts under load answered {by_answer}; provider failures"
        f" ({_ms(timeouts)}); circuit open: {OPEN_CIRCUIT_PROBES} sequential checkouts all 503"
        f" provider-circuit-open with 0 calls to Tap ({_ms([s for _, s, _ in probes])}),"
        f" under load ({_ms(opened)})"
    )
    report(
        f"tap recovered: checkout 201 again after {recovered_after:.1f} s; {len(deliveries)}"
        f" webhooks accepted during the outage drained in {drained_in:.1f} s:"
        f" {dict(result.per_order)}, inbox {dict(result.events)}"
    )


def _checkout_until_created(client: httpx.Client, run: str) -> float:
    began = time.monotonic()
    for n in range(60):
        response = checkout(client, reference=f"chaos-{run}z-{n}")
        if response.status_code == 201:
            return time.monotonic() - began
        assert response.status_code in (502, 503), response.text
        time.sleep(0.5)
    raise AssertionError("checkout never recovered")
