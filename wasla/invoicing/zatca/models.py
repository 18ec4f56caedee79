"""ZATCA e-invoicing state: Wasla's EGS unit (its keys, CSIDs and chain head) and one
`ZatcaDocument` per issued invoice or credit note (its stamp and its clearance).

Invariants (docs/invariants.md, invariant 9), held by PostgreSQL and not only by Python
(migration 0002, proven by raw SQL):
- The chain head of a unit (`last_icv`, `last_hash`) only moves forward: the ICV never goes
  down and the hash changes only with it. Stamping takes the unit's row lock (SELECT ... FOR
  UPDATE), so each document gets `last_icv + 1` and `last_hash` as its PIH in the same
  transaction that stores the stamp and moves the head: no gap, no duplicate (unique ICV per
  unit), one unbroken chain.
- A document is for exactly one invoice or one credit note (CHECK), at most one each (unique).
  Its UUID never changes; once stamped, its unit, ICV, PIH, hash, signed XML and QR never
  change and it is never deleted (trigger). Once cleared it stays cleared with its cleared XML.
- Keys, certificates and CSID secrets are encrypted at rest with WASLA_ENCRYPTION_KEYS.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from fatoora.hashing import FIRST_PIH
from wasla.common.crypto import EncryptedTextField
from wasla.invoicing.models import CreditNote, Invoice
from wasla.tenants.models import TenantOwned


class EgsUnit(models.Model):
    """Wasla's invoicing device as ZATCA knows it (platform-wide, not tenant-owned)."""

    class State(models.TextChoices):
        ONBOARDING = "onboarding"  # key made, no CSID yet
        COMPLIANCE = "compliance"  # compliance CSID held, checks under way
        ACTIVE = "active"  # production CSID: stamps and clears

    class Environment(models.TextChoices):
        SANDBOX = "sandbox"
        SIMULATION = "simulation"
        PRODUCTION = "production"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    serial = models.CharField(max_length=200)  # 1-Wasla|2-<version>|3-<uuid>
    environment = models.CharField(max_length=20, choices=Environment.choices)
    state = models.CharField(max_length=20, choices=State.choices, default=State.ONBOARDING)
    private_key_pem = EncryptedTextField()
    # ZATCA's binarySecurityToken (base64 of the base64 DER certificate) and secret of each CSID.
    compliance_request_id = models.CharField(max_length=100, blank=True)
    compliance_token = EncryptedTextField(blank=True)
    compliance_secret = EncryptedTextField(blank=True)
    production_request_id = models.CharField(max_length=100, blank=True)
    production_token = EncryptedTextField(blank=True)
    production_secret = EncryptedTextField(blank=True)
    # The chain head: the ICV and hash of the unit's last stamped document.
    last_icv = models.PositiveBigIntegerField(default=0)
    last_hash = models.CharField(max_length=100, default=FIRST_PIH)
    created_at = models.DateTimeField(auto_now_add=True)
    activated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("EGS unit")
        verbose_name_plural = _("EGS units")
        constraints = [
            models.UniqueConstraint(
                fields=["state"], condition=Q(state="active"), name="zatca_one_active_egs"
            ),
            models.CheckConstraint(
                condition=~Q(state="active") | (~Q(production_token="") & ~Q(production_secret="")),
                name="zatca_active_egs_has_csid",
            ),
        ]

    def __str__(self) -> str:
        return f"EGS {self.serial} ({self.environment}, {self.state}, ICV {self.last_icv})"


class ZatcaDocument(TenantOwned):
    """The ZATCA side of one issued invoice or credit note: registered at issue, stamped after
    the issue commits (or once an EGS is active), then cleared."""

    class Status(models.TextChoices):
        PENDING = "pending"
        CLEARED = "cleared"
        CLEARED_WITH_WARNINGS = "cleared_with_warnings"
        REJECTED = "rejected"

    invoice = models.OneToOneField(
        Invoice, null=True, blank=True, on_delete=models.PROTECT, related_name="zatca"
    )
    credit_note = models.OneToOneField(
        CreditNote, null=True, blank=True, on_delete=models.PROTECT, related_name="zatca"
    )
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    egs = models.ForeignKey(
        EgsUnit, null=True, blank=True, on_delete=models.PROTECT, related_name="documents"
    )
    icv = models.PositiveBigIntegerField(null=True, blank=True)
    pih = models.CharField(max_length=100, blank=True)
    invoice_hash = models.CharField(max_length=100, blank=True)
    signed_xml = models.BinaryField(null=True, blank=True)
    qr = models.TextField(blank=True)
    stamped_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=30, choices=Status.choices, default=Status.PENDING)
    messages = models.JSONField(default=list, blank=True)  # ZATCA's validation messages
    cleared_xml = models.BinaryField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("ZATCA document")
        verbose_name_plural = _("ZATCA documents")
        constraints = [
            models.CheckConstraint(
                condition=Q(invoice__isnull=False, credit_note__isnull=True)
                | Q(invoice__isnull=True, credit_note__isnull=False),
                name="zatca_document_one_kind",
            ),
            models.UniqueConstraint(fields=["egs", "icv"], name="zatca_document_icv_unique"),
            models.CheckConstraint(
                condition=Q(icv__isnull=True, egs__isnull=True, stamped_at__isnull=True)
                | Q(
                    icv__isnull=False,
                    egs__isnull=False,
                    stamped_at__isnull=False,
                    signed_xml__isnull=False,
                )
                & ~Q(pih="")
                & ~Q(invoice_hash="")
                & ~Q(qr=""),
                name="zatca_document_stamped_whole",
            ),
            models.CheckConstraint(
                condition=Q(status="pending") | Q(icv__isnull=False),
                name="zatca_document_answered_once_stamped",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["cleared", "cleared_with_warnings"])
                | Q(cleared_xml__isnull=False),
                name="zatca_document_cleared_has_xml",
            ),
        ]
        indexes = [models.Index(fields=["status", "id"])]

    @property
    def is_stamped(self) -> bool:
        return self.icv is not None

    @property
    def is_cleared(self) -> bool:
        return self.status in (self.Status.CLEARED, self.Status.CLEARED_WITH_WARNINGS)

    def __str__(self) -> str:
        kind = (
            f"invoice {self.invoice_id}"
            if self.invoice_id
            else f"credit note {self.credit_note_id}"
        )
        return f"ZATCA {kind} ICV {self.icv or '-'} {self.status}"
