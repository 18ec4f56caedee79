"""The retry policy and the circuit breaker of resilience.py on their own: no provider, no
database; the breaker's state lives in the real Redis of the test settings, as in production.
"""

from __future__ import annotations

import threading
import time
import uuid

import pytest
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache

from wasla.payments.providers.base import ProviderError, ProviderTimeout, ProviderUnreachable
from wasla.payments.resilience import (
    BreakerPolicy,
    CircuitBreaker,
    CircuitOpen,
    CircuitState,
    RetryPolicy,
    call_with_retries,
    circuits_read,
)


def breaker(**policy: int) -> CircuitBreaker:
    values = {"failure_threshold": 3, "reset_timeout": 30, "failure_window": 60, **policy}
    return CircuitBreaker(f"test:{uuid.uuid4().hex}", policy=BreakerPolicy(**values))


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def fail() -> None:
    raise ProviderUnreachable("down")


# The breaker on its own ------------------------------------------------------------------------


def test_opens_after_consecutive_failures_and_then_never_calls():
    circuit = breaker(failure_threshold=3)
    calls = []

    def down() -> None:
        calls.append(1)
        raise ProviderUnreachable("503")

    for _ in range(3):
        with pytest.raises(ProviderUnreachable) as raised:
            circuit.call(down)
        assert not isinstance(raised.value, CircuitOpen)
    assert circuit.state() == CircuitState.OPEN
    with pytest.raises(CircuitOpen) as opened:
        circuit.call(down)
    assert len(calls) == 3
    assert 0 < opened.value.retry_after <= 30
    assert isinstance(opened.value, ProviderUnreachable)  # existing callers treat it as "later"


def test_a_success_resets_the_count_and_an_answer_is_a_success():
    circuit = breaker(failure_threshold=3)
    for _ in range(2):
        with pytest.raises(ProviderUnreachable):
            circuit.call(fail)
    assert circuit.call(lambda: "ok") == "ok"
    assert circuit.failures() == 0
    for _ in range(2):
        with pytest.raises(ProviderUnreachable):
            circuit.call(fail)

    def refused() -> None:
        raise ProviderError("invalid_request", "no")

    with pytest.raises(ProviderError):
        circuit.call(refused)  # a 4xx proves the provider is up
    assert (circuit.failures(), circuit.state()) == (0, CircuitState.CLOSED)


def test_timeouts_count_as_failures():
    circuit = breaker(failure_threshold=2)

    def slow() -> None:
        raise ProviderTimeout("read timeout")

    for _ in range(2):
        with pytest.raises(ProviderTimeout):
            circuit.call(slow)
    assert circuit.state() == CircuitState.OPEN


def test_half_open_lets_one_trial_through_success_closes_failure_reopens():
    clock = Clock()
    circuit = breaker(failure_threshold=1, reset_timeout=30)
    circuit.clock = clock
    with pytest.raises(ProviderUnreachable):
        circuit.call(fail)
    clock.now += 29
    with pytest.raises(CircuitOpen) as still:
        circuit.call(lambda: "never")
    assert still.value.retry_after == 1
    clock.now += 2
    assert circuit.state() == CircuitState.HALF_OPEN
    with pytest.raises(ProviderUnreachable) as trial:
        circuit.call(fail)  # the trial fails: open again for a full reset timeout
    assert not isinstance(trial.value, CircuitOpen)
    assert circuit.state() == CircuitState.OPEN
    clock.now += 31
    assert circuit.call(lambda: "back") == "back"
    assert circuit.state() == CircuitState.CLOSED
    assert circuit.call(lambda: "again") == "again"


def test_half_open_admits_exactly_one_trial_among_concurrent_callers(close_thread_connections):
    clock = Clock()
    circuit = breaker(failure_threshold=1, reset_timeout=5)
    circuit.clock = clock
    with pytest.raises(ProviderUnreachable):
        circuit.call(fail)
    clock.now += 6
    barrier = threading.Barrier(12)
    trials: list[int] = []
    refused: list[CircuitOpen] = []

    def caller() -> None:
        barrier.wait()
        try:
            circuit.call(lambda: (trials.append(1), time.sleep(0.3)))
        except CircuitOpen as exc:
            refused.append(exc)

    threads = [threading.Thread(target=caller) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert (len(trials), len(refused)) == (1, 11)
    assert circuit.state() == CircuitState.CLOSED


def test_concurrent_failures_from_many_processes_are_all_counted():
    """20 threads, each with its own Redis connection (as separate processes would have)."""
    name = f"test:{uuid.uuid4().hex}"
    policy = BreakerPolicy(failure_threshold=1000, reset_timeout=30, failure_window=60)
    location = caches["default"]._servers[0]  # type: ignore[attr-defined]
    barrier = threading.Barrier(20)

    def process() -> None:
        own = CircuitBreaker(name, policy=policy, cache=RedisCache(location, {}))
        barrier.wait()
        for _ in range(5):
            with pytest.raises(ProviderUnreachable):
                own.call(fail)

    threads = [threading.Thread(target=process) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert CircuitBreaker(name, policy=policy).failures() == 100


def test_crossing_the_threshold_together_opens_the_circuit_once(caplog):
    name = f"test:{uuid.uuid4().hex}"
    policy = BreakerPolicy(failure_threshold=10, reset_timeout=30, failure_window=60)
    location = caches["default"]._servers[0]  # type: ignore[attr-defined]
    barrier = threading.Barrier(10)
    outcomes: list[str] = []

    def process() -> None:
        own = CircuitBreaker(name, policy=policy, cache=RedisCache(location, {}))
        barrier.wait()
        for _ in range(3):
            try:
                own.call(fail)
            except CircuitOpen:
                outcomes.append("refused")
            except ProviderUnreachable:
                outcomes.append("called")

    with caplog.at_level("WARNING", logger="wasla.payments.resilience"):
        threads = [threading.Thread(target=process) for _ in range(10)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    # At least the threshold went through; callers already past the check when it opened
    # finish their call, and every later one is refused without calling.
    assert outcomes.count("called") >= 10
    assert outcomes.count("refused") >= 1
    assert CircuitBreaker(name, policy=policy).state() == CircuitState.OPEN
    opened = [r for r in caplog.records if "opened after" in r.getMessage()]
    assert len(opened) == 1  # add(): the first opening stands, the reset is not pushed back


def test_an_unreachable_cache_never_blocks_payments():
    dead = RedisCache("redis://127.0.0.1:1/0", {"OPTIONS": {"socket_connect_timeout": 0.2}})
    circuit = CircuitBreaker(
        f"test:{uuid.uuid4().hex}",
        policy=BreakerPolicy(failure_threshold=1, reset_timeout=30, failure_window=60),
        cache=dead,
    )
    with pytest.raises(ProviderUnreachable):
        circuit.call(fail)
    assert circuit.call(lambda: "paid") == "paid"


# Retries ---------------------------------------------------------------------------------------


def test_retries_only_what_is_safe_and_stops_when_the_circuit_opens():
    policy = RetryPolicy(attempts=3, initial_wait=0.01, max_wait=0.02, jitter=0)
    tries: list[str] = []

    def unreachable() -> None:
        tries.append("503")
        raise ProviderUnreachable("503")

    with pytest.raises(ProviderUnreachable):
        call_with_retries(
            unreachable, breaker=breaker(failure_threshold=10), operation="t", policy=policy
        )
    assert len(tries) == 3

    tries.clear()

    def timeout() -> None:
        tries.append("timeout")
        raise ProviderTimeout("read")

    with pytest.raises(ProviderTimeout):
        call_with_retries(timeout, breaker=breaker(), operation="t", policy=policy)
    assert tries == ["timeout"]  # outcome unknown: never sent again

    tries.clear()

    def refused() -> None:
        tries.append("400")
        raise ProviderError("bad", "no")

    with pytest.raises(ProviderError):
        call_with_retries(refused, breaker=breaker(), operation="t", policy=policy)
    assert tries == ["400"]

    tries.clear()
    with pytest.raises(CircuitOpen):
        call_with_retries(
            unreachable, breaker=breaker(failure_threshold=2), operation="t", policy=policy
        )
    assert len(tries) == 2  # the third try met the open circuit and did not go out


def test_many_circuits_read_at_once_say_what_each_breaker_says(settings):
    """`circuits_read` (the staff dashboard's view of every gateway) agrees with each breaker:
    closed and quiet, closed and counting failures, open, half-open."""
    settings.WASLA_CIRCUIT_BREAKER = {
        "failure_threshold": 2,
        "reset_timeout": 30,
        "failure_window": 60,
    }
    clock = Clock()
    quiet, counting, opened, half_open = (breaker(failure_threshold=2) for _ in range(4))
    for circuit in (quiet, counting, opened, half_open):
        circuit.clock = clock
    with pytest.raises(ProviderUnreachable):
        counting.call(fail)
    for circuit in (opened, half_open):
        for _ in range(2):
            with pytest.raises(ProviderUnreachable):
                circuit.call(fail)
    clock.now += 10
    half_open.clock = lambda: clock.now + 25  # its opening is 35 s old, past the reset timeout
    read = circuits_read([c.name for c in (quiet, counting, opened)], clock=clock)
    assert read == {
        quiet.name: (CircuitState.CLOSED, 0),
        counting.name: (CircuitState.CLOSED, 1),
        opened.name: (CircuitState.OPEN, 0),  # opening forgets the count
    }
    later = circuits_read([half_open.name], clock=lambda: clock.now + 25)
    assert later == {half_open.name: (half_open.state(), 0)}
    assert half_open.state() == CircuitState.HALF_OPEN
    assert circuits_read([]) == {}
