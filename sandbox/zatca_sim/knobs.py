"""The ZATCA simulator's fault knobs, set through `/sandbox/zatca/_control/`.

`api` ("ok", "error_500", "timeout"), `timeout_seconds` and `api_fail_count` work as in
`sandbox.faults` (a timeout keeps the caller waiting, then serves the request all the same);
`clearance` forces the outcome of every submitted document ("validate", "warn", "reject").
ZATCA sends no webhooks, so the knob store holds no deliveries.
"""

from __future__ import annotations

from typing import Any, Final

from django.db import transaction

from sandbox.faults import SINGLETON_ID, KnobStore
from sandbox.zatca_sim.models import ZatcaSandboxKnobs

KNOB_NAMES: Final = ("api", "timeout_seconds", "api_fail_count", "clearance")


class ZatcaKnobStore(KnobStore[ZatcaSandboxKnobs, ZatcaSandboxKnobs]):
    def __init__(self) -> None:
        # `held` is never used: no webhook is ever held back (see the module docstring).
        super().__init__(ZatcaSandboxKnobs, held=ZatcaSandboxKnobs)

    def set(self, *, clearance: Any = None, **shared: Any) -> ZatcaSandboxKnobs:  # type: ignore[override]
        """Set the given knobs; ValueError for a bad value (then nothing changes)."""
        if clearance is not None and clearance not in ZatcaSandboxKnobs.Clearance.values:
            allowed = ", ".join(ZatcaSandboxKnobs.Clearance.values)
            raise ValueError(f"clearance must be one of {allowed}")
        with transaction.atomic():
            knobs = super().set(**shared)
            if clearance is not None:
                knobs.clearance = clearance
                knobs.save(update_fields=["clearance", "updated_at"])
        return knobs

    def reset(self) -> ZatcaSandboxKnobs:
        ZatcaSandboxKnobs.objects.filter(pk=SINGLETON_ID).delete()
        return self.get()

    def as_dict(self) -> dict[str, Any]:
        knobs = self.get()
        return {
            "api": knobs.api,
            "timeout_seconds": knobs.timeout_seconds,
            "api_fail_count": knobs.api_fail_count,
            "clearance": knobs.clearance,
        }


KNOBS: Final = ZatcaKnobStore()
