"""The rate limits switched on for a test (the suite runs with them off: config/settings/test.py),
with counters of their own and a clock that stands still, so a test's requests all fall in one
window whatever second it starts at, and moving on a window is a step of the test."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any


@dataclass
class StillClock:
    now: float

    def time(self) -> float:
        return self.now


def rate_limits_on(settings: Any, monkeypatch: Any, **rates: str) -> StillClock:
    """Rate limits on, `rates` replacing the configured ones; returns the limits' clock."""
    import django_ratelimit.core

    settings.WASLA_RATE_LIMITS_ENABLED = True
    settings.WASLA_RATE_LIMITS = {**settings.WASLA_RATE_LIMITS, **rates}
    settings.RATELIMIT_CACHE_PREFIX = f"rl-test-{uuid.uuid4().hex}:"
    clock = StillClock(now=1_900_000_000.0)
    monkeypatch.setattr(django_ratelimit.core, "time", clock)
    return clock
