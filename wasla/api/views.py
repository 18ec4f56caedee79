"""Merchant API: each view validates input, calls one service or selector, serializes output."""

from __future__ import annotations

import uuid
from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from wasla.common.listing import ListFilters
from wasla.ledger.selectors import ledger_entry_list
from wasla.orders.selectors import order_get, order_list
from wasla.orders.services import order_create
from wasla.payments.gateways import gateway_config_connect
from wasla.payments.refunds import refund_list_for_payment, refund_request
from wasla.payments.selectors import gateway_list, payment_get, payment_list, refund_list
from wasla.payments.services import payment_cancel, payment_checkout, payment_collect
from wasla.settlement.selectors import generate_monthly_report, settlement_list
from wasla.tenants.auth import request_tenant

from . import serializers as s
from .base import ApiView
from .idempotency import idempotent

IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key",
    str,
    OpenApiParameter.HEADER,
    required=True,
    pattern=r"^[\x21-\x7e]{1,255}$",
    description="Unique per request; a retry with the same key replays the first response.",
)


class OrderListCreateApi(ApiView):
    serializer_class = s.OrderOutput
    filter_serializer = s.OrderFilter
    paginated = True

    @extend_schema(parameters=[s.OrderFilter], responses=s.OrderOutput(many=True))
    def get(self, request: Request) -> Response:
        filters = ListFilters.of(_valid(s.OrderFilter, request.query_params))
        page = self.paginate_queryset(order_list(tenant=request_tenant(request), filters=filters))
        return self.get_paginated_response(s.OrderOutput(page, many=True).data)

    @extend_schema(
        request=s.OrderInput, responses={201: s.OrderOutput}, parameters=[IDEMPOTENCY_HEADER]
    )
    @idempotent
    def post(self, request: Request) -> Response:
        data = _valid(s.OrderInput, request.data)
        order = order_create(tenant=request_tenant(request), **data)
        return Response(s.OrderOutput(order).data, status=status.HTTP_201_CREATED)


class OrderDetailApi(ApiView):
    serializer_class = s.OrderOutput

    def get(self, request: Request, order_id: uuid.UUID) -> Response:
        order = order_get(tenant=request_tenant(request), order_id=order_id)
        return Response(s.OrderOutput(order).data)


class PaymentListCreateApi(ApiView):
    serializer_class = s.PaymentOutput
    filter_serializer = s.PaymentFilter
    paginated = True

    @extend_schema(parameters=[s.PaymentFilter], responses=s.PaymentOutput(many=True))
    def get(self, request: Request) -> Response:
        filters = ListFilters.of(_valid(s.PaymentFilter, request.query_params))
        page = self.paginate_queryset(payment_list(tenant=request_tenant(request), filters=filters))
        return self.get_paginated_response(s.PaymentOutput(page, many=True).data)

    @extend_schema(
        request=s.PaymentInput, responses={201: s.PaymentOutput}, parameters=[IDEMPOTENCY_HEADER]
    )
    @idempotent
    def post(self, request: Request) -> Response:
        data = _valid(s.PaymentInput, request.data)
        attempt = payment_checkout(
            tenant=request_tenant(request),
            order_id=data["order"],
            provider=data["provider"],
            method=data["method"],
            return_url=data["return_url"],
            client_key=request.headers["Idempotency-Key"],
        )
        return Response(s.PaymentOutput(attempt).data, status=status.HTTP_201_CREATED)


class PaymentDetailApi(ApiView):
    serializer_class = s.PaymentOutput

    def get(self, request: Request, payment_id: uuid.UUID) -> Response:
        attempt = payment_get(tenant=request_tenant(request), payment_id=payment_id)
        return Response(s.PaymentOutput(attempt).data)


class PaymentCancelApi(ApiView):
    serializer_class = s.PaymentOutput

    @extend_schema(request=None, responses={200: s.PaymentOutput}, parameters=[IDEMPOTENCY_HEADER])
    @idempotent
    def post(self, request: Request, payment_id: uuid.UUID) -> Response:
        _no_body(request)
        attempt = payment_cancel(tenant=request_tenant(request), attempt_id=payment_id)
        return Response(s.PaymentOutput(attempt).data)


class PaymentCollectApi(ApiView):
    """Cash on delivery collected (staff or the merchant's courier integration)."""

    serializer_class = s.PaymentOutput

    @extend_schema(request=None, responses={200: s.PaymentOutput}, parameters=[IDEMPOTENCY_HEADER])
    @idempotent
    def post(self, request: Request, payment_id: uuid.UUID) -> Response:
        _no_body(request)
        attempt = payment_collect(tenant=request_tenant(request), attempt_id=payment_id)
        return Response(s.PaymentOutput(attempt).data)


class PaymentRefundsApi(ApiView):
    serializer_class = s.RefundOutput
    pagination_class = None  # a payment has a handful of refunds: all of them, as a list

    @extend_schema(responses=s.RefundOutput(many=True))
    def get(self, request: Request, payment_id: uuid.UUID) -> Response:
        tenant = request_tenant(request)
        payment_get(tenant=tenant, payment_id=payment_id)  # 404 for another tenant's payment
        refunds = refund_list_for_payment(tenant=tenant, attempt_id=payment_id)
        return Response(s.RefundOutput(refunds, many=True).data)

    @extend_schema(
        request=s.RefundInput,
        responses={201: s.RefundOutput, 202: s.RefundOutput},
        parameters=[IDEMPOTENCY_HEADER],
    )
    @idempotent
    def post(self, request: Request, payment_id: uuid.UUID) -> Response:
        data = _valid(s.RefundInput, request.data)
        refund = refund_request(
            tenant=request_tenant(request),
            attempt_id=payment_id,
            amount=data.get("amount"),
            reason=data["reason"],
            client_key=request.headers["Idempotency-Key"],
        )
        pending = refund.status == refund.Status.PENDING
        return Response(s.RefundOutput(refund).data, status=202 if pending else 201)


class RefundListApi(ApiView):
    """The tenant's refunds across all its payments (those of one payment: PaymentRefundsApi)."""

    serializer_class = s.RefundOutput
    filter_serializer = s.RefundFilter
    paginated = True

    @extend_schema(parameters=[s.RefundFilter], responses=s.RefundOutput(many=True))
    def get(self, request: Request) -> Response:
        filters = ListFilters.of(_valid(s.RefundFilter, request.query_params))
        page = self.paginate_queryset(refund_list(tenant=request_tenant(request), filters=filters))
        return self.get_paginated_response(s.RefundOutput(page, many=True).data)


class GatewayApi(ApiView):
    """The tenant's own provider account; connecting registers our webhook with the provider."""

    serializer_class = s.GatewayOutput
    pagination_class = None  # one config per mode at most: all of them, as a list

    @extend_schema(responses=s.GatewayOutput(many=True))
    def get(self, request: Request, provider: str) -> Response:
        configs = gateway_list(tenant=request_tenant(request), provider=provider)
        return Response(s.GatewayOutput(configs, many=True).data)

    @extend_schema(
        request=s.GatewayInput, responses={200: s.GatewayOutput}, parameters=[IDEMPOTENCY_HEADER]
    )
    @idempotent
    def put(self, request: Request, provider: str) -> Response:
        data = _valid(s.GatewayInput, request.data)
        config = gateway_config_connect(tenant=request_tenant(request), provider=provider, **data)
        return Response(s.GatewayOutput(config).data)


class SettlementListApi(ApiView):
    serializer_class = s.SettlementOutput
    filter_serializer = s.SettlementFilter
    paginated = True

    @extend_schema(parameters=[s.SettlementFilter], responses=s.SettlementOutput(many=True))
    def get(self, request: Request) -> Response:
        filters = _valid(s.SettlementFilter, request.query_params)
        page = self.paginate_queryset(
            settlement_list(
                tenant=request_tenant(request),
                year=filters.get("year"),
                month=filters.get("month"),
                filters=ListFilters.of(filters),
            )
        )
        return self.get_paginated_response(s.SettlementOutput(page, many=True).data)


class MonthlyReportApi(ApiView):
    """The tenant's settlements of one calendar month (Asia/Riyadh) and their totals."""

    serializer_class = s.MonthlyReportOutput
    filter_serializer = s.MonthlyReportFilter

    @extend_schema(parameters=[s.MonthlyReportFilter], responses={200: s.MonthlyReportOutput})
    def get(self, request: Request) -> Response:
        filters = _valid(s.MonthlyReportFilter, request.query_params)
        report = generate_monthly_report(tenant=request_tenant(request), **filters)
        return Response(s.MonthlyReportOutput(report).data)


class LedgerEntryListApi(ApiView):
    serializer_class = s.LedgerEntryOutput
    filter_serializer = s.LedgerEntryFilter
    paginated = True

    @extend_schema(parameters=[s.LedgerEntryFilter], responses=s.LedgerEntryOutput(many=True))
    def get(self, request: Request) -> Response:
        filters = _valid(s.LedgerEntryFilter, request.query_params)
        page = self.paginate_queryset(ledger_entry_list(tenant=request_tenant(request), **filters))
        return self.get_paginated_response(s.LedgerEntryOutput(page, many=True).data)


def _no_body(request: Request) -> None:
    """An action that takes no input refuses one (an empty body or `{}` is no input)."""
    if request.data not in ({}, None):
        raise ValidationError({"non_field_errors": ["This endpoint takes no request body."]})


def _valid(serializer_class: type[s.serializers.Serializer], data: Any) -> dict[str, Any]:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)
