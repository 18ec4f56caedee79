"""The PayPal simulator's fault knobs, as `/sandbox/paypal/_control/` sets them.

`webhook` says how events are delivered (send, drop, duplicate, bad_signature, foreign_cert,
hold), `delay_seconds` how late; `api`, `timeout_seconds` and `api_fail_count` make the API
(`/v1/…` including the OAuth token endpoint, and `/v2/…`) fail (see `sandbox.faults`). A reset
discards the held deliveries; their events stay stored but are never sent.
"""

from __future__ import annotations

from typing import Any, Final

from sandbox.faults import KnobStore
from sandbox.paypal_sim.models import PaypalAccount, PaypalHeldEvent, PaypalSandboxKnobs


def token_requests() -> dict[str, Any]:
    """`token_requests`: how many access tokens each client_id was issued (the product is meant
    to cache them)."""
    rows = PaypalAccount.objects.order_by("client_id").values_list("client_id", "token_requests")
    return {"token_requests": dict(rows)}


# PayPal's JSON encoder takes no floats: the seconds are shown as Decimals.
KNOBS: Final = KnobStore(
    PaypalSandboxKnobs, held=PaypalHeldEvent, decimals=True, extra=token_requests
)

knobs_get = KNOBS.get
knobs_set = KNOBS.set
knobs_reset = KNOBS.reset
