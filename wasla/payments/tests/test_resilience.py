"""Outbound resilience: retries with the same request, and a circuit breaker shared through Redis.

Provider calls go over real HTTP to local servers that answer 500 or never answer, and to the
sandbox; the breaker's state lives in the real Redis of the test settings, as in production.
"""

from __future__ import annotations

import json
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache

from testsupport.factories import api_client_for, make_attempt, make_order, make_tap_config
from wasla.payments.models import PaymentAttempt
from wasla.payments.orchestrator import PaymentOrchestrator, provider_idempotency_key
from wasla.payments.providers.base import (
    ProviderError,
    ProviderTimeout,
    ProviderUnreachable,
)
from wasla.payments.resilience import (
    BreakerPolicy,
    CircuitBreaker,
    CircuitOpen,
    CircuitState,
    RetryPolicy,
    call_with_retries,
)

FAST_RETRIES = {"attempts": 3, "initial_wait": 0.01, "max_wait": 0.02, "jitter": 0.0}


class StatusServer:
    """A local HTTP server that records every request (method, path, body) and answers
    `status` with an empty JSON object: a provider that is down, without any network fault."""

    def __init__(self, status: int = 500) -> None:
        self.status = status
        self.requests: list[tuple[str, str, bytes]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                outer.requests.append((self.command, self.path, body))
                self.send_response(outer.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            do_GET = do_POST = _answer

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Blackhole:
    """Accepts connections and never answers: every request times out reading."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.conns: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"

    def _accept(self) -> None:
        while True:
            try:
                self.conns.append(self.sock.accept()[0])
            except OSError:
                return

    def close(self) -> None:
        self.sock.close()
        for conn in self.conns:
            conn.close()


@pytest.fixture
def down() -> Iterator[StatusServer]:
    server = StatusServer(500)
    yield server
    server.close()


def point_tap_at(settings, url: str) -> None:  # type: ignore[no-untyped-def]
    urls = {p: dict(v) for p, v in settings.WASLA_PROVIDER_BASE_URLS.items()}
    urls["tap"]["sandbox"] = url
    settings.WASLA_PROVIDER_BASE_URLS = urls


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


@pytest.mark.django_db(transaction=True)
def test_create_is_retried_with_the_same_request_and_idempotency_key(
    tenant, tap_config, settings, down
):
    settings.WASLA_PROVIDER_RETRY = FAST_RETRIES
    point_tap_at(settings, down.url)
    order = make_order(tenant)
    attempt = make_attempt(tap_config, order)
    with pytest.raises(ProviderUnreachable):
        PaymentOrchestrator().create_payment(attempt)
    assert len(down.requests) == 3
    bodies = {body for _, _, body in down.requests}
    assert len(bodies) == 1  # byte for byte the same request on every try
    sent = json.loads(bodies.pop())
    assert sent["reference"]["idempotent"] == provider_idempotency_key(attempt)


@pytest.mark.django_db(transaction=True)
def test_a_read_timeout_is_not_retried_and_leaves_the_attempt_pending(tenant, tap_config, settings):
    hole = Blackhole()
    try:
        settings.WASLA_PROVIDER_RETRY = FAST_RETRIES
        settings.WASLA_PROVIDER_TIMEOUTS = {"connect": 1.0, "read": 0.3}
        point_tap_at(settings, hole.url)
        order = make_order(tenant)
        response = api_client_for(tenant).post(
            "/api/v1/payments/",
            {"order": str(order.id), "provider": "tap", "method": "mada", "return_url": ""},
            format="json",
            HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex,
        )
        assert response.status_code == 502, response.content
        assert len(hole.conns) == 1
        attempt = PaymentAttempt.objects.get(order=order)
        assert (attempt.status, attempt.provider_reference) == ("pending", None)
    finally:
        hole.close()


# Checkout with an open circuit -----------------------------------------------------------------


def _pay(api, order_id: uuid.UUID, key: str):  # type: ignore[no-untyped-def]
    return api.post(
        "/api/v1/payments/",
        {
            "order": str(order_id),
            "provider": "tap",
            "method": "mada",
            "return_url": "https://shop.example/thanks",
        },
        format="json",
        HTTP_IDEMPOTENCY_KEY=key,
    )


@pytest.mark.django_db(transaction=True)
def test_checkout_answers_503_fast_while_open_and_recovers_after_the_reset_timeout(
    sandbox, tenant, tap_config, settings, down
):
    settings.WASLA_PROVIDER_RETRY = FAST_RETRIES
    settings.WASLA_CIRCUIT_BREAKER = {
        "failure_threshold": 3,
        "reset_timeout": 1,
        "failure_window": 60,
    }
    healthy = settings.WASLA_PROVIDER_BASE_URLS["tap"]["sandbox"]
    point_tap_at(settings, down.url)
    api = api_client_for(tenant)
    circuit = PaymentOrchestrator().circuit(tap_config)

    first = _pay(api, make_order(tenant).id, uuid.uuid4().hex)
    assert first.status_code == 502, first.content  # three tries, the third opens the circuit
    assert len(down.requests) == 3
    assert circuit.state() == CircuitState.OPEN

    order = make_order(tenant)
    key = uuid.uuid4().hex
    started = time.perf_counter()
    refused = _pay(api, order.id, key)
    elapsed = time.perf_counter() - started
    assert refused.status_code == 503, refused.content
    assert elapsed < 0.1, f"took {elapsed * 1000:.0f} ms"
    problem = refused.json()
    assert refused["Content-Type"] == "application/problem+json"
    assert problem["type"].endswith("/provider-circuit-open")
    assert int(refused["Retry-After"]) == problem["retry_after"] == 1
    assert len(down.requests) == 3, "an open circuit must not touch the network"
    # Nothing was sent, so the attempt was never started: the same key can simply retry.
    assert PaymentAttempt.objects.get(order=order).status == "created"

    point_tap_at(settings, healthy)  # the provider is back
    time.sleep(1.05)
    assert circuit.state() == CircuitState.HALF_OPEN
    retried = _pay(api, order.id, key)
    assert retried.status_code == 201, retried.content
    assert retried.json()["status"] == "pending"
    assert retried.json()["provider_reference"].startswith("chg_")
    assert circuit.state() == CircuitState.CLOSED
    assert len(down.requests) == 3


@pytest.mark.django_db(transaction=True)
def test_open_circuit_503_is_fast_over_real_http(sandbox, tenant, tap_config, settings, down):
    """The same 503 as the merchant's server sees it: a real HTTP request to the live server,
    timed on the client side, twenty times, every one under 100 ms."""
    import httpx

    from wasla.tenants.services import api_token_create

    settings.WASLA_PROVIDER_RETRY = FAST_RETRIES
    settings.WASLA_CIRCUIT_BREAKER = {
        "failure_threshold": 3,
        "reset_timeout": 30,
        "failure_window": 60,
    }
    point_tap_at(settings, down.url)
    circuit = PaymentOrchestrator().circuit(tap_config)
    _, token = api_token_create(tenant=tenant, name="http")
    orders = [make_order(tenant).id for _ in range(21)]
    timings = []
    # A connection per request, as a merchant's server without keep-alive: the test server's
    # keep-alive path adds about 40 ms to every request here, /healthz included.
    with httpx.Client(
        base_url=sandbox,
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
        limits=httpx.Limits(max_keepalive_connections=0),
    ) as http:

        def pay(order_id: uuid.UUID) -> httpx.Response:
            return http.post(
                "/api/v1/payments/",
                json={"order": str(order_id), "provider": "tap", "method": "mada"},
                headers={"Idempotency-Key": uuid.uuid4().hex},
            )

        assert pay(orders[0]).status_code == 502  # three tries; the third opens the circuit
        assert circuit.state() == CircuitState.OPEN
        for order_id in orders[1:]:
            started = time.perf_counter()
            response = pay(order_id)
            timings.append(time.perf_counter() - started)
            assert response.status_code == 503, response.text
            assert response.headers["content-type"] == "application/problem+json"
            assert response.json()["type"].endswith("/provider-circuit-open")
    assert len(down.requests) == 3, "an open circuit must not touch the network"
    timings.sort()
    print(
        f"circuit-open 503 over HTTP: median {timings[len(timings) // 2] * 1000:.1f} ms,"
        f" max {timings[-1] * 1000:.1f} ms (n={len(timings)})"
    )
    assert timings[-1] < 0.1, timings


@pytest.mark.django_db(transaction=True)
def test_circuits_are_per_gateway_not_global(sandbox, tenant, other_tenant, settings, down):
    """One merchant's broken account does not stop another merchant's checkouts."""
    settings.WASLA_PROVIDER_RETRY = FAST_RETRIES
    settings.WASLA_CIRCUIT_BREAKER = {
        "failure_threshold": 1,
        "reset_timeout": 30,
        "failure_window": 60,
    }
    urls = {p: dict(v) for p, v in settings.WASLA_PROVIDER_BASE_URLS.items()}
    urls["tap"]["live"] = down.url
    settings.WASLA_PROVIDER_BASE_URLS = urls
    broken = make_tap_config(
        tenant, mode="live", public_key="", secret_key="sk_live_x", webhook_secret="w"
    )
    fine = make_tap_config(other_tenant, public_key="", secret_key="sk_test_fine")
    orchestrator = PaymentOrchestrator()
    with pytest.raises(ProviderUnreachable):
        orchestrator.verify_payment(broken, "chg_missing")
    assert orchestrator.circuit(broken).state() == CircuitState.OPEN
    assert orchestrator.circuit(fine).state() == CircuitState.CLOSED
    with pytest.raises(ProviderError):  # the sandbox answers: 404 for an unknown charge
        orchestrator.verify_payment(fine, "chg_missing")
    assert orchestrator.circuit(fine).state() == CircuitState.CLOSED
