"""What the merchant gets of a document's ZATCA side: its `{uuid, icv, status}`, the cleared XML
(ZATCA's, once cleared; before that there is nothing the merchant may rely on) and the QR the
PDF prints (the stamped or cleared document's tags 1-8, once stamped)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from fatoora.hashing import invoice_parse
from fatoora.qr import invoice_qr_read
from wasla.common.problems import Conflict
from wasla.invoicing.models import CreditNote, Invoice

from .models import ZatcaDocument


class NotClearedYet(Conflict):
    slug, title = "zatca-not-cleared", _("Not cleared by ZATCA yet")


def zatca_document_of(*, issued: Invoice | CreditNote) -> ZatcaDocument | None:
    """Through the reverse one-to-one, so a list that select_related("zatca") asks nothing."""
    try:
        document: ZatcaDocument = issued.zatca  # type: ignore[union-attr]
    except ZatcaDocument.DoesNotExist:
        return None
    return document


def zatca_summary(*, issued: Invoice | CreditNote) -> dict[str, Any] | None:
    """SPEC §6's `zatca: {uuid, icv, status}`; None for a draft."""
    document = zatca_document_of(issued=issued)
    if document is None:
        return None
    return {"uuid": str(document.uuid), "icv": document.icv, "status": document.status}


def cleared_xml(*, issued: Invoice | CreditNote) -> bytes:
    """ZATCA's cleared XML; NotClearedYet (409) until ZATCA has cleared the document."""
    document = zatca_document_of(issued=issued)
    if document is None or not document.is_cleared or document.cleared_xml is None:
        status = document.status if document is not None else "not issued"
        raise NotClearedYet(
            f"ZATCA has not cleared this document yet (status: {status}); "
            "its XML is available once it is cleared",
            extra={"zatca_status": status},
        )
    return bytes(document.cleared_xml)


def document_qr_payload(*, issued: Invoice | CreditNote) -> str | None:
    """The QR of the cleared XML (ZATCA's), else of the stamped XML; None before the stamp."""
    document = zatca_document_of(issued=issued)
    if document is None or not document.is_stamped:
        return None
    if document.is_cleared and document.cleared_xml is not None:
        found = invoice_qr_read(invoice=invoice_parse(xml=bytes(document.cleared_xml)))
        if found:
            return found
    return document.qr
