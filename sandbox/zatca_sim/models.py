"""State of the ZATCA simulator: its CA, the CSIDs it issued, compliance checks, submissions.

- `ZatcaAuthority`: the simulator's CA (one row, made on first use), which issues every CSID
  certificate and stamps cleared documents, as ZATCA's CA and ZATCA do.
- `ZatcaCsid`: a compliance or production CSID. The secret is kept only as a SHA-256 digest
  (Basic auth compares digests); the binary security token is public (it is the certificate).
- `ZatcaComplianceCheck`: one compliance-invoice call; a production CSID needs passed checks of
  every document type the CSR declared (`services_onboarding.REQUIRED_DOCUMENTS`).
- `ZatcaSubmission`: one clearance or reporting call. An EGS unit (its VAT number and EGS
  serial, hashed: `services_submissions.egs_key`; a renewal keeps it) has at most
  one cleared/reported submission per UUID (a partial unique index): a resubmission answers
  the stored answer instead of clearing twice; its chain (ICV, PIH) moves only on success.
- `ZatcaSandboxKnobs`: the fault knobs (`api`, `timeout_seconds`, `api_fail_count` as in
  `sandbox.faults`, and `clearance`: validate, warn or reject every document).
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from sandbox.faults import FaultKnobs


class ZatcaAuthority(models.Model):
    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    key_pem = models.TextField()  # the sandbox CA's own test key: no secret of anyone's
    certificate_pem = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(id=1), name="zatca_authority_singleton")]

    def __str__(self) -> str:
        return "sandbox ZATCA CA"


class ZatcaCsid(models.Model):
    class Kind(models.TextChoices):
        COMPLIANCE = "compliance"
        PRODUCTION = "production"

    request_id = models.BigIntegerField(unique=True)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    token = models.TextField(unique=True)  # binarySecurityToken
    secret_digest = models.CharField(max_length=64)
    certificate_serial = models.CharField(max_length=64, unique=True)
    vat_number = models.CharField(max_length=15)
    egs_serial = models.CharField(max_length=255)
    invoice_types = models.CharField(max_length=4)
    csr_pem = models.TextField()  # the onboarding request, re-read for the production CSID
    compliance = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="production_csids"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.kind} CSID {self.request_id}"


class ZatcaComplianceCheck(models.Model):
    csid = models.ForeignKey(ZatcaCsid, on_delete=models.CASCADE, related_name="checks")
    document = models.CharField(max_length=32)  # e.g. "standard-388"
    uuid = models.CharField(max_length=64)
    passed = models.BooleanField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.document} {'passed' if self.passed else 'failed'}"


class ZatcaSubmission(models.Model):
    class Kind(models.TextChoices):
        CLEARANCE = "clearance"
        REPORTING = "reporting"

    class Status(models.TextChoices):
        ACCEPTED = "accepted"  # CLEARED / REPORTED
        ACCEPTED_WITH_WARNINGS = "accepted_with_warnings"
        REJECTED = "rejected"

    csid = models.ForeignKey(ZatcaCsid, on_delete=models.PROTECT, related_name="submissions")
    egs = models.CharField(max_length=64)  # the EGS unit (services_submissions.egs_key)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    uuid = models.CharField(max_length=64)
    invoice_hash = models.CharField(max_length=64)
    icv = models.BigIntegerField(null=True)
    status = models.CharField(max_length=32, choices=Status.choices)
    http_status = models.PositiveSmallIntegerField()
    answer = models.JSONField()  # the body that was answered, for an idempotent resubmission
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["egs", "uuid"],
                condition=~Q(status="rejected"),
                name="zatca_submission_once_per_uuid",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.uuid} {self.status}"


class ZatcaSandboxKnobs(FaultKnobs):
    """Global fault knobs of the ZATCA simulator: one row, id 1; no row means the defaults."""

    class Clearance(models.TextChoices):
        VALIDATE = "validate"  # answer what the checks find
        WARN = "warn"  # add a warning to every accepted document (202)
        REJECT = "reject"  # reject every document (400 NOT_CLEARED / NOT_REPORTED)

    # ZATCA sends no webhooks: the shared webhook knobs do not apply here.
    webhook = None  # type: ignore[assignment]
    delay_seconds = None  # type: ignore[assignment]
    clearance = models.CharField(
        max_length=16, choices=Clearance.choices, default=Clearance.VALIDATE
    )

    class Meta(FaultKnobs.Meta):
        verbose_name_plural = "zatca sandbox knobs"

    def __str__(self) -> str:
        return f"api={self.api} clearance={self.clearance}"
