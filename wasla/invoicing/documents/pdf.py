"""The PDF of a tax invoice or credit note: one Django template, rendered by WeasyPrint.

The template reads only the `InvoiceDocument` and the QR image made from that same document,
so what the PDF prints and what the QR encodes cannot disagree; once the document is stamped,
the QR is the stamped (or ZATCA's cleared) XML's, tags 1-8, made from that same document.
"""

from __future__ import annotations

from django.template.loader import render_to_string

from wasla.invoicing.documents.document import InvoiceDocument
from wasla.invoicing.documents.qr import qr_svg_data_uri, zatca_qr_tlv

TEMPLATE = "invoicing/tax_document.html"


def document_html(*, document: InvoiceDocument, qr_payload: str | None = None) -> str:
    """`qr_payload`: the stamped (or cleared) XML's QR, once there is one; else tags 1-5."""
    payload = qr_payload or zatca_qr_tlv(document=document)
    return render_to_string(
        TEMPLATE, {"document": document, "qr_data_uri": qr_svg_data_uri(payload=payload)}
    )


def document_pdf(*, document: InvoiceDocument, qr_payload: str | None = None) -> bytes:
    # Imported here: WeasyPrint loads Pango when imported, which Django's start-up (this
    # package is an installed app) and every process that renders no PDF can do without.
    from weasyprint import HTML

    # No base_url: the template loads nothing from outside (fonts by family name from the
    # system, the QR as a data URI), so rendering never touches the network or the disk.
    pdf = HTML(string=document_html(document=document, qr_payload=qr_payload)).write_pdf()
    if pdf is None:  # only when given a target to write to, which we never pass
        raise RuntimeError("WeasyPrint returned no PDF")
    return pdf
