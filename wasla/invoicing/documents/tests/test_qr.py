"""The ZATCA QR payload: the TLV codec (text and binary values) and tags 1-5, byte for byte."""

from __future__ import annotations

import base64

import pytest

from fatoora.tlv import (
    QrError,
    ZatcaTag,
    tlv_decode,
    tlv_decode_bytes,
    tlv_encode,
    zatca_qr_decode,
    zatca_qr_decode_bytes,
)
from testsupport.documents import make_invoice, make_seller
from wasla.invoicing.documents.qr import zatca_qr_tlv


def test_tlv_of_zatcas_published_example_is_byte_exact() -> None:
    fields = [
        (1, "Bobs Records"),
        (2, "310122393500003"),
        (3, "2022-04-25T15:30:00Z"),
        (4, "1000.00"),
        (5, "150.00"),
    ]
    # Tag byte, length byte, value: written out by hand.
    expected = (
        b"\x01\x0cBobs Records"
        b"\x02\x0f310122393500003"
        b"\x03\x142022-04-25T15:30:00Z"
        b"\x04\x071000.00"
        b"\x05\x06150.00"
    )
    assert tlv_encode(fields=fields) == expected
    # The base64 string of the example in ZATCA's QR code guideline.
    assert base64.b64encode(expected).decode() == (
        "AQxCb2JzIFJlY29yZHMCDzMxMDEyMjM5MzUwMDAwMwMUMjAyMi0wNC0yNVQxNTozMDowMFoEBzEwMDAuMDAFBjE1MC4wMA=="
    )


def test_invoice_payload_is_byte_exact_with_arabic_seller_name() -> None:
    payload = zatca_qr_tlv(document=make_invoice())

    # "شركة وصلة للمدفوعات": 17 Arabic letters of 2 UTF-8 bytes each and 2 spaces = 36 bytes.
    # 06:30:15 UTC is 09:30:15 in Riyadh; 1234 x 1.00 + 276.00 = 1510.00, VAT 15% = 226.50.
    expected = (
        b"\x01\x24"
        + "شركة وصلة للمدفوعات".encode()
        + b"\x02\x0f310122393500003"
        + b"\x03\x132025-02-01T09:30:15"
        + b"\x04\x071736.50"
        + b"\x05\x06226.50"
    )
    assert base64.b64decode(payload) == expected


def test_decoder_reads_back_what_the_encoder_wrote() -> None:
    fields = [(1, "مؤسسة النخيل"), (2, "300075588700003"), (3, "x"), (4, ""), (9, "z" * 255)]
    encoded = base64.b64encode(tlv_encode(fields=fields)).decode()
    assert zatca_qr_decode(payload=encoded) == dict(fields)


def test_value_over_255_bytes_is_refused_not_truncated() -> None:
    # 128 Arabic letters are 256 UTF-8 bytes although only 128 characters.
    with pytest.raises(QrError, match="256 bytes"):
        tlv_encode(fields=[(1, "ب" * 128)])
    long_name = make_seller(legal_name_ar="ب" * 128)
    with pytest.raises(QrError):
        zatca_qr_tlv(document=make_invoice(seller=long_name))
    assert len(tlv_encode(fields=[(1, "ب" * 127 + "x")])) == 2 + 255


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x01", "truncated"),
        (b"\x01\x05abc", "5 bytes announced, 3 present"),
        (b"\x01\x01a\x01\x01b", "twice"),
        (b"\x01\x01\xff", "not UTF-8"),
    ],
)
def test_decoder_refuses_broken_payloads(data: bytes, message: str) -> None:
    with pytest.raises(QrError, match=message):
        tlv_decode(data=data)


def test_decoder_refuses_what_is_not_base64() -> None:
    with pytest.raises(QrError, match="base64"):
        zatca_qr_decode(payload="not base64!")


@pytest.mark.parametrize("tag", [0, 256])
def test_tag_must_fit_one_byte(tag: int) -> None:
    with pytest.raises(QrError, match="one byte"):
        tlv_encode(fields=[(tag, "x")])


def test_binary_values_of_the_stamp_tags_round_trip() -> None:
    public_key = bytes(range(88))  # tag 8 is DER bytes, not text
    fields = [(ZatcaTag.SELLER_NAME, "وصلة"), (ZatcaTag.PUBLIC_KEY, public_key)]
    encoded = base64.b64encode(tlv_encode(fields=fields)).decode()
    assert zatca_qr_decode_bytes(payload=encoded) == {1: "وصلة".encode(), 8: public_key}


def test_lengths_from_128_to_255_are_one_plain_byte() -> None:
    # As in ZATCA's samples and SDK: no BER long form, the length byte is the length.
    encoded = tlv_encode(fields=[(ZatcaTag.SIGNATURE, b"x" * 200)])
    assert encoded[:2] == bytes((7, 200))
    assert tlv_decode_bytes(data=encoded) == {7: b"x" * 200}
