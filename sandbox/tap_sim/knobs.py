"""Read and set the Tap simulator's fault knobs (the same ones `/sandbox/tap/_control/` sets).

`webhook` says how webhooks go out (send, drop, duplicate, bad_signature, hold), `delay_seconds`
how late; `api`, `timeout_seconds` and `api_fail_count` make the `/v2/…` API fail (see
`sandbox.faults`).
"""

from __future__ import annotations

from typing import Any

from sandbox.faults import SINGLETON_ID, ApiFault, api_fault_take, fault_knobs_as_dict, fault_values
from sandbox.tap_sim.models import TapHeldWebhook, TapSandboxKnobs


def knobs_get() -> TapSandboxKnobs:
    """Current knobs; an unsaved default row when none was ever set."""
    return TapSandboxKnobs.objects.filter(pk=SINGLETON_ID).first() or TapSandboxKnobs()


def knobs_set(
    *,
    webhook: str | None = None,
    delay_seconds: float | None = None,
    api: str | None = None,
    timeout_seconds: float | None = None,
    api_fail_count: int | None = None,
) -> TapSandboxKnobs:
    """Set the given knobs, leaving the others as they are; raises ValueError for a bad value
    (then nothing changes)."""
    values = fault_values(
        delay_seconds=delay_seconds,
        api=api,
        timeout_seconds=timeout_seconds,
        api_fail_count=api_fail_count,
    )
    if webhook is not None:
        if webhook not in TapSandboxKnobs.Webhook.values:
            raise ValueError(f"webhook must be one of {', '.join(TapSandboxKnobs.Webhook.values)}")
        values["webhook"] = webhook
    knobs, _ = TapSandboxKnobs.objects.update_or_create(pk=SINGLETON_ID, defaults=values)
    return knobs


def knobs_reset() -> TapSandboxKnobs:
    """Every knob back to its default; webhooks still held are discarded."""
    TapSandboxKnobs.objects.filter(pk=SINGLETON_ID).delete()
    TapHeldWebhook.objects.all().delete()
    return knobs_get()


def api_fault() -> ApiFault | None:
    """The fault the current API call suffers, if any (counts down `api_fail_count`)."""
    return api_fault_take(TapSandboxKnobs)


def knobs_as_dict(knobs: TapSandboxKnobs) -> dict[str, Any]:
    return {
        "webhook": knobs.webhook,
        **fault_knobs_as_dict(knobs, decimals=True),
        "held": TapHeldWebhook.objects.count(),
    }
