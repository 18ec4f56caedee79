"""PaymentOrchestrator: the only code that calls a payment provider.

It picks the provider of a gateway config, decrypts the credentials for the call and resolves
the provider's base URL from the config's mode. It never touches a row lock: callers call it
between transactions, never inside one that holds locks.

Every outbound call (create, verify, refund, webhook registration) goes through `resilience`:
safe retries with the same request object, so the same idempotency key, and one circuit breaker
per gateway config shared by all processes. When a circuit is open the call raises
`CircuitOpen` (a `ProviderUnreachable`) without touching the network. Webhook verification and
parsing are local work and never pass the breaker: an incoming webhook is not turned away
because our outgoing calls are failing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import TypeVar

from django.conf import settings
from django.urls import reverse

from wasla.common.observability.metrics import provider_call

from .models import PaymentAttempt, PaymentGatewayConfig
from .providers.base import (
    BasePaymentProvider,
    Credentials,
    PaymentRequest,
    PaymentResult,
    ProviderEvent,
    RefundRequest,
    RefundResult,
    WebhookRequest,
)
from .providers.registry import provider_class
from .resilience import CircuitBreaker, call_with_retries

T = TypeVar("T")


def provider_idempotency_key(attempt: PaymentAttempt) -> str:
    """Derived from the attempt id, so every retry of one attempt reuses it."""
    return f"wasla-pay-{attempt.id.hex}"


def public_url(path: str) -> str:
    return settings.WASLA_PUBLIC_BASE_URL.rstrip("/") + path


def webhook_url(config: PaymentGatewayConfig) -> str:
    return public_url(
        reverse("webhook", kwargs={"provider": config.provider, "token": config.webhook_token})
    )


def return_page_url(attempt: PaymentAttempt) -> str:
    return public_url(reverse("payment-return", kwargs={"attempt_id": attempt.id}))


def circuit_name(config: PaymentGatewayConfig) -> str:
    """The name of a gateway config's circuit (see `PaymentOrchestrator.circuit`)."""
    digest = hashlib.sha256(config.webhook_token.bytes).hexdigest()[:12]
    return f"{config.tenant_id}:{config.provider}:{config.mode}:{digest}"


class PaymentOrchestrator:
    def provider(self, config: PaymentGatewayConfig) -> BasePaymentProvider:
        timeouts = settings.WASLA_PROVIDER_TIMEOUTS
        credentials = Credentials(
            mode=config.mode,
            base_url=settings.WASLA_PROVIDER_BASE_URLS.get(config.provider, {}).get(
                config.mode, ""
            ),
            public_key=config.public_key,
            secret_key=config.secret_key,
            webhook_secret=config.webhook_secret,
            connect_timeout=timeouts["connect"],
            read_timeout=timeouts["read"],
            options=settings.WASLA_PROVIDER_OPTIONS.get(config.provider, {}),
        )
        return provider_class(config.provider)(credentials)

    def circuit(self, config: PaymentGatewayConfig) -> CircuitBreaker:
        """The breaker of one gateway config: a tenant's account at one provider, in one mode.

        Named by the tenant, the provider and a digest of the config's webhook token rather than
        by row ids alone, so a recreated database (a restored staging copy, a new test run) never
        inherits the circuit of an unrelated gateway that once had the same ids.
        """
        return CircuitBreaker(circuit_name(config))

    def _call(
        self,
        config: PaymentGatewayConfig,
        operation: str,
        call: Callable[[BasePaymentProvider], T],
    ) -> T:
        provider = self.provider(config)
        with provider_call(config.provider, operation):  # latency and errors (metrics)
            return call_with_retries(
                lambda: call(provider),
                breaker=self.circuit(config),
                operation=f"{config.provider}.{operation} tenant={config.tenant_id}",
            )

    def create_payment(self, attempt: PaymentAttempt) -> PaymentResult:
        order = attempt.order
        request = PaymentRequest(
            attempt_id=str(attempt.id),
            idempotency_key=provider_idempotency_key(attempt),
            order_reference=order.reference,
            amount=attempt.amount,
            currency=attempt.currency,
            method=attempt.method,
            description=f"Order {order.reference}",
            customer_email=order.customer_email,
            customer_phone=order.customer_phone,
            return_url=return_page_url(attempt),
            cancel_url=public_url(
                reverse("payment-cancel-link", kwargs={"attempt_id": attempt.id})
            ),
            webhook_url=webhook_url(attempt.gateway_config),
            merchant_name=attempt.tenant.name,
        )
        # One request object for every try: the idempotency key cannot drift between retries.
        return self._call(
            attempt.gateway_config, "create_payment", lambda p: p.create_payment(request)
        )

    def verify_payment(
        self, config: PaymentGatewayConfig, provider_reference: str
    ) -> PaymentResult:
        return self._call(config, "verify_payment", lambda p: p.verify_payment(provider_reference))

    def refund(self, config: PaymentGatewayConfig, request: RefundRequest) -> RefundResult:
        return self._call(config, "refund", lambda p: p.refund(request))

    def validate_webhook(self, config: PaymentGatewayConfig, request: WebhookRequest) -> bool:
        return self.provider(config).validate_webhook(request)

    def parse_webhook(self, config: PaymentGatewayConfig, request: WebhookRequest) -> ProviderEvent:
        return self.provider(config).parse_webhook(request)

    def register_webhook(self, config: PaymentGatewayConfig) -> str:
        url = webhook_url(config)
        return self._call(config, "register_webhook", lambda p: p.register_webhook(url))

    def check_connection(self, config: PaymentGatewayConfig) -> None:
        self._call(config, "check_connection", lambda p: p.check_connection())

    def refetches_on_webhook(self, config: PaymentGatewayConfig) -> bool:
        return provider_class(config.provider).refetch_on_webhook
