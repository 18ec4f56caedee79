"""Builders for ZATCA stamp tests: the official SDK samples (read-only, from shared/fixtures), the
samples with their stamp removed, and an EGS key with its certificate from a fresh test CA."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings
from lxml import etree

from fatoora.certificates import (
    CertificateAuthority,
    EgsSubject,
    ca_create,
    egs_certificate_issue,
    egs_key_generate,
)
from fatoora.hashing import invoice_parse, invoice_unstamped

__all__ = ["EgsIdentity", "make_egs_identity", "zatca_sample", "zatca_sample_unstamped"]

SAMPLES = (
    Path(os.environ.get("WASLA_SHARED_DIR", Path(settings.BASE_DIR).parent / "shared"))
    / "fixtures"
    / "zatca"
    / "samples"
)
SAMPLE_NAMES = (
    "Standard_Invoice",
    "Standard_Credit_Note",
    "Simplified_Invoice",
    "Simplified_Credit_Note",
)
NOW = dt.datetime(2025, 7, 1, 9, 30, tzinfo=dt.UTC)


@dataclass(frozen=True)
class EgsIdentity:
    ca: CertificateAuthority
    key: ec.EllipticCurvePrivateKey
    certificate: x509.Certificate


def zatca_sample(name: str) -> bytes:
    """The bytes of one of the four signed SDK samples, e.g. "Standard_Invoice"."""
    return (SAMPLES / f"{name}.xml").read_bytes()


def zatca_sample_unstamped(name: str) -> bytes:
    """The sample without its signature, `cac:Signature` and QR: a document ready to stamp."""
    pruned = invoice_unstamped(invoice=invoice_parse(xml=zatca_sample(name)))
    return etree.tostring(pruned, encoding="UTF-8")


def make_egs_identity(
    *, ca: CertificateAuthority | None = None, vat_number: str = "399999999900003"
) -> EgsIdentity:
    ca = ca or ca_create(now=NOW)
    key = egs_key_generate()
    subject = EgsSubject(
        common_name="TST-886431145-399999999900003",
        organization="Wasla Payments Co.",
        organization_unit="Riyadh Branch",
        vat_number=vat_number,
        egs_serial="1-Wasla|2-1.0|3-ed22f1d8-e6a2-1118-9b58-d9a8f11e445f",
    )
    certificate = egs_certificate_issue(
        ca=ca, public_key=key.public_key(), subject=subject, now=NOW
    )
    return EgsIdentity(ca=ca, key=key, certificate=certificate)
