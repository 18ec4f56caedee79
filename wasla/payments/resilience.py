"""Outbound resilience of provider calls: retries and a circuit breaker.

Why both: a provider that blips (a dropped connection, a 502 from its load balancer) is asked
again a moment later with the very same request, so the same idempotency key, and the customer
never notices. A provider that is down is not hammered by every checkout of every process, each
waiting for its own timeout: after `failure_threshold` consecutive failures its circuit opens and
calls fail at once with `CircuitOpen`, without touching the network, until `reset_timeout`
seconds have passed; then one trial call decides (success closes the circuit, failure re-opens
it).

Rules that keep this safe for money:
- only a `ProviderUnreachable` that is not a `ProviderTimeout` is retried. A timed-out request
  may well have been processed; what happened is for reconciliation to find out, not for a blind
  retry.
- a `ProviderError` (a 4xx) is an answer: it proves the provider is up, so for the breaker it is
  a success, and it is never retried.
- the circuit lives in the Django cache (Redis in production), so every web and worker process
  shares it; counting uses atomic `add`/`incr`, so concurrent failures are not lost.
- the breaker never makes a call fail because the cache itself is unavailable: it then lets the
  call through, as if there were no breaker.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.base import BaseCache
from django.core.cache.backends.redis import RedisCache
from django.utils.translation import gettext_lazy as _
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential,
    wait_random,
)

from wasla.common.problems import ProviderUnavailable

from .providers.base import ProviderError, ProviderTimeout, ProviderUnreachable

logger = logging.getLogger(__name__)

T = TypeVar("T")


class CircuitOpen(ProviderUnreachable):
    """The circuit is open: the provider was not called at all, so nothing can have happened
    there. Callers that treat `ProviderUnreachable` as "try later" keep working unchanged."""

    def __init__(self, circuit: str, retry_after: int) -> None:
        super().__init__(f"circuit {circuit} is open; retry in {retry_after} s")
        self.circuit = circuit
        self.retry_after = retry_after


class ProviderCircuitOpen(ProviderUnavailable):
    """What a checkout answers while the provider's circuit is open: a fast 503 with
    Retry-After. The attempt was never sent, so the same Idempotency-Key can simply be retried."""

    status, slug, title = (
        503,
        "provider-circuit-open",
        _("Payment provider temporarily unavailable"),
    )

    def __init__(self, detail: str = "", *, retry_after: int, extra: dict[str, Any] | None = None):
        super().__init__(detail, extra={"retry_after": retry_after, **(extra or {})})
        self.retry_after = retry_after
        self.headers = {"Retry-After": str(retry_after)}

    @classmethod
    def from_circuit(cls, exc: CircuitOpen, **extra: Any) -> ProviderCircuitOpen:
        return cls(
            "The payment provider is failing; nothing was sent to it. Retry after "
            f"{exc.retry_after} s with the same Idempotency-Key.",
            retry_after=exc.retry_after,
            extra=extra,
        )


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int  # tries in all, the first included
    initial_wait: float  # seconds before the second try; doubles for each further one
    max_wait: float
    jitter: float  # up to this many seconds added at random, so processes do not retry in step

    @classmethod
    def from_settings(cls) -> RetryPolicy:
        conf = settings.WASLA_PROVIDER_RETRY
        return cls(
            attempts=max(1, int(conf["attempts"])),
            initial_wait=float(conf["initial_wait"]),
            max_wait=float(conf["max_wait"]),
            jitter=float(conf["jitter"]),
        )


@dataclass(frozen=True)
class BreakerPolicy:
    failure_threshold: int  # consecutive failures that open the circuit
    reset_timeout: int  # seconds an open circuit refuses calls before a trial call
    # Seconds a failure count is kept: failures further apart are not one outage.
    failure_window: int

    @classmethod
    def from_settings(cls) -> BreakerPolicy:
        conf = settings.WASLA_CIRCUIT_BREAKER
        return cls(
            failure_threshold=max(1, int(conf["failure_threshold"])),
            reset_timeout=max(1, math.ceil(conf["reset_timeout"])),
            failure_window=max(1, math.ceil(conf["failure_window"])),
        )


class CircuitState:
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass(frozen=True)
class _Admission:
    trial: bool  # this call is the half-open trial
    dirty: bool  # failures were counted or the circuit was open: a success must reset it


def _circuit_keys(name: str) -> tuple[str, str, str]:
    """The cache keys of circuit `name`: failures, opened, trial."""
    prefix = f"wasla:circuit:{name}"
    return f"{prefix}:failures", f"{prefix}:opened", f"{prefix}:trial"


def _state_of(opened: float | None, *, now: float, reset_timeout: float) -> str:
    if opened is None:
        return CircuitState.CLOSED
    if now < opened + reset_timeout:
        return CircuitState.OPEN
    return CircuitState.HALF_OPEN


def circuits_read(
    names: list[str], *, cache: BaseCache | None = None, clock: Callable[[], float] = time.time
) -> dict[str, tuple[str, int]]:
    """State and consecutive failures of many circuits, in one cache round trip and without a
    breaker object each (the staff dashboard reads every gateway's at once). Raises what the
    cache raises: the caller decides what an unreachable cache means for its page."""
    store = cache or caches["default"]
    reset_timeout = BreakerPolicy.from_settings().reset_timeout
    keys = {name: _circuit_keys(name)[:2] for name in names}
    values = _get_many(store, [key for pair in keys.values() for key in pair]) if keys else {}
    now = clock()
    return {
        name: (
            _state_of(values.get(opened), now=now, reset_timeout=reset_timeout),
            int(values.get(failures) or 0),
        )
        for name, (failures, opened) in keys.items()
    }


def _get_many(store: BaseCache, keys: list[str]) -> dict[str, Any]:
    """`store.get_many(keys)`, without Django's per-key validation on Redis: it checks every
    character of every key for memcached's rules, over half the time of a read of thousands of
    keys (8,000 for the dashboard's 4,000 gateways), and ours are built above from a digest and
    names of our own."""
    if isinstance(store, RedisCache):
        made = {store.make_key(key): key for key in keys}
        found = store._cache.get_many(list(made))
        return {key: found[full] for full, key in made.items() if full in found}
    return store.get_many(keys)


class CircuitBreaker:
    """One circuit, shared by every process through the cache.

    Three keys under `wasla:circuit:<name>`: `failures` (consecutive failures, atomic incr,
    kept `failure_window` seconds from the first), `opened` (wall-clock time the circuit opened
    or re-opened; kept until a trial succeeds, or `reset_timeout + failure_window` without any
    call, after which the circuit simply closes), and `trial` (held by the one call let through
    while half-open, for at most `reset_timeout` seconds).
    """

    def __init__(
        self,
        name: str,
        *,
        policy: BreakerPolicy | None = None,
        cache: BaseCache | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.name = name
        self.policy = policy or BreakerPolicy.from_settings()
        self.cache = cache or caches["default"]
        self.clock = clock  # wall clock: the opening time is compared across processes
        self._failures, self._opened, self._trial = _circuit_keys(name)

    def call(self, fn: Callable[[], T]) -> T:
        """Run `fn` through the circuit: raise `CircuitOpen` instead while it is open."""
        admission = self._admit()
        try:
            result = fn()
        except ProviderUnreachable:
            self._record_failure(admission)
            raise
        except ProviderError:
            self._record_success(admission)  # the provider answered: it is up
            raise
        except BaseException:
            # Our own bug or an interruption says nothing about the provider's health.
            if admission.trial:
                self._guarded(lambda: self.cache.delete(self._trial))
            raise
        self._record_success(admission)
        return result

    def state(self) -> str:
        opened = self._guarded(lambda: self.cache.get(self._opened))
        return _state_of(opened, now=self.clock(), reset_timeout=self.policy.reset_timeout)

    def failures(self) -> int:
        return int(self._guarded(lambda: self.cache.get(self._failures)) or 0)

    def reset(self) -> None:
        """Close the circuit by hand (staff, tests): forget failures and any opening."""
        self._guarded(lambda: self.cache.delete_many([self._failures, self._opened, self._trial]))

    # The three moments of a call ------------------------------------------------------------

    def _admit(self) -> _Admission:
        values = self._guarded(lambda: self.cache.get_many([self._opened, self._failures]))
        if values is None:  # the cache is down: no breaker rather than no payments
            return _Admission(trial=False, dirty=False)
        opened = values.get(self._opened)
        if opened is None:
            return _Admission(trial=False, dirty=bool(values.get(self._failures)))
        remaining = opened + self.policy.reset_timeout - self.clock()
        if remaining > 0:
            raise CircuitOpen(self.name, math.ceil(remaining))
        # Half-open: exactly one caller, whichever adds the trial key first, tries for real.
        took = self._guarded(
            lambda: self.cache.add(self._trial, 1, timeout=self.policy.reset_timeout)
        )
        if took is False:
            raise CircuitOpen(self.name, 1)
        return _Admission(trial=True, dirty=True)

    def _record_success(self, admission: _Admission) -> None:
        if not admission.dirty:
            return  # the common case costs no cache write
        self.reset()
        if admission.trial:
            logger.info("circuit %s closed: the trial call succeeded", self.name)

    def _record_failure(self, admission: _Admission) -> None:
        if admission.trial:
            self._guarded(lambda: self._open(reopen=True))
            self._guarded(lambda: self.cache.delete(self._trial))
            logger.warning("circuit %s re-opened: the trial call failed", self.name)
            return
        count = self._guarded(self._count_failure)
        if count is None or count < self.policy.failure_threshold:
            return
        if self._guarded(lambda: self._open(reopen=False)):
            logger.warning("circuit %s opened after %s consecutive failures", self.name, count)

    def _count_failure(self) -> int:
        # add() creates the counter with its expiry only if it is missing (SET NX); incr() is
        # atomic, so concurrent failures of several processes all count.
        self.cache.add(self._failures, 0, timeout=self.policy.failure_window)
        try:
            return int(self.cache.incr(self._failures))
        except ValueError:  # expired between the two calls: this failure starts a new count
            self.cache.add(self._failures, 1, timeout=self.policy.failure_window)
            return 1

    def _open(self, *, reopen: bool) -> bool:
        ttl = self.policy.reset_timeout + self.policy.failure_window
        if reopen:
            self.cache.set(self._opened, self.clock(), timeout=ttl)
            opened = True
        else:
            # add(): when several processes cross the threshold at once, the first opening
            # stands and the reset timeout is not pushed back by the others.
            opened = bool(self.cache.add(self._opened, self.clock(), timeout=ttl))
        self.cache.delete(self._failures)
        return opened

    def _guarded(self, op: Callable[[], Any]) -> Any:
        try:
            return op()
        except Exception:  # the cache is unreachable or broken: never a reason to fail a payment
            logger.exception("circuit %s: cache unavailable, breaker bypassed", self.name)
            return None


def _retryable(exc: BaseException) -> bool:
    return isinstance(exc, ProviderUnreachable) and not isinstance(
        exc, ProviderTimeout | CircuitOpen
    )


def call_with_retries(
    fn: Callable[[], T],
    *,
    breaker: CircuitBreaker,
    operation: str,
    policy: RetryPolicy | None = None,
) -> T:
    """Call `fn` through `breaker`, retrying what is safe to retry (see the module docstring).

    `fn` must send the same request on every try (the same idempotency key). Each try passes
    the breaker, so an outage stops the retries as soon as the circuit opens.
    """
    policy = policy or RetryPolicy.from_settings()

    def log_retry(state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        wait = state.next_action.sleep if state.next_action else 0.0
        logger.warning(
            "%s unreachable (try %s of %s), retrying in %.2f s: %s",
            operation,
            state.attempt_number,
            policy.attempts,
            wait,
            exc,
        )

    retrying = Retrying(
        stop=stop_after_attempt(policy.attempts),
        wait=wait_exponential(multiplier=policy.initial_wait, max=policy.max_wait)
        + wait_random(0, policy.jitter),
        retry=retry_if_exception(_retryable),
        before_sleep=log_retry,
        reraise=True,
    )
    return retrying(breaker.call, fn)
