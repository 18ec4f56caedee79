"""Read and set the Stripe simulator's fault knobs, the ones `/sandbox/stripe/_control/` sets.

`webhook` says how events are delivered (send, drop, duplicate, bad_signature, stale_timestamp,
hold), `delay_seconds` how late; `api`, `timeout_seconds` and `api_fail_count` make the `/v1/…`
API fail (see `sandbox.faults`).
"""

from __future__ import annotations

from typing import Any

from sandbox.faults import SINGLETON_ID, ApiFault, api_fault_take, fault_knobs_as_dict, fault_values
from sandbox.stripe_sim.models import StripeHeldEvent, StripeSandboxKnobs


def knobs_get() -> StripeSandboxKnobs:
    """Current knobs; an unsaved default row when none was ever set."""
    return StripeSandboxKnobs.objects.filter(pk=SINGLETON_ID).first() or StripeSandboxKnobs()


def knobs_set(
    *,
    webhook: str | None = None,
    delay_seconds: float | None = None,
    api: str | None = None,
    timeout_seconds: float | None = None,
    api_fail_count: int | None = None,
) -> StripeSandboxKnobs:
    """Set the given knobs, leaving the others as they are; raises ValueError for a bad value
    (then nothing changes)."""
    values = fault_values(
        delay_seconds=delay_seconds,
        api=api,
        timeout_seconds=timeout_seconds,
        api_fail_count=api_fail_count,
    )
    if webhook is not None:
        if webhook not in StripeSandboxKnobs.Webhook.values:
            raise ValueError(
                f"webhook must be one of {', '.join(StripeSandboxKnobs.Webhook.values)}"
            )
        values["webhook"] = webhook
    knobs, _ = StripeSandboxKnobs.objects.update_or_create(pk=SINGLETON_ID, defaults=values)
    return knobs


def knobs_reset() -> StripeSandboxKnobs:
    """Every knob back to its default; events still held stay recorded but are never sent."""
    StripeSandboxKnobs.objects.filter(pk=SINGLETON_ID).delete()
    StripeHeldEvent.objects.all().delete()
    return knobs_get()


def api_fault() -> ApiFault | None:
    """The fault the current API call suffers, if any (counts down `api_fail_count`)."""
    return api_fault_take(StripeSandboxKnobs)


def knobs_as_dict(knobs: StripeSandboxKnobs) -> dict[str, Any]:
    return {
        "webhook": knobs.webhook,
        **fault_knobs_as_dict(knobs),
        "held": StripeHeldEvent.objects.count(),
    }
