"""Cash on delivery: no provider API and no redirect.

The attempt stays `pending` until staff or the merchant's courier integration confirms the
collection (`POST /api/v1/payments/<id>/collect/`), which runs the same confirmation path as a
webhook. There is no outside party to ask, so `verify_payment` always answers "pending", and no
webhook is ever valid.
"""

from __future__ import annotations

from .base import (
    BasePaymentProvider,
    PaymentRequest,
    PaymentResult,
    PaymentStatus,
    ProviderError,
    ProviderEvent,
    RefundRequest,
    RefundResult,
    WebhookPayloadUnreadable,
    WebhookRequest,
)


class CashOnDeliveryProvider(BasePaymentProvider):
    name = "cod"
    methods = frozenset({"cod"})
    refetch_on_webhook = False
    collected_offline = True

    def create_payment(self, request: PaymentRequest) -> PaymentResult:
        return PaymentResult(
            status=PaymentStatus.PENDING,
            provider_reference=f"cod_{request.attempt_id.replace('-', '')}",
            amount=request.amount,
            currency=request.currency,
            merchant_reference=request.attempt_id,
        )

    def refund(self, request: RefundRequest) -> RefundResult:
        raise ProviderError("not_supported", "cash-on-delivery refunds are recorded by staff")

    def verify_payment(self, provider_reference: str) -> PaymentResult:
        return PaymentResult(status=PaymentStatus.PENDING, provider_reference=provider_reference)

    def validate_webhook(self, request: WebhookRequest) -> bool:
        return False

    def parse_webhook(self, request: WebhookRequest) -> ProviderEvent:
        raise WebhookPayloadUnreadable("cash on delivery has no webhooks")
