"""Onboarding Wasla's EGS unit with ZATCA, one step after the other, resumable:

key and unit (`egs_create`) → CSR (`fatoora.csr`, from the WASLA_SELLER_* profile, the template
of WASLA_ZATCA_ENVIRONMENT) → compliance CSID (the portal's OTP) → compliance checks of a
standard invoice and a standard credit note (compliance_samples) → production CSID → the unit
active → the waiting documents stamped and cleared.

Run again it picks up where it stopped: a unit still `onboarding` asks for its compliance CSID,
one in `compliance` (its CSID held, the OTP spent) goes on with the checks. With an active unit
it renews: a new CSR for the same key and new CSIDs replace the old ones, and the chain head
(ICV, hash) stays. The steps say what happened; no secret is ever in them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings

from fatoora.certificates import egs_key_generate
from fatoora.csr import CERTIFICATE_TEMPLATES, csr_build
from wasla.invoicing.seller import seller_profile

from .clearance import ClearanceOutcome, documents_awaiting_clearance, zatca_document_clear
from .client import Csid, ZatcaClient, ZatcaUnavailable
from .compliance_samples import compliance_samples
from .egs import (
    CsidCredentials,
    egs_activate,
    egs_compliance_csid,
    egs_compliance_store,
    egs_create,
    egs_private_key,
)
from .models import EgsUnit
from .stamping import zatca_stamp_pending

INVOICE_TYPES = "1000"  # standard documents only: Wasla issues no simplified ones


class OnboardingFailed(Exception):
    """ZATCA did not accept a step; `step` says which, the unit keeps what it got so far."""

    def __init__(self, message: str, *, step: str) -> None:
        super().__init__(f"{step}: {message}")
        self.step = step


@dataclass
class OnboardingReport:
    unit_serial: str = ""
    renewal: bool = False
    steps: list[str] = field(default_factory=list)
    stamped: int = 0
    cleared: list[ClearanceOutcome] = field(default_factory=list)


def egs_csr(*, unit: EgsUnit) -> bytes:
    seller = seller_profile()
    return csr_build(
        private_key=egs_private_key(unit=unit),
        common_name=f"Wasla-{unit.uuid.hex[:12]}",
        egs_serial=unit.serial,
        vat_number=seller.vat_number,
        organization=seller.legal_name_en[:64],
        organization_unit=f"{seller.city} Branch"[:64],
        country=seller.country_code or "SA",
        invoice_types=INVOICE_TYPES,
        location=f"{seller.building_number} {seller.street}, {seller.city}"[:64],
        industry="Payment services",
        template_name=CERTIFICATE_TEMPLATES[unit.environment],
    )


def _credentials(csid: Csid) -> CsidCredentials:
    return CsidCredentials(csid.request_id, csid.binary_security_token, csid.secret)


def _unit_to_continue() -> tuple[EgsUnit, bool]:
    active = EgsUnit.objects.filter(state=EgsUnit.State.ACTIVE).first()
    if active is not None:
        return active, True
    unfinished = EgsUnit.objects.exclude(state=EgsUnit.State.ACTIVE).order_by("-id").first()
    if unfinished is not None:
        return unfinished, False
    return egs_create(key=egs_key_generate(), environment=settings.WASLA_ZATCA_ENVIRONMENT), False


def _compliance_csid(unit: EgsUnit, client: ZatcaClient, otp: str, renewal: bool) -> Csid:
    csid = client.compliance_csid(csr_pem=egs_csr(unit=unit), otp=otp)
    if renewal:  # the active unit keeps stamping with its production CSID meanwhile
        unit.compliance_request_id = csid.request_id
        unit.compliance_token, unit.compliance_secret = csid.binary_security_token, csid.secret
        unit.save(update_fields=["compliance_request_id", "compliance_token", "compliance_secret"])
    else:
        egs_compliance_store(unit=unit, compliance=_credentials(csid))
    return csid


def _compliance_checks(unit: EgsUnit, client: ZatcaClient, csid: Csid, now: datetime) -> None:
    certificate = _credentials(csid).certificate
    for sample in compliance_samples(
        private_key=egs_private_key(unit=unit), certificate=certificate, now=now
    ):
        answer = client.compliance_check(
            csid=csid,
            uuid=sample.uuid,
            invoice_hash=sample.stamped.invoice_hash,
            xml=sample.stamped.xml,
        )
        if answer.http_status not in (200, 202) or answer.errors:
            found = "; ".join(f"{m.code}: {m.message}" for m in answer.errors)
            raise OnboardingFailed(
                f"ZATCA rejected the {sample.name} ({answer.status}): {found}",
                step="compliance checks",
            )


def zatca_onboard(*, otp: str, now: datetime, client: ZatcaClient) -> OnboardingReport:
    """Onboard (or renew) the EGS unit; raises OnboardingFailed, ZatcaRefused or
    ZatcaUnavailable with what was reached kept."""
    unit, renewal = _unit_to_continue()
    report = OnboardingReport(unit_serial=unit.serial, renewal=renewal)
    if renewal or unit.state == EgsUnit.State.ONBOARDING:
        csid = _compliance_csid(unit, client, otp, renewal)
        report.steps.append(f"compliance CSID {csid.request_id} for {unit.serial}")
    else:
        stored = egs_compliance_csid(unit=unit)
        csid = Csid(stored.request_id, stored.token, stored.secret)
        report.steps.append(f"compliance CSID {csid.request_id} already held (OTP not used)")
    _compliance_checks(unit, client, csid, now)
    report.steps.append("compliance checks passed: standard invoice, standard credit note")
    production = client.production_csid(compliance=csid)
    egs_activate(unit=unit, production=_credentials(production), now=now)
    report.steps.append(f"production CSID {production.request_id}: the unit is active")
    report.stamped = sum(1 for o in zatca_stamp_pending(now=now) if o.outcome == "stamped")
    for document_id in documents_awaiting_clearance(now=now):
        try:
            report.cleared.append(zatca_document_clear(document_id=document_id, now=now))
        except ZatcaUnavailable as error:
            report.cleared.append(ClearanceOutcome(document_id, "unavailable", str(error)))
    report.steps.append(f"{report.stamped} documents stamped, {len(report.cleared)} sent")
    return report
