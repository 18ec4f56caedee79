"""Read and set the PayPal simulator's fault knobs, as `/sandbox/paypal/_control/` does.

`webhook` says how events are delivered (send, drop, duplicate, bad_signature, foreign_cert,
hold), `delay_seconds` how late; `api`, `timeout_seconds` and `api_fail_count` make the API
(`/v1/…` including the OAuth token endpoint, and `/v2/…`) fail (see `sandbox.faults`).
"""

from __future__ import annotations

from typing import Any

from sandbox.faults import SINGLETON_ID, ApiFault, api_fault_take, fault_knobs_as_dict, fault_values
from sandbox.paypal_sim.models import PaypalAccount, PaypalHeldEvent, PaypalSandboxKnobs


def knobs_get() -> PaypalSandboxKnobs:
    """Current knobs; an unsaved default row when none was ever set."""
    return PaypalSandboxKnobs.objects.filter(pk=SINGLETON_ID).first() or PaypalSandboxKnobs()


def knobs_set(
    *,
    webhook: str | None = None,
    delay_seconds: float | None = None,
    api: str | None = None,
    timeout_seconds: float | None = None,
    api_fail_count: int | None = None,
) -> PaypalSandboxKnobs:
    """Set the given knobs, leaving the others as they are; raises ValueError for a bad value
    (then nothing changes)."""
    values = fault_values(
        delay_seconds=delay_seconds,
        api=api,
        timeout_seconds=timeout_seconds,
        api_fail_count=api_fail_count,
    )
    if webhook is not None:
        if webhook not in PaypalSandboxKnobs.Webhook.values:
            raise ValueError(
                f"webhook must be one of {', '.join(PaypalSandboxKnobs.Webhook.values)}"
            )
        values["webhook"] = webhook
    knobs, _ = PaypalSandboxKnobs.objects.update_or_create(pk=SINGLETON_ID, defaults=values)
    return knobs


def knobs_reset() -> PaypalSandboxKnobs:
    """Every knob back to its default; events still held stay stored but are never sent."""
    PaypalSandboxKnobs.objects.filter(pk=SINGLETON_ID).delete()
    PaypalHeldEvent.objects.all().delete()
    return knobs_get()


def api_fault() -> ApiFault | None:
    """The fault the current API call suffers, if any (counts down `api_fail_count`)."""
    return api_fault_take(PaypalSandboxKnobs)


def token_requests() -> dict[str, int]:
    """How many access tokens each client_id was issued (the product is meant to cache them)."""
    rows = PaypalAccount.objects.order_by("client_id").values_list("client_id", "token_requests")
    return dict(rows)


def knobs_as_dict(knobs: PaypalSandboxKnobs) -> dict[str, Any]:
    return {
        "webhook": knobs.webhook,
        **fault_knobs_as_dict(knobs, decimals=True),
        "held": PaypalHeldEvent.objects.count(),
        "token_requests": token_requests(),
    }
