"""A minimal third-party provider: it knows Wasla only through the provider interface.

Its "API" is a hosted page on a domain of its own; it confirms payments by webhooks whose body
is signed with HMAC-SHA256 of the tenant's webhook secret in `X-Dummy-Signature`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from decimal import Decimal

from wasla.payments.providers.base import (
    BasePaymentProvider,
    EventKind,
    PaymentRequest,
    PaymentResult,
    PaymentStatus,
    ProviderEvent,
    WebhookPayloadUnreadable,
    WebhookRequest,
)

STATUSES = {"succeeded": PaymentStatus.PAID, "failed": PaymentStatus.FAILED}


def sign(body: bytes, secret: str) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class DummyProvider(BasePaymentProvider):
    name = "dummy"
    methods = frozenset({"card"})
    refetch_on_webhook = False

    def create_payment(self, request: PaymentRequest) -> PaymentResult:
        reference = "dmy_" + request.idempotency_key.rsplit("-", 1)[-1]
        return PaymentResult(
            status=PaymentStatus.PENDING,
            provider_reference=reference,
            amount=request.amount,
            currency=request.currency,
            redirect_url=f"https://pay.dummy.example/{reference}",
            merchant_reference=request.attempt_id,
        )

    def verify_payment(self, provider_reference: str) -> PaymentResult:
        return PaymentResult(status=PaymentStatus.PENDING, provider_reference=provider_reference)

    def validate_webhook(self, request: WebhookRequest) -> bool:
        given = request.headers.get("x-dummy-signature", "")
        secret = self.credentials.webhook_secret
        return bool(given and secret) and hmac.compare_digest(sign(request.body, secret), given)

    def parse_webhook(self, request: WebhookRequest) -> ProviderEvent:
        try:
            data = json.loads(request.body)
            return ProviderEvent(
                event_id=str(data["id"]),
                event_type=f"payment.{data['status']}",
                kind=EventKind.PAYMENT,
                provider_reference=str(data["reference"]),
                status=STATUSES.get(str(data["status"]), PaymentStatus.PENDING),
                amount=Decimal(str(data["amount"])),
                currency=str(data["currency"]),
            )
        except (ValueError, KeyError, TypeError, ArithmeticError) as exc:
            raise WebhookPayloadUnreadable(f"unreadable dummy event: {exc}") from None
