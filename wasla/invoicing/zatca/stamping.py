"""Stamping and the hash chain: each issued document gets the next ICV of the active EGS unit,
the previous document's hash as its PIH, and the unit's stamp, all in one transaction.

`zatca_document_register` runs inside the issuing transaction (a row, no chain, no crypto) and
asks for the stamp once that transaction commits; stamping itself never runs inside issuing. A
document issued while no unit is active waits, unstamped (`pending`), until `zatca_stamp_pending`
stamps the waiting documents in issue order (after each issue, from the sweep in beat, and at
the end of onboarding).

The unit's row lock (SELECT ... FOR UPDATE) is what orders the chain: the lock is taken first,
then the document's, and both are released by the commit that stores the stamp and moves the
head, so concurrent stampings queue and a crash before the commit leaves nothing behind.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.db import transaction

from fatoora.hashing import FIRST_PIH
from fatoora.signing import invoice_stamp
from wasla.invoicing.models import CreditNote, Invoice

from .egs import EgsNotActive, certificate_from_token, egs_private_key
from .issued import credit_note_ubl, invoice_ubl
from .models import EgsUnit, ZatcaDocument
from .ubl import ChainLink
from .validation import document_validate

logger = logging.getLogger(__name__)


class StampFailed(Exception):
    """A document that cannot be stamped as it was issued (e.g. KWD fils ZATCA cannot take)."""


@dataclass(frozen=True)
class StampOutcome:
    document_id: int
    outcome: str  # stamped | failed
    detail: str = ""


def zatca_document_register(
    *, invoice: Invoice | None = None, credit_note: CreditNote | None = None
) -> ZatcaDocument:
    """The ZATCA record of a document being issued (inside the issuing transaction); its
    stamping (and clearance) is queued for after the commit."""
    issued = invoice if invoice is not None else credit_note
    assert issued is not None, "an invoice or a credit note"
    document = ZatcaDocument.objects.create(
        tenant_id=issued.tenant_id, invoice=invoice, credit_note=credit_note
    )
    from .tasks import zatca_stamp_pending_task

    transaction.on_commit(zatca_stamp_pending_task.delay)
    return document


def sar_rate(*, currency: str) -> Decimal | None:
    """The configured SAR value of one unit of `currency` (None for SAR itself)."""
    if currency == "SAR":
        return None
    rate = settings.WASLA_ZATCA_SAR_RATES.get(currency)
    return Decimal(rate) if rate is not None else None


def unsigned_xml(*, document: ZatcaDocument, chain: ChainLink) -> bytes:
    if document.invoice_id is not None:
        invoice = Invoice.objects.get(pk=document.invoice_id)
        return invoice_ubl(
            invoice=invoice, chain=chain, sar_rate=sar_rate(currency=invoice.currency)
        )
    assert document.credit_note_id is not None  # exactly one of the two (CHECK)
    note = CreditNote.objects.select_related("invoice").get(pk=document.credit_note_id)
    return credit_note_ubl(credit_note=note, chain=chain, sar_rate=sar_rate(currency=note.currency))


def _rules_check(*, document: ZatcaDocument) -> None:
    """The document as it will be written, checked against the XSD and the EN and KSA rules
    before any lock is taken (the chain values here are provisional; the rules only read
    their form)."""
    provisional = ChainLink(uuid=document.uuid, icv=1, pih=FIRST_PIH)
    try:
        xml = unsigned_xml(document=document, chain=provisional)
    except ValueError as error:  # UblError: the document cannot be written for ZATCA
        raise StampFailed(str(error)) from error
    errors = document_validate(xml=xml).errors
    if errors:
        raise StampFailed(
            "ZATCA's rules refuse it: "
            + "; ".join(f"{e.layer} {e.rule}: {e.message}" for e in errors)[:1800]
        )


def zatca_document_stamp(*, document: ZatcaDocument, now: datetime) -> ZatcaDocument:
    """Stamp `document` as the active unit's next link; a document already stamped is
    returned as it is (never stamped twice). Raises EgsNotActive when no unit is active, and
    StampFailed, with nothing written, for a document ZATCA's rules refuse: it must not take an
    ICV, or every later document would chain to a hash ZATCA never clears."""
    if not EgsUnit.objects.filter(state=EgsUnit.State.ACTIVE).exists():
        raise EgsNotActive("no EGS unit is active: the document waits, unstamped")
    _rules_check(document=document)
    with transaction.atomic():
        unit = EgsUnit.objects.select_for_update().filter(state=EgsUnit.State.ACTIVE).first()
        if unit is None:
            raise EgsNotActive("no EGS unit is active: the document waits, unstamped")
        locked = ZatcaDocument.objects.select_for_update().get(pk=document.pk)
        if locked.is_stamped:
            return locked
        chain = ChainLink(uuid=locked.uuid, icv=unit.last_icv + 1, pih=unit.last_hash)
        try:
            xml = unsigned_xml(document=locked, chain=chain)
        except ValueError as error:  # UblError: the document cannot be written for ZATCA
            raise StampFailed(str(error)) from error
        stamped = invoice_stamp(
            xml=xml,
            private_key=egs_private_key(unit=unit),
            certificate=certificate_from_token(token=unit.production_token),
            signing_time=now,
        )
        locked.egs, locked.icv, locked.pih = unit, chain.icv, chain.pih
        locked.invoice_hash, locked.signed_xml, locked.qr = (
            stamped.invoice_hash,
            stamped.xml,
            stamped.qr,
        )
        locked.stamped_at, locked.last_error = now, ""
        locked.save(
            update_fields=[
                *("egs", "icv", "pih", "invoice_hash", "signed_xml", "qr"),
                *("stamped_at", "last_error"),
            ]
        )
        unit.last_icv, unit.last_hash = chain.icv, stamped.invoice_hash
        unit.save(update_fields=["last_icv", "last_hash"])
    return locked


def documents_awaiting_stamp() -> list[int]:
    """The ids of the documents not stamped yet, in issue order."""
    return list(
        ZatcaDocument.objects.filter(icv__isnull=True).order_by("id").values_list("pk", flat=True)
    )


def zatca_stamp_pending(*, now: datetime) -> list[StampOutcome]:
    """Stamp every waiting document in issue order, each in its own transaction; nothing when
    no unit is active. A document that cannot be stamped is recorded (`last_error`) and left
    for staff, and the others go on."""
    outcomes: list[StampOutcome] = []
    for document_id in documents_awaiting_stamp():
        document = ZatcaDocument.objects.get(pk=document_id)
        try:
            zatca_document_stamp(document=document, now=now)
        except EgsNotActive:
            return outcomes
        except StampFailed as error:
            logger.error("ZATCA document %s cannot be stamped: %s", document_id, error)
            ZatcaDocument.objects.filter(pk=document_id).update(last_error=str(error)[:2000])
            outcomes.append(StampOutcome(document_id, "failed", str(error)))
            continue
        outcomes.append(StampOutcome(document_id, "stamped"))
    return outcomes
