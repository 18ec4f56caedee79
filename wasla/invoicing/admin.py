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
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

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


class ReadOnly:
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


LINE_FIELDS = (
    "position",
    "description_ar",
    "description_en",
    "quantity",
    "unit_price",
    "net_amount",
    "vat_rate",
    "vat_amount",
)


class InvoiceLineInline(ReadOnly, admin.TabularInline):
    model = InvoiceLine
    fields = LINE_FIELDS
    readonly_fields = LINE_FIELDS
    extra = 0


class InvoiceSettlementInline(ReadOnly, admin.TabularInline):
    model = InvoiceSettlement
    fields = ["settlement", "fee"]
    readonly_fields = ["settlement", "fee"]
    extra = 0


PAYMENT_FIELDS = ("amount", "method", "paid_on", "reference", "recorded_at", "recorded_by")


class InvoicePaymentInline(ReadOnly, admin.TabularInline):
    model = InvoicePayment
    fields = PAYMENT_FIELDS
    readonly_fields = PAYMENT_FIELDS
    extra = 0


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


@admin.register(Invoice)
class InvoiceAdmin(ReadOnly, admin.ModelAdmin):
    list_display = [
        "display_number",
        "tenant",
        "year",
        "month",
        "currency",
        "total",
        "amount_due",
        "status",
        "overdue",
        "issued_at",
    ]
    list_filter = [OverdueFilter, "tenant", "year", "month", "status", "currency"]
    list_select_related = ["tenant"]
    search_fields = ["number", "tenant__slug"]
    readonly_fields = ("record_payment",)
    inlines = [
        InvoiceLineInline,
        InvoiceSettlementInline,
        InvoicePaymentInline,
        CollectionTryInline,
    ]

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


class CreditNoteLineInline(ReadOnly, admin.TabularInline):
    model = CreditNoteLine
    fields = LINE_FIELDS
    readonly_fields = LINE_FIELDS
    extra = 0


@admin.register(CreditNote)
class CreditNoteAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ["display_number", "tenant", "invoice", "currency", "total", "status"]
    list_filter = ["tenant", "status", "currency"]
    list_select_related = ["tenant", "invoice"]
    inlines = [CreditNoteLineInline]


@admin.register(MerchantCredit)
class MerchantCreditAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ["credit_note", "tenant", "currency", "amount", "created_at"]
    list_filter = ["tenant", "currency"]
    list_select_related = ["tenant", "credit_note"]


@admin.register(BillingCard)
class BillingCardAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ["tenant", "brand", "last4", "exp_month", "exp_year", "saved_at"]
    list_select_related = ["tenant"]
    exclude = ["stripe_customer_id", "payment_method_id"]


@admin.register(BillingRefund)
class BillingRefundAdmin(ReadOnly, admin.ModelAdmin):
    """Card payments given back because their invoice could not take them (card_payments.py)."""

    list_display = ["invoice", "tenant", "amount", "currency", "status", "created_at"]
    list_filter = ["status", "tenant"]
    list_select_related = ["tenant", "invoice"]
