"""Writes of the PayPal simulator: accounts and tokens, orders, captures, refunds, webhooks.

State changes happen under row locks in `transaction.atomic(durable=True)` blocks, so two
concurrent requests settle once and the change is committed before any webhook goes out (the
receiver calls the API back from another connection). Webhook events are stored inside those
blocks and delivered afterwards by `event_deliver` (at once, `delay_seconds` later from a
background thread, or held for `flush`, as the fault knobs say). `dashboard_refund` is an entry
point of its own: it refunds as the API would and delivers what that caused.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import secrets
import string
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final
from urllib.parse import urlsplit

import httpx
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from sandbox.faults import run_later
from sandbox.jsonfmt import loads
from sandbox.paypal_sim import errors
from sandbox.paypal_sim.currencies import amount_format, amount_is_exact
from sandbox.paypal_sim.errors import PayPalApiError
from sandbox.paypal_sim.jsonfmt import dumps, dumps_bytes
from sandbox.paypal_sim.keys import digest, digest_matches
from sandbox.paypal_sim.knobs import KNOBS, knobs_get
from sandbox.paypal_sim.links import Urls
from sandbox.paypal_sim.models import (
    PaypalAccessToken,
    PaypalAccount,
    PaypalCapture,
    PaypalHeldEvent,
    PaypalIdempotentResponse,
    PaypalOrder,
    PaypalRefund,
    PaypalSandboxKnobs,
    PaypalWebhook,
    PaypalWebhookDelivery,
    PaypalWebhookEvent,
)
from sandbox.paypal_sim.serializers import (
    BUYER_PAYER_ID,
    capture_to_dict,
    event_envelope,
    order_to_dict,
    refund_to_dict,
)
from sandbox.paypal_sim.signing import (
    AUTH_ALGO,
    certificate_path,
    foreign_private_key,
    headers_for,
    sign_message,
    signature_message,
    signature_valid,
    signing_key_get,
    transmission_time_format,
)
from sandbox.paypal_sim.validation import Money, OrderRequest, RefundRequest, VerifyRequest

logger = logging.getLogger(__name__)

ID_ALPHABET: Final = string.ascii_uppercase + string.digits
# Anything an id from a URL or a body can be; other text (a NUL byte, say) is no id of ours and
# must not reach PostgreSQL, which refuses NUL in text.
PLAUSIBLE_ID: Final = re.compile(r"[A-Za-z0-9-]{1,40}")
TOKEN_LIFETIME: Final = dt.timedelta(seconds=32400)
TOKEN_SCOPE: Final = " ".join(
    [
        "https://uri.paypal.com/services/payments/payment/authcapture",
        "https://uri.paypal.com/services/payments/refund",
        "https://uri.paypal.com/services/payments/orders/client_sdk_orders_api",
        "https://uri.paypal.com/services/applications/webhooks",
        "openid",
    ]
)
MAX_WEBHOOKS_PER_ACCOUNT: Final = 10
WEBHOOK_TIMEOUT: Final = httpx.Timeout(30.0, connect=5.0)
# Where the foreign_cert knob claims the certificate lives: a host no allow-list should hold.
FOREIGN_CERT_URL: Final = "http://certs.attacker.example/cert.pem"
Webhook = PaypalSandboxKnobs.Webhook


def paypal_id(length: int = 17) -> str:
    """An id shaped like PayPal's order, capture and refund ids: "5O190127TN364715T"."""
    return "".join(secrets.choice(ID_ALPHABET) for _ in range(length))


def plausible_id(value: str) -> bool:
    return PLAUSIBLE_ID.fullmatch(value) is not None


def _event_id() -> str:
    return f"WH-{paypal_id()}-{paypal_id()}"


# Accounts and tokens ---------------------------------------------------------------------------


@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    app_id: str
    expires_in: int
    nonce: str
    scope: str = TOKEN_SCOPE


def token_issue(*, client_id: str, secret: str, now: dt.datetime) -> IssuedToken | None:
    """A new access token for the pair, or None when the client_id belongs to another secret.

    The first pair seen for a client_id defines that sandbox account.
    """
    account, _ = PaypalAccount.objects.get_or_create(
        client_id=client_id,
        defaults={
            "secret_digest": digest(secret),
            "app_id": f"APP-{paypal_id()}",
            "merchant_id": paypal_id(13),
        },
    )
    if not digest_matches(secret, account.secret_digest):
        return None
    token = "A21AA" + secrets.token_urlsafe(64)
    with transaction.atomic():
        account.tokens.filter(expires_at__lte=now).delete()
        PaypalAccessToken.objects.create(
            digest=digest(token), account=account, expires_at=now + TOKEN_LIFETIME
        )
        PaypalAccount.objects.filter(pk=account.pk).update(token_requests=F("token_requests") + 1)
    return IssuedToken(
        access_token=token,
        app_id=account.app_id,
        expires_in=int(TOKEN_LIFETIME.total_seconds()),
        nonce=f"{now.astimezone(dt.UTC):%Y-%m-%dT%H:%M:%SZ}{secrets.token_urlsafe(32)}",
    )


def account_for_token(*, token: str, now: dt.datetime) -> PaypalAccount | None:
    """The account a live bearer token belongs to; None for unknown and expired tokens alike."""
    row = (
        PaypalAccessToken.objects.select_related("account")
        .filter(digest=digest(token), expires_at__gt=now)
        .first()
    )
    return row.account if row is not None else None


# Idempotency -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ApiAnswer:
    """A response body as sent, so that a PayPal-Request-Id replay can send it again verbatim."""

    status: int
    body: str


def _replay(
    account: PaypalAccount, operation: PaypalIdempotentResponse.Operation, request_id: str
) -> ApiAnswer | None:
    if not request_id:
        return None
    stored = PaypalIdempotentResponse.objects.filter(
        account=account, operation=operation, request_id=request_id
    ).first()
    return ApiAnswer(stored.status_code, stored.body) if stored is not None else None


def _remember(
    account: PaypalAccount,
    operation: PaypalIdempotentResponse.Operation,
    request_id: str,
    answer: ApiAnswer,
) -> None:
    if request_id:
        PaypalIdempotentResponse.objects.create(
            account=account,
            operation=operation,
            request_id=request_id,
            status_code=answer.status,
            body=answer.body,
        )


# Events ----------------------------------------------------------------------------------------


def _event_create(
    *,
    account: PaypalAccount,
    event_type: str,
    resource_type: str,
    resource_id: str,
    summary: str,
    resource: dict[str, Any],
    urls: Urls,
    now: dt.datetime,
) -> PaypalWebhookEvent:
    event_id = _event_id()
    envelope = event_envelope(
        event_id=event_id,
        event_type=event_type,
        resource_type=resource_type,
        summary=summary,
        resource=resource,
        created_at=now,
        urls=urls,
    )
    return PaypalWebhookEvent.objects.create(
        id=event_id,
        account=account,
        event_type=event_type,
        resource_type=resource_type,
        resource_id=resource_id,
        body=dumps(envelope),
        origin=urls.origin,
        created_at=now,
    )


def _money_text(amount: Decimal, currency: str) -> str:
    return f"{amount_format(amount, currency)} {currency}"


# Orders ----------------------------------------------------------------------------------------


def order_for_account(*, account: PaypalAccount, order_id: str) -> PaypalOrder | None:
    """The order, if that account created it; None for unknown ids and other accounts' alike."""
    if not plausible_id(order_id):
        return None
    return (
        PaypalOrder.objects.select_related("account").filter(pk=order_id, account=account).first()
    )


def order_create(
    *,
    account: PaypalAccount,
    request: OrderRequest,
    request_id: str,
    urls: Urls,
    minimal: bool,
    now: dt.datetime,
) -> ApiAnswer:
    """Create an order awaiting the payer, or replay the answer given to `request_id` before."""
    operation = PaypalIdempotentResponse.Operation.ORDER_CREATE
    replay = _replay(account, operation, request_id)
    if replay is not None:
        return replay
    status = (
        PaypalOrder.Status.CREATED
        if request.legacy_context
        else PaypalOrder.Status.PAYER_ACTION_REQUIRED
    )
    try:
        with transaction.atomic():
            order = PaypalOrder.objects.create(
                id=paypal_id(),
                account=account,
                status=status,
                amount=request.amount.value,
                currency=request.amount.currency,
                reference_id=request.reference_id,
                custom_id=request.custom_id,
                invoice_id=request.invoice_id,
                description=request.description,
                soft_descriptor=request.soft_descriptor,
                legacy_context=request.legacy_context,
                return_url=request.return_url,
                cancel_url=request.cancel_url,
                brand_name=request.brand_name,
                user_action=request.user_action,
                shipping_preference=request.shipping_preference,
                origin=urls.origin,
                created_at=now,
                updated_at=now,
            )
            answer = ApiAnswer(201, dumps(order_to_dict(order, urls, minimal=minimal)))
            _remember(account, operation, request_id, answer)
    except IntegrityError:
        # A concurrent request with the same PayPal-Request-Id won the unique constraint.
        replay = _replay(account, operation, request_id)
        if replay is None:
            raise
        return replay
    return answer


def order_approve(*, order_id: str, decline: bool, urls: Urls, now: dt.datetime) -> str | None:
    """The payer approves on the hosted page; returns the CHECKOUT.ORDER.APPROVED event id, or
    None when the order was no longer awaiting the payer (nothing changes then).

    `decline` approves too, but marks the order so that its capture is DECLINED.
    """
    with transaction.atomic(durable=True):
        order = PaypalOrder.objects.select_for_update().select_related("account").get(pk=order_id)
        if not order.awaits_payer:
            return None
        order.status = PaypalOrder.Status.APPROVED
        order.payer_id = BUYER_PAYER_ID
        order.decline_capture = decline
        order.updated_at = now
        order.save()
        event = _event_create(
            account=order.account,
            event_type="CHECKOUT.ORDER.APPROVED",
            resource_type="checkout-order",
            resource_id=order.id,
            summary="An order has been approved by buyer",
            resource=order_to_dict(order, urls),
            urls=urls,
            now=now,
        )
    return event.id


@dataclass(frozen=True)
class Outcome:
    """What a state-changing API call answers, and the event to deliver once it committed."""

    answer: ApiAnswer | None = None
    error: PayPalApiError | None = None
    event_id: str | None = None


def _capture_refusal(order: PaypalOrder) -> PayPalApiError | None:
    if order.awaits_payer:
        return errors.unprocessable(
            errors.ORDER_NOT_APPROVED,
            "Payer has not yet approved the Order for payment. Please redirect the payer to "
            "the 'rel':'payer-action' url returned as part of the HATEOAS links within the "
            "Create Order call.",
        )
    if order.status == PaypalOrder.Status.COMPLETED:
        return errors.unprocessable(
            errors.ORDER_ALREADY_CAPTURED,
            "Order already captured. If 'intent=CAPTURE' only one capture per order is allowed.",
        )
    if PaypalCapture.objects.filter(order=order).exists():
        return _instrument_declined()
    return None


def _instrument_declined() -> PayPalApiError:
    return errors.unprocessable(
        errors.INSTRUMENT_DECLINED,
        "The instrument presented was either declined by the processor or bank, or it can't "
        "be used for this payment.",
    )


def order_capture(
    *,
    account: PaypalAccount,
    order_id: str,
    request_id: str,
    urls: Urls,
    minimal: bool,
    now: dt.datetime,
) -> Outcome:
    """Capture an APPROVED order once: COMPLETED, or DECLINED when the payer chose decline."""
    operation = PaypalIdempotentResponse.Operation.ORDER_CAPTURE
    if not plausible_id(order_id):
        raise errors.not_found()
    with transaction.atomic(durable=True):
        order = (
            PaypalOrder.objects.select_for_update()
            .select_related("account")
            .filter(pk=order_id, account=account)
            .first()
        )
        if order is None:
            raise errors.not_found()
        replay = _replay(account, operation, request_id)
        if replay is not None:
            return Outcome(answer=replay)
        refusal = _capture_refusal(order)
        if refusal is not None:
            return Outcome(error=refusal)
        declined = order.decline_capture
        capture = PaypalCapture.objects.create(
            id=paypal_id(),
            order=order,
            status=PaypalCapture.Status.DECLINED if declined else PaypalCapture.Status.COMPLETED,
            amount=order.amount,
            currency=order.currency,
            created_at=now,
            updated_at=now,
        )
        amount = _money_text(capture.amount, capture.currency)
        if declined:
            # Real PayPal: the order stays APPROVED and the call fails with INSTRUMENT_DECLINED.
            event = _event_create(
                account=account,
                event_type="PAYMENT.CAPTURE.DENIED",
                resource_type="capture",
                resource_id=capture.id,
                summary=f"Payment denied for {amount}",
                resource=capture_to_dict(capture, urls),
                urls=urls,
                now=now,
            )
            return Outcome(error=_instrument_declined(), event_id=event.id)
        order.status = PaypalOrder.Status.COMPLETED
        order.updated_at = now
        order.save()
        event = _event_create(
            account=account,
            event_type="PAYMENT.CAPTURE.COMPLETED",
            resource_type="capture",
            resource_id=capture.id,
            summary=f"Payment completed for {amount}",
            resource=capture_to_dict(capture, urls),
            urls=urls,
            now=now,
        )
        answer = ApiAnswer(201, dumps(order_to_dict(order, urls, minimal=minimal)))
        _remember(account, operation, request_id, answer)
    return Outcome(answer=answer, event_id=event.id)


# Captures and refunds --------------------------------------------------------------------------


def capture_for_account(*, account: PaypalAccount, capture_id: str) -> PaypalCapture | None:
    if not plausible_id(capture_id):
        return None
    return (
        PaypalCapture.objects.select_related("order__account")
        .filter(pk=capture_id, order__account=account)
        .first()
    )


def refund_for_account(*, account: PaypalAccount, refund_id: str) -> PaypalRefund | None:
    if not plausible_id(refund_id):
        return None
    return (
        PaypalRefund.objects.select_related("capture")
        .filter(pk=refund_id, capture__order__account=account)
        .first()
    )


def _refund_amount(capture: PaypalCapture, request: RefundRequest) -> Decimal:
    """The amount to refund (default: all that remains), or a PayPal refusal."""
    if capture.status == PaypalCapture.Status.DECLINED:
        raise errors.unprocessable(
            errors.REFUND_NOT_ALLOWED, "A declined capture cannot be refunded."
        )
    if capture.status == PaypalCapture.Status.REFUNDED:
        raise errors.unprocessable(
            errors.CAPTURE_FULLY_REFUNDED, "The capture has already been fully refunded."
        )
    if request.amount is None:
        return capture.remaining
    if request.amount.currency != capture.currency:
        raise errors.unprocessable(
            errors.REFUND_CAPTURE_CURRENCY_MISMATCH,
            "Refund must be in the same currency as the capture.",
            field="/amount/currency_code",
        )
    if request.amount.value > capture.remaining:
        raise errors.unprocessable(
            errors.REFUND_AMOUNT_EXCEEDED,
            "The refund amount must be less than or equal to the capture amount that has not "
            "yet been refunded.",
            field="/amount/value",
        )
    return request.amount.value


def capture_refund(
    *,
    account: PaypalAccount,
    capture_id: str,
    request: RefundRequest,
    request_id: str,
    urls: Urls,
    minimal: bool,
    now: dt.datetime,
) -> Outcome:
    """Refund part or all of what remains of a capture; never more than was captured."""
    operation = PaypalIdempotentResponse.Operation.CAPTURE_REFUND
    if not plausible_id(capture_id):
        raise errors.not_found()
    with transaction.atomic(durable=True):
        capture = (
            PaypalCapture.objects.select_for_update(of=("self",))
            .select_related("order__account")
            .filter(pk=capture_id, order__account=account)
            .first()
        )
        if capture is None:
            raise errors.not_found()
        replay = _replay(account, operation, request_id)
        if replay is not None:
            return Outcome(answer=replay)
        amount = _refund_amount(capture, request)
        capture.refunded_amount += amount
        capture.status = (
            PaypalCapture.Status.REFUNDED
            if capture.remaining == 0
            else PaypalCapture.Status.PARTIALLY_REFUNDED
        )
        capture.updated_at = now
        capture.save()
        refund = PaypalRefund.objects.create(
            id=paypal_id(),
            capture=capture,
            amount=amount,
            currency=capture.currency,
            total_refunded=capture.refunded_amount,
            note_to_payer=request.note_to_payer,
            invoice_id=request.invoice_id,
            custom_id=request.custom_id,
            created_at=now,
        )
        event = _event_create(
            account=account,
            event_type="PAYMENT.CAPTURE.REFUNDED",
            resource_type="refund",
            resource_id=refund.id,
            summary=f"A {_money_text(amount, capture.currency)} capture payment was refunded",
            resource=refund_to_dict(refund, urls),
            urls=urls,
            now=now,
        )
        answer = ApiAnswer(201, dumps(refund_to_dict(refund, urls, minimal=minimal)))
        _remember(account, operation, request_id, answer)
    return Outcome(answer=answer, event_id=event.id)


# Webhook registrations -------------------------------------------------------------------------


def webhook_create(
    *, account: PaypalAccount, url: str, event_types: tuple[str, ...]
) -> PaypalWebhook:
    """Register a listener; PayPal refuses a second one on the same URL and more than ten."""
    if PaypalWebhook.objects.filter(account=account).count() >= MAX_WEBHOOKS_PER_ACCOUNT:
        raise errors.invalid_request(
            errors.WEBHOOK_NUMBER_LIMIT_EXCEEDED,
            f"An app may have at most {MAX_WEBHOOKS_PER_ACCOUNT} webhooks.",
        )
    names = ["*"] if "*" in event_types else list(event_types)
    try:
        with transaction.atomic():
            return PaypalWebhook.objects.create(
                id=paypal_id(), account=account, url=url, event_types=names
            )
    except IntegrityError:
        raise errors.invalid_request(
            errors.WEBHOOK_URL_ALREADY_EXISTS, "Webhook URL already exists.", field="/url"
        ) from None


def webhook_for_account(*, account: PaypalAccount, webhook_id: str) -> PaypalWebhook | None:
    if not plausible_id(webhook_id):
        return None
    return PaypalWebhook.objects.filter(pk=webhook_id, account=account).first()


def event_for_account(*, account: PaypalAccount, event_id: str) -> PaypalWebhookEvent | None:
    if not plausible_id(event_id):
        return None
    return PaypalWebhookEvent.objects.filter(pk=event_id, account=account).first()


# Delivery --------------------------------------------------------------------------------------


def _delivery_headers(
    *, mode: str, body: bytes, webhook_id: str, cert_url: str, now: dt.datetime
) -> dict[str, str]:
    transmission_id = str(uuid.uuid4())
    transmission_time = transmission_time_format(now)
    signed_body = body + b" " if mode == Webhook.BAD_SIGNATURE else body
    message = signature_message(
        transmission_id=transmission_id,
        transmission_time=transmission_time,
        webhook_id=webhook_id,
        body=signed_body,
    )
    foreign = mode == Webhook.FOREIGN_CERT
    return headers_for(
        signature=sign_message(message, foreign_private_key() if foreign else None),
        transmission_id=transmission_id,
        transmission_time=transmission_time,
        cert_url=FOREIGN_CERT_URL if foreign else cert_url,
    )


def _webhook_post(*, url: str, body: bytes, headers: dict[str, str]) -> tuple[int | None, str]:
    """POST one delivery; (status code, "") or (None, what went wrong). Never raises."""
    try:
        # trust_env=False: the receiver is the merchant's URL as given, never a proxy's guess.
        with httpx.Client(timeout=WEBHOOK_TIMEOUT, trust_env=False) as client:
            response = client.post(url, content=body, headers=headers)
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        logger.warning("paypal sandbox webhook to %s failed: %s", url, exc)
        return None, f"{type(exc).__name__}: {exc}"[:255]
    if not response.is_success:
        logger.warning("paypal sandbox webhook to %s answered %s", url, response.status_code)
    return response.status_code, ""


def _event_targets(
    event: PaypalWebhookEvent, webhook_ids: tuple[str, ...] | list[str]
) -> list[PaypalWebhook]:
    """The webhooks `webhook_ids` names, or else those of the account subscribed to the event."""
    webhooks = PaypalWebhook.objects.filter(account_id=event.account_id)
    if webhook_ids:
        return list(webhooks.filter(pk__in=webhook_ids))
    return [webhook for webhook in webhooks if webhook.wants(event.event_type)]


def _event_send(
    *,
    event: PaypalWebhookEvent,
    webhooks: list[PaypalWebhook],
    mode: str,
    urls: Urls,
    now: dt.datetime | None = None,
) -> int:
    """POST the stored event to `webhooks`, signed at `now` (or when it goes out); every attempt
    is recorded as a PaypalWebhookDelivery. Returns the deliveries attempted; never raises for a
    failing receiver."""
    body = event.body.encode("utf-8")
    cert_url = urls.certificate(signing_key_get().cert_id)
    repeats = 2 if mode == Webhook.DUPLICATE else 1
    attempted = 0
    for webhook in webhooks:
        for _ in range(repeats):
            headers = _delivery_headers(
                mode=mode,
                body=body,
                webhook_id=webhook.id,
                cert_url=cert_url,
                now=timezone.now() if now is None else now,
            )
            status, error = _webhook_post(url=webhook.url, body=body, headers=headers)
            PaypalWebhookDelivery.objects.create(
                event=event,
                webhook=webhook,
                webhook_ref=webhook.id,
                url=webhook.url,
                transmission_id=headers["PAYPAL-TRANSMISSION-ID"],
                mode=mode,
                status_code=status,
                error=error,
            )
            attempted += 1
    return attempted


def event_deliver(
    *, event_id: str, urls: Urls, now: dt.datetime, webhook_ids: tuple[str, ...] = ()
) -> int:
    """POST the stored event to every subscribed webhook of its account (or to `webhook_ids`),
    as the fault knobs say; returns the number of deliveries attempted (or scheduled, when
    delayed). A held event waits for `flush`.

    Never raises for a failing receiver: each attempt is recorded as a PaypalWebhookDelivery.
    """
    event = PaypalWebhookEvent.objects.get(pk=event_id)
    knobs = knobs_get()
    mode = knobs.webhook
    if mode == Webhook.DROP:
        logger.info("paypal sandbox event %s not delivered (mode=drop)", event_id)
        return 0
    if mode == Webhook.HOLD:
        PaypalHeldEvent.objects.create(event=event, webhook_ids=list(webhook_ids))
        logger.info("paypal sandbox event %s held until a flush", event_id)
        return 0
    webhooks = _event_targets(event, webhook_ids)
    if knobs.delay_seconds > 0:
        run_later(
            delay_seconds=knobs.delay_seconds,
            label=event_id,
            work=lambda: _event_send(event=event, webhooks=webhooks, mode=mode, urls=urls),
        )
        return len(webhooks) * (2 if mode == Webhook.DUPLICATE else 1)
    return _event_send(event=event, webhooks=webhooks, mode=mode, urls=urls, now=now)


def _fallback_urls() -> Urls:
    # Only rows from before origins were recorded lack one.
    return Urls(origin=str(getattr(settings, "WASLA_SANDBOX_BASE_URL", "")).rstrip("/"))


def flush(order: str = "forward", duplicate: bool = False) -> int:
    """Deliver every event the "hold" knob kept back, in the order they happened ("forward") or
    reversed, each twice when `duplicate`, signed now; returns how many POSTs were made.

    The held rows are claimed first (`KnobStore.held_claim`), so concurrent flushes never
    deliver one twice.
    """
    held = KNOBS.held_claim(order)
    mode = Webhook.DUPLICATE if duplicate else Webhook.SEND
    attempted = 0
    for row in held:
        try:
            event = PaypalWebhookEvent.objects.get(pk=row.event_id)
            attempted += _event_send(
                event=event,
                webhooks=_event_targets(event, row.webhook_ids),
                mode=mode,
                urls=Urls(origin=event.origin) if event.origin else _fallback_urls(),
            )
        except Exception:
            logger.exception("paypal sandbox event %s could not be flushed", row.event_id)
    return attempted


# Dashboard refunds -----------------------------------------------------------------------------


def _dashboard_capture(payment: str) -> PaypalCapture:
    """The capture a dashboard refund is for: by capture id, or by the id of its order."""
    if not plausible_id(payment):
        raise errors.not_found()
    capture = (
        PaypalCapture.objects.select_related("order__account").filter(pk=payment).first()
        or PaypalCapture.objects.select_related("order__account").filter(order_id=payment).first()
    )
    if capture is None:
        raise errors.not_found()
    return capture


def dashboard_refund(
    payment: str, amount: Decimal | None = None, *, urls: Urls | None = None
) -> dict[str, Any]:
    """A refund the merchant makes in PayPal's dashboard: the product only hears the webhook.

    `payment` is a capture id or an order id; `amount` defaults to all that remains. Refunds
    exactly as `POST /v2/payments/captures/{id}/refund` would, delivers the same
    PAYMENT.CAPTURE.REFUNDED event as the knobs say, and returns the refund. Links are built on
    `urls` (default: the host the order was created through). Raises PayPalApiError (404
    unknown id, 422 not refundable or not that much) like the API.
    """
    capture = _dashboard_capture(payment)
    order = capture.order
    urls = urls or (Urls(origin=order.origin) if order.origin else _fallback_urls())
    if amount is not None and (amount <= 0 or not amount_is_exact(amount, capture.currency)):
        raise errors.unprocessable(
            errors.DECIMAL_PRECISION,
            f"The amount must be above zero with at most {capture.currency}'s decimals.",
            field="/amount/value",
        )
    request = RefundRequest(
        amount=None if amount is None else Money(currency=capture.currency, value=amount),
        note_to_payer="",
        invoice_id="",
        custom_id="",
    )
    now = timezone.now()
    outcome = capture_refund(
        account=order.account,
        capture_id=capture.id,
        request=request,
        request_id="",
        urls=urls,
        minimal=False,
        now=now,
    )
    if outcome.event_id is not None:
        try:
            event_deliver(event_id=outcome.event_id, urls=urls, now=now)
        except Exception:
            logger.exception("paypal sandbox event %s could not be delivered", outcome.event_id)
    if outcome.error is not None:
        raise outcome.error
    if outcome.answer is None:
        raise AssertionError("an outcome carries an answer or an error")
    refund: dict[str, Any] = loads(outcome.answer.body)
    return refund


# Signature verification API --------------------------------------------------------------------


def _own_certificate_url(cert_url: str) -> bool:
    try:
        return urlsplit(cert_url).path == certificate_path()
    except ValueError:
        return False


def signature_verify(*, account: PaypalAccount, request: VerifyRequest) -> bool:
    """What verify-webhook-signature answers: the signature must be the sandbox key's over the
    message built with the CRC32 of `webhook_event` in its canonical serialisation (jsonfmt)."""
    if request.auth_algo != AUTH_ALGO or not _own_certificate_url(request.cert_url):
        return False
    if webhook_for_account(account=account, webhook_id=request.webhook_id) is None:
        return False
    try:
        body = dumps_bytes(request.webhook_event)
    except (TypeError, ValueError, UnicodeEncodeError):
        return False
    message = signature_message(
        transmission_id=request.transmission_id,
        transmission_time=request.transmission_time,
        webhook_id=request.webhook_id,
        body=body,
    )
    return signature_valid(message=message, signature_b64=request.transmission_sig)
