"""InvoiceDocument refuses figures that do not add up and parties that cannot be invoiced."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from testsupport.documents import make_buyer, make_credit_note, make_invoice, make_line
from wasla.invoicing.documents.document import (
    DocumentError,
    DocumentKind,
    NationalAddress,
    PaymentInstructions,
    TaxParty,
    VatBreakdown,
    vat_breakdown_for,
)


def test_valid_invoice_and_credit_note_build() -> None:
    invoice = make_invoice(amount_paid=Decimal("100.00"))
    assert invoice.kind == "388"
    assert (invoice.subtotal, invoice.vat_total, invoice.total) == (
        Decimal("1510.00"),
        Decimal("226.50"),
        Decimal("1736.50"),
    )
    assert invoice.amount_due == Decimal("1636.50")
    note = make_credit_note()
    assert note.kind == "381"
    assert note.is_credit_note


def test_issue_timestamp_is_riyadh_time_whatever_the_zone_given() -> None:
    # 00:30:15 in Tokyo (UTC+9) is 15:30:15 UTC, 18:30:15 in Riyadh (UTC+3).
    tokyo = datetime(2025, 2, 2, 0, 30, 15, 999, tzinfo=ZoneInfo("Asia/Tokyo"))
    assert make_invoice(issued_at=tokyo).issue_timestamp == "2025-02-01T18:30:15"


def test_vat_is_computed_once_per_rate_on_the_aggregate() -> None:
    # Each 0.10 line carries 0.015 → 0.02 VAT; the 0.30 aggregate carries 0.045 → 0.05, not 0.06.
    lines = (
        make_line(quantity=Decimal("1"), unit_price=Decimal("0.10")),
        make_line(quantity=Decimal("1"), unit_price=Decimal("0.10")),
        make_line(quantity=Decimal("1"), unit_price=Decimal("0.10")),
        make_line(quantity=Decimal("2"), unit_price=Decimal("5.00"), vat_rate=Decimal("0")),
    )
    assert [line.vat_amount for line in lines[:3]] == [Decimal("0.02")] * 3
    assert vat_breakdown_for(lines=lines, currency="SAR") == (
        VatBreakdown(
            taxable_amount=Decimal("0.30"), rate=Decimal("15"), vat_amount=Decimal("0.05")
        ),
        VatBreakdown(
            taxable_amount=Decimal("10.00"), rate=Decimal("0"), vat_amount=Decimal("0.00")
        ),
    )
    document = make_invoice(lines=lines)
    assert (document.subtotal, document.vat_total, document.total) == (
        Decimal("10.30"),
        Decimal("0.05"),
        Decimal("10.35"),
    )


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"subtotal": Decimal("1510.01")}, "subtotal"),
        ({"vat_total": Decimal("226.49")}, "VAT total"),
        ({"total": Decimal("1736.51")}, "total is not"),
        ({"amount_due": Decimal("0.00")}, "amount due"),
        ({"amount_paid": Decimal("2000.00"), "amount_due": Decimal("-263.50")}, "negative"),
        ({"vat_breakdown": ()}, "breakdown"),
        ({"lines": ()}, "at least one line"),
        ({"subtotal": Decimal("1510.001")}, "more decimals than SAR"),
        ({"currency": "XXX"}, "unknown currency"),
        ({"issued_at": datetime(2025, 2, 1, 9, 0)}, "aware"),  # noqa: DTZ001 — the naive case
        ({"supply_start": date(2025, 2, 1)}, "supply period"),
        ({"due_date": date(2025, 1, 31)}, "due date is before"),
        ({"due_date": None}, "due date and payment"),
        ({"payment": None}, "due date and payment"),
        ({"kind": DocumentKind.CREDIT_NOTE}, "names the invoice"),
        ({"number": " "}, "number"),
    ],
)
def test_invoice_that_does_not_hold_together_is_refused(
    changes: dict[str, object], message: str
) -> None:
    with pytest.raises(DocumentError, match=message):
        dataclasses.replace(make_invoice(), **changes)


def test_line_amounts_must_match_quantity_price_and_rate() -> None:
    line = make_line()
    wrong_net = dataclasses.replace(line, net_amount=Decimal("1234.01"))
    with pytest.raises(DocumentError, match="net amount"):
        make_invoice(lines=(wrong_net,), subtotal=Decimal("1234.01"))
    wrong_vat = dataclasses.replace(line, vat_amount=Decimal("185.11"))
    with pytest.raises(DocumentError, match="VAT amount"):
        make_invoice(lines=(wrong_vat,))
    with pytest.raises(DocumentError, match="quantity"):
        dataclasses.replace(line, quantity=Decimal("0"))
    with pytest.raises(DocumentError, match="percentage"):
        dataclasses.replace(line, vat_rate=Decimal("101"))
    with pytest.raises(DocumentError, match="Decimal"):
        dataclasses.replace(line, quantity=1.5)


def test_kwd_amounts_keep_three_decimals() -> None:
    document = make_invoice(
        currency="KWD", lines=(make_line(unit_price=Decimal("0.125"), currency="KWD"),)
    )
    # 1234 x 0.125 = 154.250; 15% VAT is 23.1375 → 23.138 (half up); total 177.388.
    assert (document.vat_total, document.total) == (Decimal("23.138"), Decimal("177.388"))


def test_credit_note_needs_its_original_and_an_invoice_must_not_have_one() -> None:
    note = make_credit_note()
    with pytest.raises(DocumentError, match="names the invoice"):
        dataclasses.replace(note, credit_note_of=None)
    with pytest.raises(DocumentError, match="only a credit note"):
        dataclasses.replace(make_invoice(), credit_note_of=note.credit_note_of)


@pytest.mark.parametrize("vat_number", ["31012239350000", "210122393500003", "31012239350000x", ""])
def test_vat_number_is_15_digits_between_3s(vat_number: str) -> None:
    with pytest.raises(DocumentError, match="VAT number"):
        make_buyer(vat_number=vat_number)


def test_saudi_national_address_and_iban_are_checked() -> None:
    address = make_buyer().address
    with pytest.raises(DocumentError, match="building number"):
        dataclasses.replace(address, building_number="12")
    with pytest.raises(DocumentError, match="postal code"):
        dataclasses.replace(address, postal_code="1234")
    with pytest.raises(DocumentError, match="alpha-2"):
        dataclasses.replace(address, country="KSA")
    # Outside Saudi Arabia the national-address formats do not apply.
    assert (
        NationalAddress(
            building_number="10",
            street="Sheikh Zayed Rd",
            district="Trade Centre",
            city="Dubai",
            postal_code="0",
            country="AE",
        ).country
        == "AE"
    )
    with pytest.raises(DocumentError, match="check digits"):
        PaymentInstructions(iban="SA0480000000608010167519", bank_name="Al Rajhi Bank")
    with pytest.raises(DocumentError, match="not an IBAN"):
        PaymentInstructions(iban="SA03 8000 0000 6080 1016 7519", bank_name="Al Rajhi Bank")
    with pytest.raises(DocumentError, match="commercial registration"):
        TaxParty(**{**_party_fields(), "cr_number": "CR-1"})


def _party_fields() -> dict[str, object]:
    buyer = make_buyer()
    return {field.name: getattr(buyer, field.name) for field in dataclasses.fields(buyer)}
