"""ZATCA's QR payload: tag-length-value fields, base64.

Each field is one tag byte, one length byte (the byte length of the value) and the value: UTF-8
text for tags 1-7, raw bytes for tags 8 and 9 (a DER public key and a DER signature, as in
ZATCA's signed samples). One length byte is the format's own limit (lengths 128-255 are one
plain byte too, not a BER long form): a value over 255 bytes is refused rather than truncated,
because a truncated seller name would be a QR that no longer matches the invoice.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from enum import IntEnum

_MAX_VALUE_BYTES = 255


class QrError(ValueError):
    """A TLV payload that cannot be encoded or decoded."""


class ZatcaTag(IntEnum):
    SELLER_NAME = 1
    VAT_NUMBER = 2
    TIMESTAMP = 3
    TOTAL_WITH_VAT = 4
    VAT_TOTAL = 5
    INVOICE_HASH = 6
    SIGNATURE = 7
    PUBLIC_KEY = 8
    CERTIFICATE_SIGNATURE = 9  # simplified documents only


def tlv_encode(*, fields: Sequence[tuple[int, str | bytes]]) -> bytes:
    """Text values go in as UTF-8, bytes as they are."""
    out = bytearray()
    for tag, value in fields:
        if not 1 <= tag <= 255:
            raise QrError(f"a tag is one byte (1-255), got {tag}")
        data = value.encode("utf-8") if isinstance(value, str) else value
        if len(data) > _MAX_VALUE_BYTES:
            raise QrError(f"tag {tag}: {len(data)} bytes do not fit a one-byte length")
        out += bytes((tag, len(data))) + data
    return bytes(out)


def tlv_decode(*, data: bytes) -> dict[int, str]:
    """Every value as text: for payloads of text tags only (tags 1-7)."""
    fields: dict[int, str] = {}
    for tag, value in tlv_decode_bytes(data=data).items():
        try:
            fields[tag] = value.decode("utf-8")
        except UnicodeDecodeError:
            raise QrError(f"tag {tag} is not UTF-8") from None
    return fields


def tlv_decode_bytes(*, data: bytes) -> dict[int, bytes]:
    """Every value as the bytes it is (what a payload with tags 8 and 9 needs)."""
    fields: dict[int, bytes] = {}
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
        fields[tag] = value
        position += 2 + length
    return fields


def zatca_qr_decode(*, payload: str) -> dict[int, str]:
    """The fields of a base64 QR payload, by tag number (what a scanning app reads)."""
    return tlv_decode(data=_base64_decode(payload))


def zatca_qr_decode_bytes(*, payload: str) -> dict[int, bytes]:
    """The fields of a stamped document's QR (tags 8 and 9 are binary), by tag number."""
    return tlv_decode_bytes(data=_base64_decode(payload))


def _base64_decode(payload: str) -> bytes:
    try:
        return base64.b64decode(payload, validate=True)
    except binascii.Error:
        raise QrError("the QR payload is not base64") from None
