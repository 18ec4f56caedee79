"""Read and set the Stripe simulator's fault knobs, the ones `/sandbox/stripe/_control/` sets."""

from __future__ import annotations

from typing import Any, Final

from sandbox.stripe_sim.models import StripeSandboxKnobs

SINGLETON_ID: Final = 1


def knobs_get() -> StripeSandboxKnobs:
    """Current knobs; an unsaved default row when none was ever set."""
    return StripeSandboxKnobs.objects.filter(pk=SINGLETON_ID).first() or StripeSandboxKnobs()


def knobs_set(*, webhook: str) -> StripeSandboxKnobs:
    """Set the webhook knob; raises ValueError for a value outside StripeSandboxKnobs.Webhook."""
    if webhook not in StripeSandboxKnobs.Webhook.values:
        raise ValueError(f"webhook must be one of {', '.join(StripeSandboxKnobs.Webhook.values)}")
    knobs, _ = StripeSandboxKnobs.objects.update_or_create(
        pk=SINGLETON_ID, defaults={"webhook": webhook}
    )
    return knobs


def knobs_reset() -> StripeSandboxKnobs:
    StripeSandboxKnobs.objects.filter(pk=SINGLETON_ID).delete()
    return knobs_get()


def knobs_as_dict(knobs: StripeSandboxKnobs) -> dict[str, Any]:
    return {"webhook": knobs.webhook}
