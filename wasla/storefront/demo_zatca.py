"""The demo's ZATCA side: once the demo invoices are issued, Wasla's EGS unit is onboarded with
the simulator (the portal's OTP the simulator accepts) when no unit is active yet, which stamps
and clears the invoices waiting; a second run finds the unit active and only clears what is
still waiting. `demo_zatca_statuses` gives each invoice's ZATCA status for the summary."""

from __future__ import annotations

from datetime import datetime

from wasla.invoicing.zatca.clearance import (
    documents_awaiting_clearance,
    zatca_client,
    zatca_document_clear,
)
from wasla.invoicing.zatca.client import ZatcaRefused, ZatcaUnavailable
from wasla.invoicing.zatca.models import EgsUnit, ZatcaDocument
from wasla.invoicing.zatca.onboarding import OnboardingFailed, zatca_onboard
from wasla.invoicing.zatca.stamping import zatca_stamp_pending

DEMO_OTP = "123345"  # the one OTP the ZATCA simulator accepts


class DemoZatcaFailed(Exception):
    """The demo could not onboard with, or clear through, the ZATCA simulator."""


def demo_zatca_run(*, now: datetime) -> None:
    """Onboard when no unit is active (platform access held by the caller), then stamp and
    clear whatever still waits."""
    client = zatca_client()
    try:
        if not EgsUnit.objects.filter(state=EgsUnit.State.ACTIVE).exists():
            zatca_onboard(otp=DEMO_OTP, now=now, client=client)
        zatca_stamp_pending(now=now)
        for document_id in documents_awaiting_clearance(now=now):
            zatca_document_clear(document_id=document_id, now=now)
    except (OnboardingFailed, ZatcaRefused, ZatcaUnavailable) as error:
        raise DemoZatcaFailed(str(error)) from error
    finally:
        client.close()


def demo_zatca_statuses(*, invoice_ids: list[int]) -> dict[int, str]:
    """invoice id -> its ZATCA document's status (pending, cleared, ...)."""
    return dict(
        ZatcaDocument.objects.filter(invoice_id__in=invoice_ids).values_list("invoice_id", "status")
    )
