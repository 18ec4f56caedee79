"""Merchant API: the tenant's issued invoices and credit notes, and their PDFs.

Each view validates its input, calls one selector (and, for a PDF, the one rendering of the
issued document), and serializes the result.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from wasla.invoicing.rendering import RenderedPdf, credit_note_pdf, invoice_pdf
from wasla.invoicing.selectors import (
    credit_note_get,
    credit_note_list,
    invoice_get,
    invoice_list,
)
from wasla.invoicing.zatca.selectors import cleared_xml
from wasla.tenants.auth import request_tenant

from . import invoice_serializers as s
from .base import ApiView
from .views import _valid

PDF = "application/pdf"
PDF_RESPONSE = {
    (200, PDF): OpenApiResponse(
        OpenApiTypes.BINARY,
        description="The bilingual (Arabic and English) PDF, as an attachment.",
    )
}


class PdfRenderer(BaseRenderer):
    """Lets a client send `Accept: application/pdf`. The PDF itself leaves as a plain
    HttpResponse; what this renders is the problem+json of an error, as JSON."""

    media_type = PDF
    format = "pdf"

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: Mapping[str, Any] | None = None,
    ) -> bytes:
        return JSONRenderer().render(data, "application/json", renderer_context)


XML = "application/xml"
XML_RESPONSE = {
    (200, XML): OpenApiResponse(
        OpenApiTypes.BINARY,
        description="ZATCA's cleared UBL 2.1 XML, as an attachment; 409 (problem "
        "`zatca-not-cleared`) until ZATCA has cleared the document.",
    )
}


class XmlRenderer(PdfRenderer):
    """Lets a client send `Accept: application/xml`; errors still leave as problem+json."""

    media_type = XML
    format = "xml"


def _xml_attachment(content: bytes, number: str) -> HttpResponse:
    response = HttpResponse(content, content_type=XML)
    response["Content-Disposition"] = f'attachment; filename="{number}.xml"'
    return response


def _attachment(pdf: RenderedPdf) -> HttpResponse:
    response = HttpResponse(pdf.content, content_type=PDF)
    response["Content-Disposition"] = f'attachment; filename="{pdf.filename}"'
    return response


class InvoiceListApi(ApiView):
    serializer_class = s.InvoiceOutput
    filter_serializer = s.InvoiceFilter
    paginated = True

    @extend_schema(parameters=[s.InvoiceFilter], responses=s.InvoiceOutput(many=True))
    def get(self, request: Request) -> Response:
        filters = _valid(s.InvoiceFilter, request.query_params)
        page = self.paginate_queryset(invoice_list(tenant=request_tenant(request), **filters))
        return self.get_paginated_response(s.InvoiceOutput(page, many=True).data)


class InvoiceDetailApi(ApiView):
    serializer_class = s.InvoiceOutput

    def get(self, request: Request, invoice_id: int) -> Response:
        invoice = invoice_get(tenant=request_tenant(request), invoice_id=invoice_id)
        return Response(s.InvoiceOutput(invoice).data)


class InvoicePdfApi(ApiView):
    renderer_classes = [JSONRenderer, PdfRenderer]

    @extend_schema(responses=PDF_RESPONSE)
    def get(self, request: Request, invoice_id: int) -> HttpResponse:
        invoice = invoice_get(tenant=request_tenant(request), invoice_id=invoice_id)
        return _attachment(invoice_pdf(invoice=invoice))


class CreditNoteListApi(ApiView):
    serializer_class = s.CreditNoteOutput
    paginated = True

    @extend_schema(responses=s.CreditNoteOutput(many=True))
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(credit_note_list(tenant=request_tenant(request)))
        return self.get_paginated_response(s.CreditNoteOutput(page, many=True).data)


class CreditNoteDetailApi(ApiView):
    serializer_class = s.CreditNoteOutput

    def get(self, request: Request, credit_note_id: int) -> Response:
        note = credit_note_get(tenant=request_tenant(request), credit_note_id=credit_note_id)
        return Response(s.CreditNoteOutput(note).data)


class CreditNotePdfApi(ApiView):
    renderer_classes = [JSONRenderer, PdfRenderer]

    @extend_schema(responses=PDF_RESPONSE)
    def get(self, request: Request, credit_note_id: int) -> HttpResponse:
        note = credit_note_get(tenant=request_tenant(request), credit_note_id=credit_note_id)
        return _attachment(credit_note_pdf(credit_note=note))


class InvoiceXmlApi(ApiView):
    renderer_classes = [JSONRenderer, XmlRenderer]

    @extend_schema(responses=XML_RESPONSE)
    def get(self, request: Request, invoice_id: int) -> HttpResponse:
        invoice = invoice_get(tenant=request_tenant(request), invoice_id=invoice_id)
        return _xml_attachment(cleared_xml(issued=invoice), invoice.display_number)


class CreditNoteXmlApi(ApiView):
    renderer_classes = [JSONRenderer, XmlRenderer]

    @extend_schema(responses=XML_RESPONSE)
    def get(self, request: Request, credit_note_id: int) -> HttpResponse:
        note = credit_note_get(tenant=request_tenant(request), credit_note_id=credit_note_id)
        return _xml_attachment(cleared_xml(issued=note), note.display_number)
