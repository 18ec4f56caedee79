"""Read and set the PayPal simulator's fault knobs, as `/sandbox/paypal/_control/` does."""

from __future__ import annotations

from typing import Any

from sandbox.paypal_sim.models import PaypalAccount, PaypalSandboxKnobs

SINGLETON_ID = 1


def knobs_get() -> PaypalSandboxKnobs:
    """Current knobs; an unsaved default row when none was ever set."""
    return PaypalSandboxKnobs.objects.filter(pk=SINGLETON_ID).first() or PaypalSandboxKnobs()


def knobs_set(*, webhook: str) -> PaypalSandboxKnobs:
    """Set the webhook knob; raises ValueError for a value outside PaypalSandboxKnobs.Webhook."""
    if webhook not in PaypalSandboxKnobs.Webhook.values:
        raise ValueError(f"webhook must be one of {', '.join(PaypalSandboxKnobs.Webhook.values)}")
    knobs, _ = PaypalSandboxKnobs.objects.update_or_create(
        pk=SINGLETON_ID, defaults={"webhook": webhook}
    )
    return knobs


def knobs_reset() -> PaypalSandboxKnobs:
    PaypalSandboxKnobs.objects.filter(pk=SINGLETON_ID).delete()
    return knobs_get()


def token_requests() -> dict[str, int]:
    """How many access tokens each client_id was issued (the product is meant to cache them)."""
    rows = PaypalAccount.objects.order_by("client_id").values_list("client_id", "token_requests")
    return dict(rows)


def knobs_as_dict(knobs: PaypalSandboxKnobs) -> dict[str, Any]:
    return {"webhook": knobs.webhook, "token_requests": token_requests()}
