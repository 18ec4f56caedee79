"""The merchant API's reading of invoices and credit notes (SPEC §5): their filters and output.

Amounts are strings with exactly the currency's decimals, as everywhere in the API.
"""

from __future__ import annotations

import re
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from wasla.invoicing.collection_status import invoice_collection_state
from wasla.invoicing.models import CreditNote, Invoice, InvoicePayment
from wasla.invoicing.rendering import supply_period
from wasla.invoicing.selectors import LISTED_INVOICE_STATUSES
from wasla.invoicing.zatca.selectors import zatca_summary

from .serializers import AmountField

FIRST_YEAR, LAST_YEAR = 2000, 2200


class _DigitsField(serializers.Field):
    """A whole number written in ASCII digits only, within bounds: "2026", not "2026.0",
    " 2026", "+2026" or "٢٠٢٦" (which int() would all take)."""

    default_error_messages = {"invalid": "An integer from {low} to {high}, in {digits} digits."}

    def __init__(self, *, low: int, high: int, digits: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.low, self.high, self.digits = low, high, digits
        self.pattern = re.compile(rf"[0-9]{{{digits}}}")

    def to_internal_value(self, data: Any) -> int:
        text = str(data) if isinstance(data, int) and not isinstance(data, bool) else data
        if not isinstance(text, str) or not self.pattern.fullmatch(text):
            self.fail("invalid", low=self.low, high=self.high, digits=self.digits)
        value = int(text)
        if not self.low <= value <= self.high:
            self.fail("invalid", low=self.low, high=self.high, digits=self.digits)
        return value

    def to_representation(self, value: int) -> int:
        return value


@extend_schema_field({"type": "integer", "minimum": FIRST_YEAR, "maximum": LAST_YEAR})
class YearField(_DigitsField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(low=FIRST_YEAR, high=LAST_YEAR, digits="4", **kwargs)


@extend_schema_field({"type": "integer", "minimum": 1, "maximum": 12})
class MonthField(_DigitsField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(low=1, high=12, digits="1,2", **kwargs)


# Inline enums: several models call their choices "Status", and these list only what the
# merchant API can answer (drafts and void drafts are never shown).
@extend_schema_field({"type": "string", "enum": [str(s) for s in LISTED_INVOICE_STATUSES]})
class InvoiceStatusField(serializers.ChoiceField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=[str(s) for s in LISTED_INVOICE_STATUSES], **kwargs)


@extend_schema_field({"type": "string", "enum": [str(CreditNote.Status.ISSUED)]})
class CreditNoteStatusField(serializers.CharField):
    pass


class InvoiceFilter(serializers.Serializer):
    year = YearField(required=False, help_text="The year of the period the invoice bills.")
    month = MonthField(required=False, help_text="The month (1-12) of that period.")
    status = InvoiceStatusField(required=False)


class _LineOutput(serializers.Serializer):
    description_ar = serializers.CharField()
    description_en = serializers.CharField()
    quantity = serializers.IntegerField(help_text="The number of operations billed.")
    vat_rate = serializers.DecimalField(max_digits=5, decimal_places=2, help_text="Percent.")


class InvoiceLineOutput(_LineOutput):
    unit_price = AmountField("invoice.currency", help_text="Average per operation; net is exact.")
    net = AmountField("invoice.currency", source="net_amount")
    vat = AmountField("invoice.currency", source="vat_amount")


class CreditNoteLineOutput(_LineOutput):
    unit_price = AmountField("credit_note.currency", help_text="Average per operation.")
    net = AmountField("credit_note.currency", source="net_amount")
    vat = AmountField("credit_note.currency", source="vat_amount")


class PeriodOutput(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()


class CreditNoteRefOutput(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField(source="display_number")


class CollectionOutput(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=[
            "not_started",
            "pending",
            "succeeded",
            "declined",
            "requires_authentication",
            "failed",
            "overdue",
            "paid",
        ],
        help_text="Where charging the saved card stands; `overdue`: every try of the schedule "
        "failed.",
    )
    tries = serializers.IntegerField()
    next_try_at = serializers.DateTimeField(allow_null=True)
    payment_page_url = serializers.CharField(
        help_text="Where to complete the payment when the bank asks for 3-D Secure; else empty."
    )


# SPEC §6 names how an invoice was paid by its channel: a transfer staff recorded is `manual`,
# a card charged through Wasla's Stripe account is `stripe`.
PAYMENT_METHODS = {
    InvoicePayment.Method.BANK_TRANSFER: "manual",
    InvoicePayment.Method.CARD: "stripe",
}


@extend_schema_field({"type": "string", "enum": sorted(PAYMENT_METHODS.values())})
class PaymentMethodField(serializers.Field):
    def to_representation(self, value: str) -> str:
        return PAYMENT_METHODS[InvoicePayment.Method(value)]


class InvoicePaymentOutput(serializers.Serializer):
    method = PaymentMethodField()
    amount = AmountField("invoice.currency")
    paid_on = serializers.DateField()
    reference = serializers.CharField()


class ZatcaOutput(serializers.Serializer):
    uuid = serializers.UUIDField()
    icv = serializers.IntegerField(allow_null=True, help_text="Null until stamped.")
    status = serializers.ChoiceField(
        choices=["pending", "cleared", "cleared_with_warnings", "rejected"]
    )


class InvoiceOutput(serializers.ModelSerializer):
    number = serializers.CharField(source="display_number")
    status = InvoiceStatusField()
    period = serializers.SerializerMethodField()
    subtotal = AmountField()
    vat = AmountField(source="vat_total")
    total = AmountField()
    amount_paid = AmountField()
    credit_applied = AmountField(
        source="amount_credit_applied",
        help_text="The merchant's credit (from earlier credit notes) used when it was issued.",
    )
    amount_due = AmountField()
    lines = InvoiceLineOutput(many=True)
    payments = InvoicePaymentOutput(many=True, help_text="The money received on it.")
    credit_notes = CreditNoteRefOutput(many=True, help_text="Its issued credit notes.")
    collection = serializers.SerializerMethodField()
    zatca = serializers.SerializerMethodField()

    class Meta:
        model = Invoice
        fields = [
            "id",
            "number",
            "status",
            "year",
            "month",
            "period",
            "currency",
            "total_operations",
            "subtotal",
            "vat",
            "total",
            "amount_paid",
            "credit_applied",
            "amount_due",
            "due_date",
            "issued_at",
            "paid_at",
            "lines",
            "payments",
            "credit_notes",
            "collection",
            "zatca",
        ]

    @extend_schema_field(ZatcaOutput(allow_null=True))
    def get_zatca(self, invoice: Invoice) -> dict[str, Any] | None:
        """ZATCA e-invoicing: the document's UUID, its ICV once stamped, its clearance."""
        return zatca_summary(issued=invoice)

    @extend_schema_field(CollectionOutput)
    def get_collection(self, invoice: Invoice) -> dict[str, Any]:
        """Collection by the merchant's saved card (Wasla's Stripe account)."""
        state = invoice_collection_state(invoice)
        return dict(CollectionOutput(state).data)

    @extend_schema_field(PeriodOutput)
    def get_period(self, invoice: Invoice) -> dict[str, Any]:
        """The supply period: the calendar month the invoice bills."""
        start, end = supply_period(year=invoice.year, month=invoice.month)
        return PeriodOutput({"start": start, "end": end}).data


class CreditNoteOutput(serializers.ModelSerializer):
    number = serializers.CharField(source="display_number")
    status = CreditNoteStatusField()
    invoice = serializers.IntegerField(source="invoice_id")
    invoice_number = serializers.CharField(source="invoice.display_number")
    subtotal = AmountField()
    vat = AmountField(source="vat_total")
    total = AmountField()
    lines = CreditNoteLineOutput(many=True)
    zatca = serializers.SerializerMethodField()

    class Meta:
        model = CreditNote
        fields = [
            "id",
            "number",
            "status",
            "invoice",
            "invoice_number",
            "currency",
            "reason",
            "subtotal",
            "vat",
            "total",
            "issued_at",
            "lines",
            "zatca",
        ]

    @extend_schema_field(ZatcaOutput(allow_null=True))
    def get_zatca(self, note: CreditNote) -> dict[str, Any] | None:
        return zatca_summary(issued=note)
