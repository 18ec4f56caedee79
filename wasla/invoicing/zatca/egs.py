"""Wasla's EGS unit: installing its key and CSIDs (onboarding, tests), and reading back what the
stamp and the clearance need from it (the key, the certificate, the CSID's token and secret).

Everything secret is stored encrypted (wasla.common.crypto) and decrypted only here.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from dataclasses import dataclass
from datetime import datetime

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings
from django.db import transaction

from fatoora.certificates import CertificateError, certificate_base64, certificate_from_base64

from .models import EgsUnit

EGS_VERSION = "1.0"


class EgsNotActive(Exception):
    """No EGS unit holds a production CSID yet: documents wait, unstamped."""


@dataclass(frozen=True)
class CsidCredentials:
    """A CSID as ZATCA answers it: the request id, the token (base64 of the base64 DER
    certificate) and the secret; together the token and secret are the API's Basic auth."""

    request_id: str
    token: str
    secret: str

    @property
    def certificate(self) -> x509.Certificate:
        return certificate_from_token(token=self.token)


def egs_serial(*, unit_uuid: uuid.UUID) -> str:
    """ZATCA's EGS serial number: `1-<solution>|2-<version>|3-<unit uuid>`."""
    return f"1-Wasla|2-{EGS_VERSION}|3-{unit_uuid}"


def certificate_token(*, certificate: x509.Certificate) -> str:
    """ZATCA's binarySecurityToken of a certificate."""
    return base64.b64encode(certificate_base64(certificate=certificate).encode("ascii")).decode()


def certificate_from_token(*, token: str) -> x509.Certificate:
    try:
        text = base64.b64decode(token, validate=True).decode("ascii")
    except (binascii.Error, UnicodeDecodeError):
        raise CertificateError("the CSID token is not base64 of a base64 certificate") from None
    return certificate_from_base64(base64_der=text)


def private_key_pem(*, key: ec.EllipticCurvePrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")


def egs_create(*, key: ec.EllipticCurvePrivateKey, environment: str | None = None) -> EgsUnit:
    """A new unit in `onboarding`, holding its key (encrypted) and its serial."""
    unit_uuid = uuid.uuid4()
    return EgsUnit.objects.create(
        uuid=unit_uuid,
        serial=egs_serial(unit_uuid=unit_uuid),
        environment=environment or settings.WASLA_ZATCA_ENVIRONMENT,
        private_key_pem=private_key_pem(key=key),
    )


def egs_compliance_store(*, unit: EgsUnit, compliance: CsidCredentials) -> EgsUnit:
    _check_key(unit, compliance)
    unit.compliance_request_id = compliance.request_id
    unit.compliance_token, unit.compliance_secret = compliance.token, compliance.secret
    unit.state = EgsUnit.State.COMPLIANCE
    unit.save(
        update_fields=["compliance_request_id", "compliance_token", "compliance_secret", "state"]
    )
    return unit


def egs_activate(*, unit: EgsUnit, production: CsidCredentials, now: datetime) -> EgsUnit:
    """Store the production CSID and make `unit` the active one (any other steps down)."""
    _check_key(unit, production)
    with transaction.atomic():
        EgsUnit.objects.filter(state=EgsUnit.State.ACTIVE).exclude(pk=unit.pk).update(
            state=EgsUnit.State.COMPLIANCE
        )
        unit.production_request_id = production.request_id
        unit.production_token, unit.production_secret = production.token, production.secret
        unit.state, unit.activated_at = EgsUnit.State.ACTIVE, now
        unit.save(
            update_fields=[
                *("production_request_id", "production_token", "production_secret"),
                *("state", "activated_at"),
            ]
        )
    return unit


def egs_install(
    *,
    key: ec.EllipticCurvePrivateKey,
    production: CsidCredentials,
    now: datetime,
    compliance: CsidCredentials | None = None,
    environment: str | None = None,
) -> EgsUnit:
    """A unit with its key and CSIDs, active at once (a CSID obtained elsewhere, or a test
    certificate from fatoora.certificates' CA)."""
    with transaction.atomic():
        unit = egs_create(key=key, environment=environment)
        if compliance is not None:
            egs_compliance_store(unit=unit, compliance=compliance)
        return egs_activate(unit=unit, production=production, now=now)


def egs_active() -> EgsUnit:
    unit = EgsUnit.objects.filter(state=EgsUnit.State.ACTIVE).first()
    if unit is None:
        raise EgsNotActive("no EGS unit is active: run `manage.py zatca_onboard --otp CODE`")
    return unit


def egs_private_key(*, unit: EgsUnit) -> ec.EllipticCurvePrivateKey:
    key = serialization.load_pem_private_key(unit.private_key_pem.encode("ascii"), None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise CertificateError("the EGS key is not an EC key")
    return key


def egs_production_csid(*, unit: EgsUnit) -> CsidCredentials:
    return CsidCredentials(
        unit.production_request_id, unit.production_token, unit.production_secret
    )


def egs_compliance_csid(*, unit: EgsUnit) -> CsidCredentials:
    return CsidCredentials(
        unit.compliance_request_id, unit.compliance_token, unit.compliance_secret
    )


def _check_key(unit: EgsUnit, csid: CsidCredentials) -> None:
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    der = serialization.Encoding.DER
    ours = egs_private_key(unit=unit).public_key().public_bytes(der, spki)
    if csid.certificate.public_key().public_bytes(der, spki) != ours:
        raise CertificateError("the CSID's certificate is not for this EGS unit's key")
