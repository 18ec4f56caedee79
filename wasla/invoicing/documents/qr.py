"""The ZATCA QR: tags 1-5 of ZATCA's TLV encoding, base64, and its image for the PDF.

Each field is one tag byte, one length byte (the UTF-8 byte length of the value) and the UTF-8
value. One length byte is the format's own limit: a value over 255 bytes is refused rather
than truncated, because a truncated seller name would be a QR that no longer matches the
invoice. Tags 6-9 (hash, signature, public key, stamp) belong to the signing step, not here.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from enum import IntEnum

import qrcode
import qrcode.constants
from qrcode.image.svg import SvgPathImage

from wasla.common.money import format_amount
from wasla.invoicing.documents.document import InvoiceDocument

_MAX_VALUE_BYTES = 255


class QrError(ValueError):
    """A TLV payload that cannot be encoded or decoded."""


class ZatcaTag(IntEnum):
    SELLER_NAME = 1
    VAT_NUMBER = 2
    TIMESTAMP = 3
    TOTAL_WITH_VAT = 4
    VAT_TOTAL = 5


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


def tlv_encode(*, fields: Sequence[tuple[int, str]]) -> bytes:
    out = bytearray()
    for tag, value in fields:
        if not 1 <= tag <= 255:
            raise QrError(f"a tag is one byte (1-255), got {tag}")
        data = value.encode("utf-8")
        if len(data) > _MAX_VALUE_BYTES:
            raise QrError(f"tag {tag}: {len(data)} bytes do not fit a one-byte length")
        out += bytes((tag, len(data))) + data
    return bytes(out)


def tlv_decode(*, data: bytes) -> dict[int, str]:
    fields: dict[int, str] = {}
    position = 0
    while position < len(data):
        if position + 2 > len(data):
            raise QrError(f"truncated field header at byte {position}")
        tag, length = data[position], data[position + 1]
        value = data[position + 2 : position + 2 + length]
        if len(value) != length:
            raise QrError(f"tag {tag}: {length} bytes announced, {len(value)} present")
        if tag in fields:
            raise QrError(f"tag {tag} appears twice")
        try:
            fields[tag] = value.decode("utf-8")
        except UnicodeDecodeError:
            raise QrError(f"tag {tag} is not UTF-8") from None
        position += 2 + length
    return fields


def zatca_qr_tlv(*, document: InvoiceDocument) -> str:
    """The base64 QR payload (tags 1-5) of a tax invoice or credit note."""
    encoded = tlv_encode(fields=zatca_qr_fields(document=document))
    return base64.b64encode(encoded).decode("ascii")


def zatca_qr_decode(*, payload: str) -> dict[int, str]:
    """The fields of a base64 QR payload, by tag number (what a scanning app reads)."""
    try:
        data = base64.b64decode(payload, validate=True)
    except binascii.Error:
        raise QrError("the QR payload is not base64") from None
    return tlv_decode(data=data)


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
