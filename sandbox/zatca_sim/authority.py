"""The simulator's certificate authority: made once, kept in the database, issuing CSIDs.

ZATCA's CAs (e.g. "PRZEINVOICESCA4-CA") issue the compliance and production CSIDs from the
onboarding CSR; the simulator's CA does the same with `fatoora.certificates`, copying the
CSR's subject and EGS facts into a certificate signed with its secp256k1 key. The same key and
certificate stamp the documents the simulator clears (real ZATCA stamps them with its own).
"""

from __future__ import annotations

import base64
import datetime as dt
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.db import IntegrityError, transaction

from fatoora.certificates import (
    CertificateAuthority,
    ca_create,
    certificate_base64,
    egs_certificate_issue,
)
from fatoora.csr import CsrFacts
from sandbox.zatca_sim.models import ZatcaAuthority

CA_NAME = "WaslaSandboxZatcaCA"


@dataclass(frozen=True)
class IssuedCertificate:
    certificate: x509.Certificate
    token: str  # binarySecurityToken: base64 of the base64 DER text, as ZATCA sends it


def authority_get(*, now: dt.datetime) -> CertificateAuthority:
    """The CA, created on first use; concurrent first uses end with one CA."""
    row = ZatcaAuthority.objects.filter(pk=1).first()
    if row is None:
        ca = ca_create(now=now, name=CA_NAME)
        try:
            with transaction.atomic():
                row = ZatcaAuthority.objects.create(
                    pk=1,
                    key_pem=ca.key.private_bytes(
                        serialization.Encoding.PEM,
                        serialization.PrivateFormat.PKCS8,
                        serialization.NoEncryption(),
                    ).decode("ascii"),
                    certificate_pem=ca.certificate.public_bytes(serialization.Encoding.PEM).decode(
                        "ascii"
                    ),
                )
        except IntegrityError:
            row = ZatcaAuthority.objects.get(pk=1)
    key = serialization.load_pem_private_key(row.key_pem.encode("ascii"), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise TypeError("the sandbox CA key is not an EC key")
    certificate = x509.load_pem_x509_certificate(row.certificate_pem.encode("ascii"))
    return CertificateAuthority(key=key, certificate=certificate)


def csid_certificate_issue(*, csr: CsrFacts, now: dt.datetime) -> IssuedCertificate:
    """A CSID certificate for the CSR's key and facts, and its token."""
    ca = authority_get(now=now)
    certificate = egs_certificate_issue(
        ca=ca, public_key=csr.public_key, subject=csr.subject, now=now
    )
    text = certificate_base64(certificate=certificate)
    return IssuedCertificate(
        certificate=certificate, token=base64.b64encode(text.encode("ascii")).decode("ascii")
    )
