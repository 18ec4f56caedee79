"""The provider interface: plain frozen dataclasses in and out, no models, no database.

The orchestrator is the only caller. A provider turns our request into its API's format, its
answers back into `PaymentResult` / `ProviderEvent`, and verifies its own webhook signatures.
Minor units, status vocabularies and signature formats stay inside each provider's module.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, ClassVar


class PaymentStatus(enum.StrEnum):
    PENDING = "pending"
    PAID = "paid"
    FAILED = "failed"
    CANCELLED = "cancelled"


class EventKind(enum.StrEnum):
    PAYMENT = "payment"
    REFUND = "refund"
    DISPUTE = "dispute"
    OTHER = "other"


@dataclass(frozen=True)
class Credentials:
    """Decrypted credentials of one tenant's gateway config, and where its API lives."""

    mode: str
    base_url: str
    public_key: str = field(repr=False)
    secret_key: str = field(repr=False)
    webhook_secret: str = field(repr=False)
    connect_timeout: float = 5.0
    read_timeout: float = 20.0
    # Provider-specific settings (e.g. PayPal's certificate host allow-list).
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PaymentRequest:
    attempt_id: str
    idempotency_key: str
    order_reference: str
    amount: Decimal
    currency: str
    method: str
    description: str
    customer_email: str
    customer_phone: str
    return_url: str
    cancel_url: str
    webhook_url: str
    # The store's name as the shopper knows it, for the provider's hosted page (each provider
    # takes it in its own field: see create_payment of each).
    merchant_name: str = ""


@dataclass(frozen=True)
class PaymentResult:
    status: PaymentStatus
    provider_reference: str
    amount: Decimal | None = None
    currency: str = ""
    redirect_url: str = ""
    failure_code: str = ""
    failure_message: str = ""
    # Our attempt id as echoed by the provider, when it echoes one.
    merchant_reference: str = ""
    # The id refunds are made against, once paid (Tap charge, Stripe PaymentIntent, PayPal
    # capture); often not the same object as `provider_reference`.
    payment_reference: str = ""
    raw: Mapping[str, Any] = field(default_factory=dict)


class RefundStatus(enum.StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


@dataclass(frozen=True)
class RefundRequest:
    refund_id: str
    idempotency_key: str
    payment_reference: str  # the provider's id of the captured money (charge, PI, capture)
    amount: Decimal
    currency: str
    reason: str


@dataclass(frozen=True)
class RefundResult:
    status: RefundStatus
    provider_reference: str
    amount: Decimal
    currency: str
    payment_reference: str = ""  # which payment it refunds
    merchant_reference: str = ""  # our refund id, as echoed by the provider
    failure_message: str = ""
    raw: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class WebhookRequest:
    body: bytes
    headers: Mapping[str, str]  # lower-cased names


@dataclass(frozen=True)
class ProviderEvent:
    """A verified webhook, normalised."""

    event_id: str
    event_type: str
    kind: EventKind
    provider_reference: str
    status: PaymentStatus | None
    amount: Decimal | None
    currency: str
    # For refund events: the provider reference of the payment that was refunded.
    payment_reference: str = ""
    merchant_reference: str = ""
    refunds: tuple[RefundResult, ...] = ()
    raw: Mapping[str, Any] = field(default_factory=dict)


class ProviderError(Exception):
    """The provider answered, and said no (4xx): the outcome is known and final."""

    def __init__(self, code: str, message: str, raw: Mapping[str, Any] | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.raw = raw or {}


class ProviderUnreachable(Exception):
    """No usable answer (connection error, 5xx, 429): the outcome is unknown. Safe to retry
    with the same idempotency key."""


class ProviderTimeout(ProviderUnreachable):
    """The provider got the request but did not answer in time: the outcome is unknown and
    the request is not retried; reconciliation finds out what happened."""


class WebhookPayloadUnreadable(Exception):
    """A webhook body we cannot use: it does not parse, or its values are not ones a payment
    has. Raised by `parse_webhook`; the message says why. Nothing to do with reaching the
    provider: sending the same body again will not help."""


class BasePaymentProvider:
    """What every provider implements. Each method takes and returns the plain dataclasses
    above; the orchestrator adds retries, the circuit breaker and the gateway's credentials."""

    name: ClassVar[str]
    methods: ClassVar[frozenset[str]]
    # Tap recommends confirming every webhook by fetching the charge; others may not need it.
    refetch_on_webhook: ClassVar[bool] = True
    # The customer's return is a cue to fetch the payment (PayPal: capture the approval);
    # others wait for the webhook and the return page only shows the status.
    confirm_on_return: ClassVar[bool] = False
    # Paid outside any provider (cash on delivery): confirmed by a collection, not a webhook.
    collected_offline: ClassVar[bool] = False

    def __init__(self, credentials: Credentials) -> None:
        self.credentials = credentials

    def create_payment(self, request: PaymentRequest) -> PaymentResult:
        raise NotImplementedError

    def verify_payment(self, provider_reference: str) -> PaymentResult:
        """The payment's real state, fetched from the provider (PayPal captures here)."""
        raise NotImplementedError

    def validate_webhook(self, request: WebhookRequest) -> bool:
        raise NotImplementedError

    def refund(self, request: RefundRequest) -> RefundResult:
        raise NotImplementedError

    def register_webhook(self, url: str) -> str:
        """Subscribe `url` to this account's payment events; returns what verifies them (the
        endpoint secret or webhook id), or "" when the provider needs no registration."""
        return ""

    def check_connection(self) -> None:
        """One harmless authenticated call, for the merchant's "test connection" button: returns
        when the account accepts the credentials, raises ProviderError when it refuses them and
        ProviderUnreachable when it does not answer. Nothing to ask by default (cash on
        delivery has no provider account)."""

    def parse_webhook(self, request: WebhookRequest) -> ProviderEvent:
        """Read a webhook body (already verified by `validate_webhook`) into the normalised
        event; raises WebhookPayloadUnreadable for a body that cannot be used."""
        raise NotImplementedError
