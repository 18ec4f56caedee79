"""PayPal Orders v2 over httpx (the official SDK has no webhook verification nor base URL).

- OAuth2 client credentials: `public_key` is the client id, `secret_key` the secret; the token
  is cached per process until shortly before it expires, and dropped on a 401.
- Every POST carries `PayPal-Request-Id` (idempotency). An approved order is captured here,
  whoever noticed the approval first (webhook or the customer's return); the capture status,
  not the order status, decides the outcome.
- Webhooks are verified offline: CRC32 of the raw body, transmission id/time and the tenant's
  webhook id, signed SHA256withRSA by the certificate at PAYPAL-CERT-URL, fetched only from
  allow-listed hosts and cached. When the certificate cannot be fetched, PayPal's
  verify-webhook-signature API decides instead.
- Webhook bodies are read into events by `events` (PayPal's event names and vocabularies).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import logging
import threading
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import httpx
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from wasla.common import strictjson
from wasla.common.money import MoneyError, format_amount, parse_amount
from wasla.common.scrub import scrub

from ..base import (
    BasePaymentProvider,
    PaymentRequest,
    PaymentResult,
    PaymentStatus,
    ProviderError,
    ProviderEvent,
    ProviderTimeout,
    ProviderUnreachable,
    RefundRequest,
    RefundResult,
    WebhookRequest,
)
from ..http import pooled_client
from .events import CAPTURE_STATUSES, UNREADABLE, WEBHOOK_EVENTS, event_parse, refund_result

logger = logging.getLogger(__name__)

TOKEN_MARGIN_SECONDS = 60
CERT_CACHE_SECONDS = 24 * 3600

_lock = threading.Lock()
_tokens: dict[tuple[str, str, str], tuple[str, float]] = {}
_certificates: dict[str, tuple[x509.Certificate, float]] = {}


class PayPalProvider(BasePaymentProvider):
    name = "paypal"
    methods = frozenset({"paypal"})
    refetch_on_webhook = True  # an approval must be captured; a capture confirmed by the API
    confirm_on_return = True  # capture at once when the buyer is back, webhook or not

    # --- HTTP -------------------------------------------------------------------------------

    def _token_key(self) -> tuple[str, str, str]:
        creds = self.credentials
        secret_digest = hashlib.sha256(creds.secret_key.encode()).hexdigest()
        return creds.base_url, creds.public_key, secret_digest

    def _token(self) -> str:
        key = self._token_key()
        with _lock:
            cached = _tokens.get(key)
            if cached and cached[1] > time.monotonic():
                return cached[0]
        creds = self.credentials
        data = self._send(
            "POST",
            "v1/oauth2/token",
            auth=(creds.public_key, creds.secret_key),
            data={"grant_type": "client_credentials"},
        )
        try:
            token, expires_in = str(data["access_token"]), int(data["expires_in"])
        except (KeyError, TypeError, ValueError):
            raise ProviderUnreachable("PayPal token response without a token") from None
        with _lock:
            _tokens[key] = (token, time.monotonic() + max(expires_in - TOKEN_MARGIN_SECONDS, 0))
        return token

    def _api(
        self, method: str, path: str, body: Mapping[str, Any] | None = None, request_id: str = ""
    ) -> dict[str, Any]:
        if method == "POST" and not request_id:
            raise ValueError(f"POST {path} needs a PayPal-Request-Id")  # every POST is replayable
        headers = {"Prefer": "return=representation"}
        if request_id:
            headers["PayPal-Request-Id"] = request_id
        for attempt in (1, 2):
            headers["Authorization"] = f"Bearer {self._token()}"
            try:
                return self._send(method, path, headers=headers, json=body)
            except ProviderError as exc:
                if exc.code != "401" or attempt == 2:
                    raise
                with _lock:  # the cached token was revoked or expired early
                    _tokens.pop(self._token_key(), None)
        raise AssertionError("unreachable")

    def _send(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        try:
            creds = self.credentials
            client = pooled_client(
                base_url=creds.base_url,
                read_timeout=creds.read_timeout,
                connect_timeout=creds.connect_timeout,
            )
            response = client.request(method, path, **kwargs)
        except httpx.ConnectTimeout as exc:
            raise ProviderUnreachable(f"PayPal unreachable: {type(exc).__name__}") from None
        except httpx.TimeoutException as exc:
            raise ProviderTimeout(f"PayPal timed out: {type(exc).__name__}") from None
        except httpx.TransportError as exc:
            raise ProviderUnreachable(f"PayPal unreachable: {type(exc).__name__}") from None
        if response.status_code >= 500 or response.status_code == 429:
            raise ProviderUnreachable(f"PayPal answered {response.status_code}")
        try:
            data = json.loads(response.content or b"{}", parse_float=Decimal)
        except ValueError:
            raise ProviderUnreachable(
                f"PayPal answered {response.status_code} without JSON"
            ) from None
        if not isinstance(data, dict):
            raise ProviderUnreachable("PayPal answered with a non-object body")
        if response.status_code == 401:
            raise ProviderError("401", str(data.get("error_description") or data.get("message")))
        if response.status_code >= 400:
            details = data.get("details") or [{}]
            issue = details[0].get("issue") if isinstance(details[0], dict) else None
            raise ProviderError(
                str(issue or data.get("name") or response.status_code),
                str(data.get("message") or data.get("error_description") or "PayPal refused"),
                scrub(data),
            )
        return data

    # --- payments ---------------------------------------------------------------------------

    def create_payment(self, request: PaymentRequest) -> PaymentResult:
        body: dict[str, Any] = {
            "intent": "CAPTURE",
            "purchase_units": [
                {
                    "reference_id": request.order_reference,
                    "custom_id": request.attempt_id,
                    "invoice_id": request.attempt_id,
                    "description": request.description[:127],
                    "amount": {
                        "currency_code": request.currency,
                        "value": format_amount(request.amount, request.currency),
                    },
                }
            ],
            "payment_source": {
                "paypal": {
                    "experience_context": {
                        "return_url": request.return_url,
                        "cancel_url": request.cancel_url,
                        "user_action": "PAY_NOW",
                        "shipping_preference": "NO_SHIPPING",
                    }
                }
            },
        }
        if request.merchant_name:
            # The name PayPal's approval page shows the buyer instead of the account's own.
            context = body["payment_source"]["paypal"]["experience_context"]
            context["brand_name"] = request.merchant_name[:127]
        order = self._api("POST", "v2/checkout/orders", body, request_id=request.idempotency_key)
        return self._order_result(order)

    def verify_payment(self, provider_reference: str) -> PaymentResult:
        if not provider_reference.isalnum():
            raise ProviderError("invalid_reference", "not a PayPal order id")
        order = self._api("GET", f"v2/checkout/orders/{provider_reference}")
        if order.get("status") != "APPROVED":
            return self._order_result(order)
        try:
            order = self._api(
                "POST",
                f"v2/checkout/orders/{provider_reference}/capture",
                {},
                request_id=f"wasla-capture-{provider_reference}",
            )
        except ProviderError as exc:
            if exc.code == "INSTRUMENT_DECLINED":
                result = self._order_result(order)
                return PaymentResult(
                    status=PaymentStatus.FAILED,
                    provider_reference=result.provider_reference,
                    amount=result.amount,
                    currency=result.currency,
                    failure_code="paypal:INSTRUMENT_DECLINED",
                    failure_message=exc.message,
                    merchant_reference=result.merchant_reference,
                    raw=result.raw,
                )
            if exc.code != "ORDER_ALREADY_CAPTURED":
                raise
            order = self._api("GET", f"v2/checkout/orders/{provider_reference}")
        return self._order_result(order)

    def _order_result(self, order: Mapping[str, Any]) -> PaymentResult:
        try:
            unit = order["purchase_units"][0]
            currency = str(unit["amount"]["currency_code"])
            amount = parse_amount(unit["amount"]["value"], currency)
            reference = str(order["id"])
        except (KeyError, IndexError, TypeError, MoneyError) as exc:
            raise ProviderUnreachable(f"unreadable PayPal order: {exc}") from None
        captures = ((unit.get("payments") or {}).get("captures")) or []
        order_status = order.get("status")
        failure_code = failure_message = ""
        capture_id = str(captures[0].get("id") or "") if captures else ""
        if captures:
            capture_status = str(captures[0].get("status"))
            status = CAPTURE_STATUSES.get(capture_status, PaymentStatus.PENDING)
            if status == PaymentStatus.FAILED:
                failure_code = f"paypal:{capture_status}"
                failure_message = "PayPal declined the capture"
        elif order_status == "VOIDED":
            status, failure_code = PaymentStatus.CANCELLED, "paypal:VOIDED"
        else:
            status = PaymentStatus.PENDING
        links = {link.get("rel"): link.get("href") for link in order.get("links") or []}
        return PaymentResult(
            status=status,
            provider_reference=reference,
            amount=amount,
            currency=currency,
            redirect_url=str(links.get("payer-action") or links.get("approve") or ""),
            failure_code=failure_code,
            failure_message=failure_message,
            merchant_reference=str(unit.get("custom_id") or ""),
            payment_reference=capture_id if status == PaymentStatus.PAID else "",
            raw=scrub(order),
        )

    def refund(self, request: RefundRequest) -> RefundResult:
        if not request.payment_reference.isalnum():
            raise ProviderError("invalid_reference", "not a PayPal capture id")
        refund = self._api(
            "POST",
            f"v2/payments/captures/{request.payment_reference}/refund",
            {
                "amount": {
                    "value": format_amount(request.amount, request.currency),
                    "currency_code": request.currency,
                },
                "custom_id": request.refund_id,
                "note_to_payer": request.reason[:255] or "Refund",
            },
            request_id=request.idempotency_key,
        )
        refund.setdefault(
            "amount",
            {
                "value": format_amount(request.amount, request.currency),
                "currency_code": request.currency,
            },
        )
        refund.setdefault("custom_id", request.refund_id)
        try:
            return refund_result(refund, capture_id=request.payment_reference)
        except UNREADABLE as exc:
            # An answer we cannot read is no usable answer: the outcome stays unknown.
            raise ProviderUnreachable(f"unreadable PayPal refund: {exc}") from None

    # --- webhooks ---------------------------------------------------------------------------

    def register_webhook(self, url: str) -> str:
        webhook = self._api(
            "POST",
            "v1/notifications/webhooks",
            {"url": url, "event_types": [{"name": name} for name in sorted(WEBHOOK_EVENTS)]},
            request_id="wasla-webhook-" + hashlib.sha256(url.encode()).hexdigest()[:32],
        )
        return str(webhook["id"])

    def check_connection(self) -> None:
        # An OAuth token for the client id and secret, then a read of the account's webhooks.
        self._api("GET", "v1/notifications/webhooks")

    def validate_webhook(self, request: WebhookRequest) -> bool:
        h = request.headers
        needed = (
            "paypal-transmission-id",
            "paypal-transmission-time",
            "paypal-transmission-sig",
            "paypal-cert-url",
            "paypal-auth-algo",
        )
        webhook_id = self.credentials.webhook_secret
        if not webhook_id or not all(h.get(name) for name in needed):
            return False
        if h["paypal-auth-algo"] != "SHA256withRSA" or not self._cert_host_allowed(
            h["paypal-cert-url"]
        ):
            return False
        crc = binascii.crc32(request.body) & 0xFFFFFFFF
        message = (
            f"{h['paypal-transmission-id']}|{h['paypal-transmission-time']}|{webhook_id}|{crc}"
        )
        try:
            signature = base64.b64decode(h["paypal-transmission-sig"], validate=True)
        except (binascii.Error, ValueError):
            return False
        try:
            certificate = self._certificate(h["paypal-cert-url"])
        except ProviderUnreachable as exc:
            logger.warning("PayPal certificate unavailable (%s): asking PayPal to verify", exc)
            return self._verify_by_api(request, webhook_id)
        public_key = certificate.public_key()
        if not isinstance(public_key, rsa.RSAPublicKey):
            return False
        try:
            public_key.verify(signature, message.encode(), padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature:
            return False
        return True

    def _cert_host_allowed(self, url: str) -> bool:
        try:
            parts = urlsplit(url)
            host = (parts.hostname or "").lower()
        except ValueError:  # not a URL at all (an unclosed "[", a bad port)
            return False
        if parts.scheme not in ("https", "http") or not host:
            return False
        for allowed in self.credentials.options.get("cert_hosts", []):
            allowed = allowed.lower()
            if host == allowed or (allowed.startswith("*.") and host.endswith(allowed[1:])):
                # Plain http only for loopback sandboxes; real certificates come over https.
                return parts.scheme == "https" or host in ("127.0.0.1", "localhost")
        return False

    def _certificate(self, url: str) -> x509.Certificate:
        with _lock:
            cached = _certificates.get(url)
            if cached and cached[1] > time.monotonic():
                return cached[0]
        try:
            response = httpx.get(url, timeout=self.credentials.connect_timeout + 5)
            response.raise_for_status()
            certificate = x509.load_pem_x509_certificate(response.content)
        except (httpx.HTTPError, ValueError) as exc:
            raise ProviderUnreachable(f"certificate {url}: {type(exc).__name__}") from None
        now = datetime.now(UTC)
        if not certificate.not_valid_before_utc <= now <= certificate.not_valid_after_utc:
            raise ProviderUnreachable(f"certificate {url} is not valid now")
        with _lock:
            _certificates[url] = (certificate, time.monotonic() + CERT_CACHE_SECONDS)
        return certificate

    def _verify_by_api(self, request: WebhookRequest, webhook_id: str) -> bool:
        h = request.headers
        try:
            event = strictjson.loads(request.body)
            answer = self._api(
                "POST",
                "v1/notifications/verify-webhook-signature",
                {
                    "auth_algo": h["paypal-auth-algo"],
                    "cert_url": h["paypal-cert-url"],
                    "transmission_id": h["paypal-transmission-id"],
                    "transmission_sig": h["paypal-transmission-sig"],
                    "transmission_time": h["paypal-transmission-time"],
                    "webhook_id": webhook_id,
                    "webhook_event": event,
                },
                request_id=f"wasla-verify-{h['paypal-transmission-id']}",
            )
        except (ValueError, ProviderError, ProviderUnreachable) as exc:
            logger.warning("PayPal signature API unavailable: %s", exc)
            return False
        return answer.get("verification_status") == "SUCCESS"

    def parse_webhook(self, request: WebhookRequest) -> ProviderEvent:
        return event_parse(request.body)
