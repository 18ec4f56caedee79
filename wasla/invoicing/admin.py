"""Staff views of invoices and credit notes: read-only. Invoices are made and issued by the
monthly run, and an issued document is final (the database refuses changes anyway); a
correction is a credit note. The one thing staff do here is record a bank transfer received on
an issued invoice (its own small view, through `invoice_payment_record`). Collection by card
shows as the invoice's tries and an "overdue" column and filter (the schedule exhausted)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from wasla.common.admin_display import ViewOnly, json_display, money_display
from wasla.common.formatting import money_text

from .collection_status import overdue_q
from .models import (
    BillingCard,
    BillingRefund,
    CollectionTry,
    CreditNote,
    CreditNoteLine,
    Invoice,
    InvoiceLine,
    InvoicePayment,
    InvoiceSettlement,
    MerchantCredit,
)
from .payments import PaymentRefused, invoice_payment_record

ReadOnly = ViewOnly  # issued documents are final: the database refuses changes anyway


LINE_FIELDS = (
    "position",
    "description_ar",
    "description_en",
    "quantity",
    "unit_price_text",
    "net_amount_text",
    "vat_rate",
    "vat_amount_text",
)


class DocumentLineInline(ReadOnly, admin.TabularInline):
    """The lines of an invoice or a credit note, amounts in the document's currency."""

    fields = LINE_FIELDS
    readonly_fields = LINE_FIELDS
    extra = 0
    document = "invoice"  # the line's FK to its document

    def get_queryset(self, request: HttpRequest) -> Any:
        return super().get_queryset(request).select_related(self.document)

    def _money(self, line: Any, amount: Any) -> str:
        return money_text(amount, getattr(line, self.document).currency)

    @admin.display(description=_("unit price"))
    def unit_price_text(self, line: Any) -> str:
        return self._money(line, line.unit_price)

    @admin.display(description=_("net amount"))
    def net_amount_text(self, line: Any) -> str:
        return self._money(line, line.net_amount)

    @admin.display(description=_("VAT"))
    def vat_amount_text(self, line: Any) -> str:
        return self._money(line, line.vat_amount)


class InvoiceLineInline(DocumentLineInline):
    model = InvoiceLine
    document = "invoice"


class InvoiceSettlementInline(ReadOnly, admin.TabularInline):
    model = InvoiceSettlement
    fields = ["settlement", "fee_text"]
    readonly_fields = ["settlement", "fee_text"]
    extra = 0
    fee_text = money_display("fee", "invoice__currency", description=_("fee"))

    def get_queryset(self, request: HttpRequest) -> QuerySet[InvoiceSettlement]:
        return super().get_queryset(request).select_related("invoice", "settlement")


PAYMENT_FIELDS = ("amount_text", "method", "paid_on", "reference", "recorded_at", "recorded_by")


class InvoicePaymentInline(ReadOnly, admin.TabularInline):
    model = InvoicePayment
    fields = PAYMENT_FIELDS
    readonly_fields = PAYMENT_FIELDS
    extra = 0
    amount_text = money_display("amount", "invoice__currency", description=_("amount"))

    def get_queryset(self, request: HttpRequest) -> QuerySet[InvoicePayment]:
        return super().get_queryset(request).select_related("invoice")


CREDIT_NOTE_FIELDS = ("credit_note_link", "status", "issued_at", "total_text", "reason")


class CreditNoteInline(ReadOnly, admin.TabularInline):
    """An issued invoice is corrected only by credit notes: they belong on its page."""

    model = CreditNote
    fields = CREDIT_NOTE_FIELDS
    readonly_fields = CREDIT_NOTE_FIELDS
    extra = 0
    total_text = money_display("total", description=_("total"))

    @admin.display(description=_("credit note"))
    def credit_note_link(self, note: CreditNote) -> str:
        url = reverse("admin:invoicing_creditnote_change", args=[note.pk])
        return format_html('<a href="{}">{}</a>', url, note.display_number or note.pk)


TRY_FIELDS = (
    "number",
    "status",
    "payment_intent_id",
    "decline_code",
    "decline_message",
    "attempted_at",
    "next_try_at",
)


class CollectionTryInline(ReadOnly, admin.TabularInline):
    model = CollectionTry
    fields = TRY_FIELDS
    readonly_fields = TRY_FIELDS
    extra = 0


class OverdueFilter(admin.SimpleListFilter):
    title = _("overdue")
    parameter_name = "overdue"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("yes", _("Overdue")), ("no", _("Not overdue"))]

    def queryset(self, request: HttpRequest, queryset: Any) -> Any:
        if self.value() == "yes":
            return queryset.filter(overdue_q())
        if self.value() == "no":
            return queryset.exclude(overdue_q())
        return queryset


class BankTransferForm(forms.Form):
    amount = forms.DecimalField(label=_("Amount"), max_digits=14, decimal_places=3)
    paid_on = forms.DateField(label=_("Received on"), help_text=_("YYYY-MM-DD"))
    reference = forms.CharField(label=_("Bank reference"), max_length=100)


class DocumentAdmin(ReadOnly, admin.ModelAdmin):
    """What an invoice's and a credit note's pages share: number, amounts, parties."""

    subtotal_text = money_display("subtotal", description=_("subtotal (excl. VAT)"))
    vat_total_text = money_display("vat_total", description=_("VAT"))
    total_text = money_display("total", description=_("total"))
    buyer_snapshot_pretty = json_display("buyer_snapshot", description=_("buyer"))
    seller_snapshot_pretty = json_display("seller_snapshot", description=_("seller"))

    @admin.display(description=_("number"), ordering="number")
    def display_number(self, document: Invoice | CreditNote) -> str:
        return document.display_number or str(_("draft"))


@admin.register(Invoice)
class InvoiceAdmin(DocumentAdmin):
    list_display = [
        "display_number",
        "tenant",
        "year",
        "month",
        "total_text",
        "amount_due_text",
        "status",
        "overdue",
        "issued_at",
    ]
    list_filter = [
        OverdueFilter,
        "tenant",
        "year",
        "month",
        "status",
        "currency",
        "issued_at",
        "due_date",
    ]
    list_select_related = ["tenant"]
    search_fields = ["number", "tenant__slug", "tenant__name"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    *("display_number", "tenant", "year", "month", "currency", "status"),
                    *("total_operations", "issued_at", "due_date", "paid_at", "record_payment"),
                ]
            },
        ),
        (
            _("Amounts"),
            {
                "fields": [
                    *("subtotal_text", "vat_total_text", "total_text", "amount_paid_text"),
                    *("amount_credited_text", "amount_credit_applied_text", "amount_due_text"),
                ]
            },
        ),
        (
            _("Parties as issued"),
            {"fields": ["buyer_snapshot_pretty", "seller_snapshot_pretty"]},
        ),
    ]
    readonly_fields = (
        *("display_number", "record_payment", "subtotal_text", "vat_total_text", "total_text"),
        *("amount_paid_text", "amount_credited_text", "amount_credit_applied_text"),
        *("amount_due_text", "buyer_snapshot_pretty", "seller_snapshot_pretty"),
    )
    inlines = [
        InvoiceLineInline,
        InvoiceSettlementInline,
        CreditNoteInline,
        InvoicePaymentInline,
        CollectionTryInline,
    ]
    amount_paid_text = money_display("amount_paid", description=_("paid"))
    amount_credited_text = money_display("amount_credited", description=_("credited"))
    amount_credit_applied_text = money_display(
        "amount_credit_applied", description=_("merchant credit used")
    )
    amount_due_text = money_display("amount_due", description=_("amount due"))

    def get_queryset(self, request: HttpRequest) -> Any:
        return super().get_queryset(request).annotate(is_overdue=overdue_q())

    @admin.display(description=_("overdue"), boolean=True, ordering="is_overdue")
    def overdue(self, invoice: Invoice) -> bool:
        return bool(getattr(invoice, "is_overdue", False))

    @admin.display(description=_("Payment"))
    def record_payment(self, invoice: Invoice) -> str:
        if invoice.status != Invoice.Status.ISSUED:
            return ""
        url = reverse("admin:invoicing_invoice_record_payment", args=[invoice.pk])
        return format_html('<a href="{}">{}</a>', url, _("Record a bank transfer"))

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view(self.record_payment_view)
        own = path("<int:pk>/record-payment/", view, name="invoicing_invoice_record_payment")
        return [own, *super().get_urls()]

    def record_payment_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        if not request.user.has_perm("invoicing.add_invoicepayment"):
            raise PermissionDenied
        invoice = get_object_or_404(Invoice, pk=pk)
        form = BankTransferForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                recorded = invoice_payment_record(
                    invoice=invoice,
                    amount=form.cleaned_data["amount"],
                    paid_on=form.cleaned_data["paid_on"],
                    reference=form.cleaned_data["reference"],
                    method=InvoicePayment.Method.BANK_TRANSFER,
                    actor=f"admin:{request.user.get_username()}",
                    now=timezone.now(),
                )
            except PaymentRefused as error:
                form.add_error(None, str(error))
            else:
                message = _("Transfer recorded.") if recorded.created else _("Already recorded.")
                messages.success(request, message)
                change = reverse("admin:invoicing_invoice_change", args=[invoice.pk])
                return HttpResponseRedirect(change)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Record a bank transfer"),
            "invoice": invoice,
            "form": form,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "invoicing/admin/record_payment.html", context)


class CreditNoteLineInline(DocumentLineInline):
    model = CreditNoteLine
    document = "credit_note"


@admin.register(CreditNote)
class CreditNoteAdmin(DocumentAdmin):
    list_display = ["display_number", "tenant", "invoice", "total_text", "status", "issued_at"]
    list_filter = ["tenant", "status", "currency", "issued_at"]
    list_select_related = ["tenant", "invoice"]
    search_fields = ["number", "invoice__number", "tenant__slug", "reason"]
    fieldsets = [
        (
            None,
            {"fields": ["display_number", "tenant", "invoice", "currency", "status", "reason"]},
        ),
        (_("Amounts"), {"fields": ["subtotal_text", "vat_total_text", "total_text"]}),
        (
            _("Parties as issued"),
            {"fields": ["buyer_snapshot_pretty", "seller_snapshot_pretty"]},
        ),
        (_("Times"), {"fields": ["issued_at", "created_at"]}),
    ]
    readonly_fields = (
        *("display_number", "subtotal_text", "vat_total_text", "total_text"),
        *("buyer_snapshot_pretty", "seller_snapshot_pretty"),
    )
    inlines = [CreditNoteLineInline]


@admin.register(MerchantCredit)
class MerchantCreditAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ["credit_note", "tenant", "amount_text", "created_at"]
    list_filter = ["tenant", "currency", "created_at"]
    list_select_related = ["tenant", "credit_note"]
    search_fields = ["tenant__slug", "credit_note__number"]
    fields = ["tenant", "credit_note", "amount_text", "currency", "created_at"]
    readonly_fields = ["amount_text"]

    amount_text = money_display("amount", description=_("amount"))


@admin.register(BillingCard)
class BillingCardAdmin(ReadOnly, admin.ModelAdmin):
    """The card Wasla charges a merchant's invoices to: the Stripe ids are not staff's business
    here (Stripe's dashboard has them)."""

    list_display = ["tenant", "brand", "last4", "exp_month", "exp_year", "saved_at"]
    list_filter = ["tenant", "brand", "saved_at"]
    list_select_related = ["tenant"]
    search_fields = ["tenant__slug", "last4"]
    exclude = ["stripe_customer_id", "payment_method_id"]


@admin.register(BillingRefund)
class BillingRefundAdmin(ReadOnly, admin.ModelAdmin):
    """Card payments given back because their invoice could not take them (card_payments.py)."""

    list_display = ["invoice", "tenant", "amount_text", "status", "created_at"]
    list_filter = ["tenant", "status", "currency", "created_at"]
    list_select_related = ["tenant", "invoice"]
    search_fields = ["payment_intent_id", "stripe_refund_id", "invoice__number"]
    fields = [
        *("tenant", "invoice", "payment_intent_id", "amount_text", "currency", "reason"),
        *("status", "stripe_refund_id", "failure_message", "created_at", "updated_at"),
    ]
    readonly_fields = ["amount_text"]

    amount_text = money_display("amount", description=_("amount"))
