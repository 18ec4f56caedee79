"""When a `received` webhook event is tried again, and when it is given up.

Retries are scheduled in the inbox table, not in Celery. A try that cannot finish leaves the
event `received` with `next_attempt_at = now + backoff` (exponential, capped, jittered); the
sweeper queues it again once it is due. Not `self.retry(countdown=…)`: a countdown lives as an
unacked message in some worker's memory, invisible to staff and lost or redelivered with the
broker's visibility timeout, and next to a sweeper it would schedule every retry twice. One
scheduler, in the table staff already look at.

The numbers are the WASLA_WEBHOOK_* settings (their defaults are in config/settings/base.py and
nowhere else), read at each use so a changed setting applies to the next try.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings


@dataclass(frozen=True)
class WebhookRetryPolicy:
    max_attempts: int  # tries before a provider outage → failed, a parked event → ignored
    max_unexpected_attempts: int  # tries before an unexpected error → failed
    base_delay: float  # seconds before the second try; doubles for each further one
    max_delay: float  # the cap of one delay
    jitter: float  # ± this fraction of the delay, at random
    stale_after: float  # a `received` event with nothing scheduled is swept after this long
    lease: float  # seconds a queued or running event is left alone by the sweeper
    sweep_batch: int  # events claimed per sweeper transaction

    @classmethod
    def from_settings(cls) -> WebhookRetryPolicy:
        """The policy the settings describe now, each number clamped to a usable range."""
        return cls(
            max_attempts=max(1, int(settings.WASLA_WEBHOOK_MAX_ATTEMPTS)),
            max_unexpected_attempts=max(1, int(settings.WASLA_WEBHOOK_MAX_UNEXPECTED_ATTEMPTS)),
            base_delay=max(0.0, float(settings.WASLA_WEBHOOK_RETRY_BASE_SECONDS)),
            max_delay=max(0.0, float(settings.WASLA_WEBHOOK_RETRY_MAX_SECONDS)),
            jitter=min(1.0, max(0.0, float(settings.WASLA_WEBHOOK_RETRY_JITTER))),
            stale_after=max(0.0, float(settings.WASLA_WEBHOOK_SWEEP_STALE_SECONDS)),
            lease=max(1.0, float(settings.WASLA_WEBHOOK_SWEEP_LEASE_SECONDS)),
            sweep_batch=max(1, int(settings.WASLA_WEBHOOK_SWEEP_BATCH_SIZE)),
        )

    def delay(self, attempt: int) -> timedelta:
        """Wait after the `attempt`-th failed try: base * 2**(attempt - 1), capped, then spread by
        ±jitter so that events which failed together (one provider outage) do not all come
        back in the same second."""
        exponent = min(max(attempt, 1) - 1, 32)
        seconds = min(self.max_delay, self.base_delay * 2**exponent)
        spread = secrets.SystemRandom().uniform(-self.jitter, self.jitter)
        return timedelta(seconds=min(self.max_delay, seconds * (1 + spread)))
