"""Staff views of ZATCA: the documents (read-only: the stamp is final and clearance is the
task's; ZATCA's messages readable, the XML shown as text) with rejected ones one click away and
counted in the title, and the EGS units (read-only, never a key, token or secret)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy as _

from wasla.common.admin_display import json_block
from wasla.invoicing.admin import ReadOnly

from .models import EgsUnit, ZatcaDocument


def _text(xml: bytes | memoryview | None) -> str:
    return bytes(xml).decode("utf-8", errors="replace") if xml is not None else ""


@admin.register(ZatcaDocument)
class ZatcaDocumentAdmin(ReadOnly, admin.ModelAdmin):
    list_display = [
        "document_number",
        "tenant",
        "status",
        "icv",
        "attempts",
        "submitted_at",
        "answered_at",
    ]
    list_filter = ["tenant", "status", "stamped_at", "submitted_at"]
    list_select_related = ["tenant", "invoice", "credit_note"]
    search_fields = ["uuid", "invoice__number", "credit_note__number", "tenant__slug"]
    fields = readonly_fields = (
        *("document_number", "tenant", "uuid", "status", "zatca_messages", "last_error"),
        *("egs", "icv", "pih", "invoice_hash", "qr", "stamped_at"),
        *("attempts", "submitted_at", "answered_at", "signed_xml_text", "cleared_xml_text"),
    )

    @admin.display(description=_("document"))
    def document_number(self, document: ZatcaDocument) -> str:
        issued = document.invoice or document.credit_note
        return issued.display_number if issued is not None else "-"

    @admin.display(description=_("ZATCA's messages"))
    def zatca_messages(self, document: ZatcaDocument) -> str:
        return format_html_join(
            "\n",
            "<p><strong>{} {}</strong> ({}): {}</p>",
            (
                (m.get("type", ""), m.get("code", ""), m.get("category", ""), m.get("message", ""))
                for m in document.messages
            ),
        )

    @admin.display(description=_("signed XML"))
    def signed_xml_text(self, document: ZatcaDocument) -> str:
        return json_block(_text(document.signed_xml))

    @admin.display(description=_("cleared XML"))
    def cleared_xml_text(self, document: ZatcaDocument) -> str:
        return json_block(_text(document.cleared_xml))

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        rejected = ZatcaDocument.objects.filter(status=ZatcaDocument.Status.REJECTED).count()
        title = _("ZATCA documents (%(count)s rejected: filter by status)") % {"count": rejected}
        return super().changelist_view(request, {**(extra_context or {}), "title": title})


@admin.register(EgsUnit)
class EgsUnitAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ["serial", "environment", "state", "last_icv", "activated_at"]
    fields = readonly_fields = (
        *("serial", "uuid", "environment", "state", "last_icv", "last_hash"),
        *("compliance_request_id", "production_request_id", "created_at", "activated_at"),
    )
