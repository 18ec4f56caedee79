"""The ZATCA QR of a document: tags 1-5 from the typed document, and its image for the PDF.

The TLV encoding is `fatoora.tlv`'s; tags 6-9 (hash, signature, public key, the CA's signature)
come from the stamp, `fatoora.qr` builds the full payload of a signed XML document.
"""

from __future__ import annotations

import base64

import qrcode
import qrcode.constants
from qrcode.image.svg import SvgPathImage

from fatoora.tlv import ZatcaTag, tlv_encode
from wasla.common.money import format_amount
from wasla.invoicing.documents.document import InvoiceDocument


def zatca_qr_fields(*, document: InvoiceDocument) -> tuple[tuple[ZatcaTag, str], ...]:
    """Tags 1-5 in order, every value taken from the document as it prints it."""
    return (
        # The Arabic legal name: the one registered with ZATCA and written in the UBL seller.
        (ZatcaTag.SELLER_NAME, document.seller.legal_name_ar),
        (ZatcaTag.VAT_NUMBER, document.seller.vat_number),
        (ZatcaTag.TIMESTAMP, document.issue_timestamp),
        (ZatcaTag.TOTAL_WITH_VAT, format_amount(document.total, document.currency)),
        (ZatcaTag.VAT_TOTAL, format_amount(document.vat_total, document.currency)),
    )


def zatca_qr_tlv(*, document: InvoiceDocument) -> str:
    """The base64 QR payload (tags 1-5) of a tax invoice or credit note."""
    encoded = tlv_encode(fields=zatca_qr_fields(document=document))
    return base64.b64encode(encoded).decode("ascii")


def qr_svg_data_uri(*, payload: str) -> str:
    """The payload as a QR symbol in an SVG data URI: vector, so it stays sharp in the PDF."""
    code = qrcode.QRCode(
        error_correction=qrcode.constants.ERROR_CORRECT_M,
        box_size=10,
        border=4,  # the quiet zone the QR standard asks for; scanners need it
        image_factory=SvgPathImage,
    )
    code.add_data(payload)
    code.make(fit=True)
    svg = code.make_image().to_string(encoding="unicode")
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")
