"""Clearance: each stamped document sent to ZATCA once it is stamped, its answer stored.

`zatca_document_clear` takes a lease on the document in one short transaction (attempts + 1,
`submitted_at` = now), checks the stamped XML locally first (ZATCA's rules and the qr, signature
and pih layers: a local error rejects the document with its messages, nothing is sent), then
calls ZATCA outside any lock with the stored UUID, hash and signed XML (the same on every try,
which ZATCA answers idempotently), and stores the answer under the row lock, only if the
document is still pending. ZatcaUnavailable releases the lease and propagates (the task retries
with backoff); a worker that dies mid-call leaves a lease that expires after
WASLA_ZATCA_CLEARANCE_LEASE_SECONDS, and `documents_awaiting_clearance` gives it to the sweep.
ZATCA takes a unit's documents in chain order (each PIH is the previous accepted hash), so a
document whose predecessor is still pending waits; answering one queues the next.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet

from fatoora.hashing import FIRST_PIH
from fatoora.validation import ValidationResult

from .checks import stamp_checks
from .client import Csid, SubmissionAnswer, ZatcaClient, ZatcaRefused, ZatcaUnavailable
from .egs import egs_production_csid
from .models import ZatcaDocument
from .validation import document_validate

logger = logging.getLogger(__name__)

Status = ZatcaDocument.Status


@dataclass(frozen=True)
class ClearanceOutcome:
    document_id: int
    outcome: str  # a ZatcaDocument status, "refused" or "skipped" (not pending, or leased)
    detail: str = ""


def zatca_client() -> ZatcaClient:
    return ZatcaClient(
        base_url=settings.WASLA_ZATCA_BASE_URL, timeout=settings.WASLA_ZATCA_TIMEOUT_SECONDS
    )


def _lease_expired_before(now: datetime) -> datetime:
    return now - timedelta(seconds=settings.WASLA_ZATCA_CLEARANCE_LEASE_SECONDS)


def documents_awaiting_clearance(*, now: datetime) -> list[int]:
    """Stamped, pending documents nobody holds a live lease on, in chain order."""
    return list(
        ZatcaDocument.objects.filter(icv__isnull=False, status=Status.PENDING)
        .filter(Q(submitted_at__isnull=True) | Q(submitted_at__lte=_lease_expired_before(now)))
        .order_by("egs_id", "icv")
        .values_list("pk", flat=True)
    )


def _claim(document_id: int, now: datetime) -> ZatcaDocument | None:
    with transaction.atomic():
        document = (
            ZatcaDocument.objects.select_for_update(of=("self",))
            .select_related("egs")
            .filter(pk=document_id)
            .first()
        )
        if document is None or not document.is_stamped or document.status != Status.PENDING:
            return None
        if document.submitted_at is not None and document.submitted_at > _lease_expired_before(now):
            return None  # another worker holds the lease
        if _predecessor(document).filter(status=Status.PENDING).exists():
            return None  # ZATCA takes a unit's documents in chain order: this one comes next
        document.attempts += 1
        document.submitted_at = now
        document.save(update_fields=["attempts", "submitted_at"])
    return document


def _predecessor(document: ZatcaDocument) -> QuerySet[ZatcaDocument]:
    return ZatcaDocument.objects.filter(egs_id=document.egs_id, icv=(document.icv or 0) - 1)


def document_next_in_chain(*, document_id: int) -> int | None:
    """The stamped, pending document after `document_id` in its unit's chain, if any."""
    document = ZatcaDocument.objects.filter(pk=document_id).values("egs_id", "icv").first()
    if document is None or document["icv"] is None:
        return None
    return (
        ZatcaDocument.objects.filter(
            egs_id=document["egs_id"], icv=document["icv"] + 1, status=Status.PENDING
        )
        .values_list("pk", flat=True)
        .first()
    )


def _expected_pih(document: ZatcaDocument) -> str:
    assert document.icv is not None
    if document.icv == 1:
        return FIRST_PIH
    previous = (
        ZatcaDocument.objects.filter(egs_id=document.egs_id, icv=document.icv - 1)
        .values_list("invoice_hash", flat=True)
        .first()
    )
    return previous or ""


def _local_message(result: ValidationResult) -> dict[str, str]:
    return {
        "type": "ERROR",
        "code": result.rule,
        "category": f"LOCAL_{result.layer.upper()}",
        "message": result.message,
        "status": "ERROR",
    }


def _answer_store(
    document_id: int,
    *,
    status: str,
    messages: list[dict[str, Any]],
    now: datetime,
    cleared_xml: bytes | None = None,
    error: str = "",
) -> bool:
    """Store the answer under the row lock, only if the document is still pending."""
    with transaction.atomic():
        document = ZatcaDocument.objects.select_for_update().get(pk=document_id)
        if document.status != Status.PENDING:
            return False
        document.status, document.messages, document.cleared_xml = status, messages, cleared_xml
        document.answered_at, document.last_error = now, error[:2000]
        document.save(
            update_fields=["status", "messages", "cleared_xml", "answered_at", "last_error"]
        )
    return True


def _status_of(answer: SubmissionAnswer) -> str:
    if answer.http_status in (200, 202) and answer.status == "CLEARED":
        return Status.CLEARED_WITH_WARNINGS if answer.warnings else Status.CLEARED
    return Status.REJECTED


def _release(document_id: int, error: str) -> None:
    ZatcaDocument.objects.filter(pk=document_id, status=Status.PENDING).update(
        submitted_at=None, last_error=error[:2000]
    )


def zatca_document_clear(*, document_id: int, now: datetime) -> ClearanceOutcome:
    """Clear one stamped document (see the module docstring). Raises ZatcaUnavailable."""
    document = _claim(document_id, now)
    if document is None:
        return ClearanceOutcome(document_id, "skipped")
    assert document.signed_xml is not None
    assert document.icv is not None
    xml = bytes(document.signed_xml)
    report = document_validate(
        xml=xml, extra=stamp_checks(icv=document.icv, pih=_expected_pih(document))
    )
    if report.errors:
        messages = [_local_message(result) for result in report.errors]
        _answer_store(document_id, status=Status.REJECTED, messages=messages, now=now)
        return ClearanceOutcome(document_id, Status.REJECTED, "rejected locally")
    assert document.egs is not None
    stored = egs_production_csid(unit=document.egs)
    csid = Csid(stored.request_id, stored.token, stored.secret)
    client = zatca_client()
    try:
        answer = client.clearance(
            csid=csid, uuid=str(document.uuid), invoice_hash=document.invoice_hash, xml=xml
        )
    except ZatcaUnavailable as error:
        _release(document_id, str(error))
        raise
    except ZatcaRefused as error:
        # Resending will not help until staff act (e.g. renewed CSIDs): the lease stays, so the
        # sweep tries again only once it has expired.
        logger.error("ZATCA refused the clearance of document %s: %s", document_id, error)
        ZatcaDocument.objects.filter(pk=document_id).update(last_error=str(error)[:2000])
        return ClearanceOutcome(document_id, "refused", str(error))
    finally:
        client.close()
    status = _status_of(answer)
    if status != Status.REJECTED and answer.cleared_xml is None:
        _release(document_id, "ZATCA cleared the document without returning it")
        return ClearanceOutcome(document_id, "refused", "no cleared XML in ZATCA's answer")
    messages = [asdict(message) for message in answer.messages]
    cleared = answer.cleared_xml if status != Status.REJECTED else None
    _answer_store(document_id, status=status, messages=messages, now=now, cleared_xml=cleared)
    return ClearanceOutcome(document_id, status)
