"""The Stripe simulator's fault knobs, the ones `/sandbox/stripe/_control/` sets.

`webhook` says how events are delivered (send, drop, duplicate, bad_signature, stale_timestamp,
hold), `delay_seconds` how late; `api`, `timeout_seconds` and `api_fail_count` make the `/v1/…`
API fail (see `sandbox.faults`). A reset discards the held deliveries; their events stay
recorded but are never sent.
"""

from __future__ import annotations

from typing import Final

from sandbox.faults import KnobStore
from sandbox.stripe_sim.models import StripeHeldEvent, StripeSandboxKnobs

KNOBS: Final = KnobStore(StripeSandboxKnobs, held=StripeHeldEvent)

knobs_get = KNOBS.get
knobs_set = KNOBS.set
knobs_reset = KNOBS.reset
