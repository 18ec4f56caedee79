"""Read and set the Tap simulator's fault knobs (the same ones `/sandbox/tap/_control/` sets)."""

from __future__ import annotations

from typing import Any

from sandbox.models import TapSandboxKnobs

SINGLETON_ID = 1


def knobs_get() -> TapSandboxKnobs:
    """Current knobs; an unsaved default row when none was ever set."""
    return TapSandboxKnobs.objects.filter(pk=SINGLETON_ID).first() or TapSandboxKnobs()


def knobs_set(*, webhook: str) -> TapSandboxKnobs:
    """Set the webhook knob; raises ValueError for a value outside TapSandboxKnobs.Webhook."""
    if webhook not in TapSandboxKnobs.Webhook.values:
        raise ValueError(f"webhook must be one of {', '.join(TapSandboxKnobs.Webhook.values)}")
    knobs, _ = TapSandboxKnobs.objects.update_or_create(
        pk=SINGLETON_ID, defaults={"webhook": webhook}
    )
    return knobs


def knobs_reset() -> TapSandboxKnobs:
    TapSandboxKnobs.objects.filter(pk=SINGLETON_ID).delete()
    return knobs_get()


def knobs_as_dict(knobs: TapSandboxKnobs) -> dict[str, Any]:
    return {"webhook": knobs.webhook}
