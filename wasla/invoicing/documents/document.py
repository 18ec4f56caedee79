"""The one typed object every rendering of a tax invoice or credit note is made from.

`InvoiceDocument` is what the PDF template, the ZATCA QR (and later the UBL XML) read; none of
them computes an amount of its own. It is plain frozen dataclasses, so the invoicing app fills
it from its models and this package never imports one.

Invariants checked on construction (a document that breaks one cannot exist):
- every amount is a Decimal that needs no rounding in the document's currency;
- each line's net is quantity x unit price and its VAT is net x rate, both rounded once;
- the VAT breakdown has one entry per rate, VAT computed once on the aggregate of that rate;
- subtotal = Σ taxable amounts, VAT total = Σ breakdown VAT, total = subtotal + VAT total,
  amount due = total - amount paid - amount credited (by credit notes) - credit applied (the
  merchant's earlier credit, used at issue; shown above the amount due, never as a line);
- a credit note names the invoice it corrects and why; a tax invoice has a due date and
  payment instructions.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from zoneinfo import ZoneInfo

from wasla.common.money import MoneyError, currency_exponent, is_exact, round_money

# ZATCA reads issue dates and times as Saudi local time (the SDK samples carry no offset);
# Riyadh has no daylight saving, so one fixed zone is exact.
KSA_TIME_ZONE = ZoneInfo("Asia/Riyadh")

# Tenant tax profile rule (SPEC): 15 digits, first and last digit 3.
_VAT_NUMBER = re.compile(r"3\d{13}3")
_DIGITS = re.compile(r"\d+")
_HUNDRED = Decimal(100)


class DocumentError(ValueError):
    """A document whose figures or parties do not hold together."""


class DocumentKind(StrEnum):
    """UNTDID 1001 document type codes, as ZATCA uses them."""

    TAX_INVOICE = "388"
    CREDIT_NOTE = "381"


@dataclass(frozen=True, slots=True, kw_only=True)
class NationalAddress:
    building_number: str
    street: str
    district: str
    city: str
    postal_code: str
    country: str  # ISO 3166-1 alpha-2

    def __post_init__(self) -> None:
        _require_text(
            building_number=self.building_number,
            street=self.street,
            district=self.district,
            city=self.city,
            postal_code=self.postal_code,
        )
        if not re.fullmatch(r"[A-Z]{2}", self.country):
            raise DocumentError(f"country must be an ISO 3166 alpha-2 code, got {self.country!r}")
        # The Saudi national address has a 4-digit building number and a 5-digit postal code.
        if self.country == "SA":
            if not re.fullmatch(r"\d{4}", self.building_number):
                raise DocumentError("a Saudi building number has 4 digits")
            if not re.fullmatch(r"\d{5}", self.postal_code):
                raise DocumentError("a Saudi postal code has 5 digits")


@dataclass(frozen=True, slots=True, kw_only=True)
class TaxParty:
    legal_name_ar: str
    legal_name_en: str
    vat_number: str
    cr_number: str
    address: NationalAddress

    def __post_init__(self) -> None:
        _require_text(legal_name_ar=self.legal_name_ar, legal_name_en=self.legal_name_en)
        if not _VAT_NUMBER.fullmatch(self.vat_number):
            raise DocumentError(
                f"VAT number {self.vat_number!r} is not 15 digits starting and ending with 3"
            )
        if not _DIGITS.fullmatch(self.cr_number):
            raise DocumentError(f"commercial registration {self.cr_number!r} is not digits")


@dataclass(frozen=True, slots=True, kw_only=True)
class DocumentLine:
    description_ar: str
    description_en: str
    quantity: Decimal
    unit_price: Decimal
    net_amount: Decimal
    vat_rate: Decimal  # percent, e.g. Decimal("15.00")
    vat_amount: Decimal

    def __post_init__(self) -> None:
        _require_text(description_ar=self.description_ar, description_en=self.description_en)
        _require_decimal(quantity=self.quantity, vat_rate=self.vat_rate)
        if self.quantity <= 0:
            raise DocumentError(f"line quantity must be positive, got {self.quantity}")
        _require_rate(self.vat_rate)

    @property
    def amount_with_vat(self) -> Decimal:
        return self.net_amount + self.vat_amount


@dataclass(frozen=True, slots=True, kw_only=True)
class VatBreakdown:
    taxable_amount: Decimal
    rate: Decimal  # percent
    vat_amount: Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class PaymentInstructions:
    iban: str
    bank_name: str

    def __post_init__(self) -> None:
        _require_text(bank_name=self.bank_name)
        if not re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]{11,30}", self.iban):
            raise DocumentError(f"not an IBAN (no spaces, upper case): {self.iban!r}")
        if not _iban_checksum_ok(self.iban):
            raise DocumentError(f"IBAN {self.iban!r} fails its check digits")


@dataclass(frozen=True, slots=True, kw_only=True)
class CreditNoteReference:
    """What a credit note corrects (UBL BillingReference) and why (KSA-10)."""

    original_invoice_number: str
    reason: str

    def __post_init__(self) -> None:
        _require_text(original_invoice_number=self.original_invoice_number, reason=self.reason)


@dataclass(frozen=True, slots=True, kw_only=True)
class InvoiceDocument:
    kind: DocumentKind
    number: str
    issued_at: datetime
    supply_start: date
    supply_end: date
    currency: str
    seller: TaxParty
    buyer: TaxParty
    lines: tuple[DocumentLine, ...]
    vat_breakdown: tuple[VatBreakdown, ...]
    subtotal: Decimal
    vat_total: Decimal
    total: Decimal
    amount_paid: Decimal
    amount_due: Decimal
    amount_credited: Decimal = Decimal(0)
    credit_applied: Decimal = Decimal(0)
    due_date: date | None = None
    payment: PaymentInstructions | None = None
    credit_note_of: CreditNoteReference | None = None

    def __post_init__(self) -> None:
        _require_text(number=self.number)
        try:
            currency_exponent(self.currency)
        except MoneyError as error:
            raise DocumentError(str(error)) from None
        self._check_dates()
        self._check_kind()
        self._check_amounts()

    @property
    def is_credit_note(self) -> bool:
        return self.kind is DocumentKind.CREDIT_NOTE

    @property
    def issued_at_ksa(self) -> datetime:
        return self.issued_at.astimezone(KSA_TIME_ZONE).replace(microsecond=0)

    @property
    def issue_timestamp(self) -> str:
        """ISO 8601 issue time as ZATCA writes it (QR tag 3, UBL IssueDate + IssueTime)."""
        return self.issued_at_ksa.replace(tzinfo=None).isoformat(timespec="seconds")

    def _check_dates(self) -> None:
        if self.issued_at.utcoffset() is None:
            raise DocumentError("issued_at must be an aware datetime")
        if self.supply_start > self.supply_end:
            raise DocumentError("the supply period ends before it starts")
        if self.due_date is not None and self.due_date < self.issued_at_ksa.date():
            raise DocumentError("the due date is before the issue date")

    def _check_kind(self) -> None:
        if self.is_credit_note:
            if self.credit_note_of is None:
                raise DocumentError("a credit note names the invoice it corrects and why")
        else:
            if self.credit_note_of is not None:
                raise DocumentError("only a credit note refers to an original invoice")
            if self.due_date is None or self.payment is None:
                raise DocumentError("a tax invoice has a due date and payment instructions")

    def _check_amounts(self) -> None:
        if not self.lines:
            raise DocumentError("a document has at least one line")
        currency = self.currency
        for index, line in enumerate(self.lines, start=1):
            _require_money(
                currency,
                unit_price=line.unit_price,
                net_amount=line.net_amount,
                vat_amount=line.vat_amount,
            )
            if line.net_amount != round_money(line.quantity * line.unit_price, currency):
                raise DocumentError(f"line {index}: net amount is not quantity x unit price")
            if line.vat_amount != _vat_of(line.net_amount, line.vat_rate, currency):
                raise DocumentError(f"line {index}: VAT amount is not net x rate")
        for entry in self.vat_breakdown:
            _require_money(currency, taxable=entry.taxable_amount, vat=entry.vat_amount)
        expected = vat_breakdown_for(lines=self.lines, currency=currency)
        if sorted(self.vat_breakdown, key=_by_rate) != sorted(expected, key=_by_rate):
            raise DocumentError("the VAT breakdown does not match the lines (one entry per rate)")
        _require_money(
            currency,
            subtotal=self.subtotal,
            vat_total=self.vat_total,
            total=self.total,
            amount_paid=self.amount_paid,
            amount_due=self.amount_due,
            amount_credited=self.amount_credited,
            credit_applied=self.credit_applied,
        )
        if self.subtotal != sum((e.taxable_amount for e in expected), Decimal(0)):
            raise DocumentError("the subtotal is not the sum of the line net amounts")
        if self.vat_total != sum((e.vat_amount for e in expected), Decimal(0)):
            raise DocumentError("the VAT total is not the sum of the VAT breakdown")
        if self.total != self.subtotal + self.vat_total:
            raise DocumentError("the total is not subtotal + VAT")
        settled = self.amount_paid + self.amount_credited + self.credit_applied
        if self.amount_due != self.total - settled:
            raise DocumentError(
                "the amount due is not total - amount paid - amount credited - credit applied"
            )


def vat_breakdown_for(*, lines: Iterable[DocumentLine], currency: str) -> tuple[VatBreakdown, ...]:
    """One entry per rate, highest rate first; VAT is computed once on each rate's aggregate
    (EN 16931 BR-CO-17), so it can differ by a halala from the sum of the lines' VAT."""
    taxable: dict[Decimal, Decimal] = {}
    for line in lines:
        # Decimal("15") and Decimal("15.00") are one key: equal Decimals hash alike.
        taxable[line.vat_rate] = taxable.get(line.vat_rate, Decimal(0)) + line.net_amount
    return tuple(
        VatBreakdown(
            taxable_amount=round_money(amount, currency),
            rate=rate,
            vat_amount=_vat_of(amount, rate, currency),
        )
        for rate, amount in sorted(taxable.items(), reverse=True)
    )


def _vat_of(amount: Decimal, rate: Decimal, currency: str) -> Decimal:
    return round_money(amount * rate / _HUNDRED, currency)


def _by_rate(entry: VatBreakdown) -> Decimal:
    return entry.rate


def _require_text(**values: str) -> None:
    for name, value in values.items():
        if not isinstance(value, str) or not value.strip():
            raise DocumentError(f"{name} must be a non-empty string")


def _require_decimal(**values: object) -> None:
    for name, value in values.items():
        if not isinstance(value, Decimal) or not value.is_finite():
            raise DocumentError(f"{name} must be a finite Decimal, got {value!r}")


def _require_money(currency: str, **amounts: Decimal) -> None:
    _require_decimal(**amounts)
    for name, amount in amounts.items():
        if amount < 0:
            raise DocumentError(f"{name} must not be negative, got {amount}")
        if not is_exact(amount, currency):
            raise DocumentError(f"{name} {amount} has more decimals than {currency} allows")


def _require_rate(rate: Decimal) -> None:
    if not Decimal(0) <= rate <= _HUNDRED:
        raise DocumentError(f"a VAT rate is a percentage between 0 and 100, got {rate}")


def _iban_checksum_ok(iban: str) -> bool:
    # ISO 13616: move the first four characters to the end, letters to 10..35, mod 97 == 1.
    rearranged = iban[4:] + iban[:4]
    return int("".join(str(int(char, 36)) for char in rearranged)) % 97 == 1
