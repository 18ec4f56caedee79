"""The Tap simulator's fault knobs (the same ones `/sandbox/tap/_control/` sets).

`webhook` says how webhooks go out (send, drop, duplicate, bad_signature, hold), `delay_seconds`
how late; `api`, `timeout_seconds` and `api_fail_count` make the `/v2/…` API fail (see
`sandbox.faults`). A reset discards the webhooks still held.
"""

from __future__ import annotations

from typing import Final

from sandbox.faults import KnobStore
from sandbox.tap_sim.models import TapHeldWebhook, TapSandboxKnobs

# Tap's JSON encoder takes no floats: the seconds are shown as Decimals.
KNOBS: Final = KnobStore(TapSandboxKnobs, held=TapHeldWebhook, decimals=True)

knobs_get = KNOBS.get
knobs_set = KNOBS.set
knobs_reset = KNOBS.reset
