"""The sample documents of onboarding's compliance checks: a standard tax invoice (388) and a
standard credit note (381), made up (a fictitious buyer, one fee line) but with Wasla's own
seller profile, as ZATCA checks the EGS unit writes and signs valid documents before it gives
the production CSID. They are stamped with the compliance CSID's certificate, each as ICV 1
after the first PIH: they are not part of the unit's chain and never move its head."""

from __future__ import annotations

import uuid as uuid_module
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from fatoora.hashing import FIRST_PIH
from fatoora.signing import StampedInvoice, invoice_stamp
from wasla.common.money import round_money
from wasla.invoicing.documents.document import (
    CreditNoteReference,
    DocumentKind,
    DocumentLine,
    InvoiceDocument,
    NationalAddress,
    PaymentInstructions,
    TaxParty,
    vat_breakdown_for,
)
from wasla.invoicing.seller import seller_profile

from .ubl import ChainLink, ubl_document

_BUYER = TaxParty(
    legal_name_ar="مؤسسة العينة للتجارة",
    legal_name_en="Sample Trading Est.",
    vat_number="300075588700003",
    cr_number="4030012345",
    address=NationalAddress(
        building_number="8228",
        street="Prince Sultan Street",
        district="Al Rawdah",
        city="Jeddah",
        postal_code="23435",
        country="SA",
    ),
)


@dataclass(frozen=True)
class ComplianceSample:
    name: str  # "standard invoice" | "standard credit note"
    uuid: str
    stamped: StampedInvoice


def _seller() -> TaxParty:
    profile = seller_profile()
    return TaxParty(
        legal_name_ar=profile.legal_name_ar,
        legal_name_en=profile.legal_name_en,
        vat_number=profile.vat_number,
        cr_number=profile.cr_number,
        address=NationalAddress(
            building_number=profile.building_number,
            street=profile.street,
            district=profile.district,
            city=profile.city,
            postal_code=profile.postal_code,
            country=profile.country_code or "SA",
        ),
    )


def _document(kind: DocumentKind, now: datetime) -> InvoiceDocument:
    net = Decimal("100.00")
    line = DocumentLine(
        description_ar="رسوم العمليات",
        description_en="Transaction fees",
        quantity=Decimal("100"),
        unit_price=Decimal("1.00"),
        net_amount=net,
        vat_rate=Decimal("15.00"),
        vat_amount=round_money(net * Decimal("0.15"), "SAR"),
    )
    lines = (line,)
    breakdown = vat_breakdown_for(lines=lines, currency="SAR")
    total = line.net_amount + line.vat_amount
    month_start = date(now.year, now.month, 1)
    supply_end = month_start - timedelta(days=1)
    common = {
        "issued_at": now,
        "supply_start": supply_end.replace(day=1),
        "supply_end": supply_end,
        "currency": "SAR",
        "seller": _seller(),
        "buyer": _BUYER,
        "lines": lines,
        "vat_breakdown": breakdown,
        "subtotal": line.net_amount,
        "vat_total": line.vat_amount,
        "total": total,
        "amount_paid": Decimal("0.00"),
        "amount_due": total,
    }
    if kind is DocumentKind.CREDIT_NOTE:
        return InvoiceDocument(
            kind=kind,
            number="CN-COMPLIANCE-1",
            credit_note_of=CreditNoteReference(
                original_invoice_number="INV-COMPLIANCE-1", reason="Fees reduced (sample)"
            ),
            **common,  # type: ignore[arg-type]
        )
    profile = seller_profile()
    return InvoiceDocument(
        kind=kind,
        number="INV-COMPLIANCE-1",
        due_date=now.date() + timedelta(days=14),
        payment=PaymentInstructions(iban=profile.iban, bank_name="Sample Bank"),
        **common,  # type: ignore[arg-type]
    )


def compliance_samples(
    *, private_key: ec.EllipticCurvePrivateKey, certificate: x509.Certificate, now: datetime
) -> list[ComplianceSample]:
    """The two samples, stamped with the compliance certificate, each ICV 1 / first PIH."""
    samples = []
    for name, kind in (
        ("standard invoice", DocumentKind.TAX_INVOICE),
        ("standard credit note", DocumentKind.CREDIT_NOTE),
    ):
        uuid = uuid_module.uuid4()
        xml = ubl_document(
            document=_document(kind, now), chain=ChainLink(uuid=uuid, icv=1, pih=FIRST_PIH)
        )
        stamped = invoice_stamp(
            xml=xml, private_key=private_key, certificate=certificate, signing_time=now
        )
        samples.append(ComplianceSample(name=name, uuid=str(uuid), stamped=stamped))
    return samples
