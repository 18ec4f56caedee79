"""An EGS unit for tests against the ZATCA simulator: its key, its CSR, and ZATCA's SDK
samples re-addressed (UUID, ICV, PIH) and stamped with a CSID's certificate."""

from __future__ import annotations

import datetime as dt
import uuid as uuid_module
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from lxml import etree

from fatoora.certificates import egs_key_generate
from fatoora.csr import CERTIFICATE_TEMPLATES, csr_build
from fatoora.hashing import FIRST_PIH, NS, invoice_parse
from fatoora.signing import StampedInvoice, invoice_stamp
from testsupport.zatca_stamp import zatca_sample_unstamped

__all__ = ["DEMO_OTP", "Egs", "make_egs", "sample_document", "sample_stamped"]

DEMO_OTP = "123345"
SIGNED_AT = dt.datetime(2025, 7, 1, 9, 30, tzinfo=dt.UTC)


@dataclass(frozen=True)
class Egs:
    key: ec.EllipticCurvePrivateKey
    csr_pem: bytes


def make_egs(*, invoice_types: str = "1000", environment: str = "sandbox") -> Egs:
    key = egs_key_generate()
    csr = csr_build(
        private_key=key,
        common_name="TST-886431145-399999999900003",
        egs_serial=f"1-Wasla|2-1.0|3-{uuid_module.uuid4()}",
        vat_number="399999999900003",
        organization="Wasla Payments Co.",
        organization_unit="Riyadh Branch",
        country="SA",
        invoice_types=invoice_types,
        location="RRRD2929",
        industry="Technology",
        template_name=CERTIFICATE_TEMPLATES[environment],
    )
    return Egs(key=key, csr_pem=csr)


def sample_document(
    name: str, *, uuid: str | None = None, icv: int = 1, pih: str = FIRST_PIH
) -> tuple[str, bytes]:
    """(uuid, unstamped XML) of an SDK sample with its UUID, ICV and PIH replaced."""
    uuid = uuid or str(uuid_module.uuid4())
    invoice = invoice_parse(xml=zatca_sample_unstamped(name))
    for path, value in (
        ("cbc:UUID", uuid),
        ("cac:AdditionalDocumentReference[cbc:ID='ICV']/cbc:UUID", str(icv)),
        (
            "cac:AdditionalDocumentReference[cbc:ID='PIH']/cac:Attachment/"
            "cbc:EmbeddedDocumentBinaryObject",
            pih,
        ),
    ):
        (element,) = invoice.xpath(path, namespaces=NS)
        element.text = value
    return uuid, etree.tostring(invoice, encoding="UTF-8")


def sample_stamped(
    name: str,
    *,
    key: ec.EllipticCurvePrivateKey,
    certificate_pem: bytes,
    uuid: str | None = None,
    icv: int = 1,
    pih: str = FIRST_PIH,
) -> tuple[str, StampedInvoice]:
    """(uuid, stamped document) of an SDK sample, signed with `key` under the CSID's certificate."""
    uuid, xml = sample_document(name, uuid=uuid, icv=icv, pih=pih)
    certificate = x509.load_pem_x509_certificate(certificate_pem)
    return uuid, invoice_stamp(
        xml=xml, private_key=key, certificate=certificate, signing_time=SIGNED_AT
    )
