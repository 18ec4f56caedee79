"""Writes of the Tap simulator: create a charge, settle it once, refund it, deliver webhooks.

Webhooks follow the fault knobs: sent at once, late (`delay_seconds`, from a background thread),
dropped, duplicated, mis-signed, or held until `flush`. They always go out after the change they
announce is committed, never while a row lock is held.
"""

from __future__ import annotations

import logging
import secrets
import string
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final

import httpx
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from sandbox.faults import run_later
from sandbox.tap_sim import errors
from sandbox.tap_sim.currencies import amount_quantum
from sandbox.tap_sim.errors import TapApiError
from sandbox.tap_sim.jsonfmt import dumps
from sandbox.tap_sim.keys import key_decrypt, key_digest, key_encrypt
from sandbox.tap_sim.knobs import KNOBS, knobs_get
from sandbox.tap_sim.models import TapCharge, TapHeldWebhook, TapRefund, TapSandboxKnobs
from sandbox.tap_sim.serializers import CARD_PAYMENT_METHOD, charge_to_dict, refund_to_dict
from sandbox.tap_sim.signing import tap_hashstring
from sandbox.tap_sim.validation import ChargeRequest, RefundRequest

logger = logging.getLogger(__name__)

ID_ALPHABET: Final = string.ascii_letters + string.digits
WEBHOOK_TIMEOUT: Final = httpx.Timeout(30.0, connect=5.0)
STC_PAY_DECLINING_OTP: Final = "000000"
DASHBOARD_DESCRIPTION: Final = "Refunded from the Tap dashboard"

FINAL_RESPONSES: Final = {
    TapCharge.Status.CAPTURED: ("000", "Captured"),
    TapCharge.Status.DECLINED: ("507", "Declined"),
    TapCharge.Status.CANCELLED: ("301", "Cancelled"),
}
# Known from the source alone; card charges learn theirs when the card is entered.
SOURCE_PAYMENT_METHODS: Final[dict[str, str]] = {
    TapCharge.Source.MADA: "MADA",
    TapCharge.Source.STC_PAY: "STC_PAY",
}


def _random_id(prefix: str, length: int = 22) -> str:
    return prefix + "".join(secrets.choice(ID_ALPHABET) for _ in range(length))


def _random_digits(length: int) -> str:
    return "".join(secrets.choice(string.digits) for _ in range(length))


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def charge_get_for_key(*, charge_id: str, secret_key: str) -> TapCharge | None:
    """The charge, if that key created it; None for unknown ids and other keys' charges alike."""
    return TapCharge.objects.filter(pk=charge_id, key_digest=key_digest(secret_key)).first()


def _charge_find_idempotent(*, digest: str, idempotent: str) -> TapCharge | None:
    if not idempotent:
        return None
    return TapCharge.objects.filter(key_digest=digest, ref_idempotent=idempotent).first()


def charge_create(
    *,
    request: ChargeRequest,
    secret_key: str,
    pay_url_for: Callable[[str], str],
    created_ms: int,
) -> TapCharge:
    """Create an INITIATED charge, or return the original one for a replayed idempotent value."""
    digest = key_digest(secret_key)
    existing = _charge_find_idempotent(digest=digest, idempotent=request.ref_idempotent)
    if existing is not None:
        return existing
    charge_id = _random_id("chg_TS")
    charge = TapCharge(
        id=charge_id,
        key_digest=digest,
        key_encrypted=key_encrypt(secret_key),
        amount=request.amount,
        currency=request.currency,
        source_id=request.source_id,
        payment_method=SOURCE_PAYMENT_METHODS.get(request.source_id, ""),
        three_d_secure=request.three_d_secure,
        customer_initiated=request.customer_initiated,
        save_card=request.save_card,
        description=request.description,
        metadata=request.metadata,
        customer=request.customer,
        receipt=request.receipt,
        merchant=request.merchant,
        source_phone=request.source_phone,
        ref_transaction=request.ref_transaction,
        ref_order=request.ref_order,
        ref_idempotent=request.ref_idempotent,
        ref_track=_random_id("tck_TS"),
        transaction_url=pay_url_for(charge_id),
        created_ms=created_ms,
        expiry_period=request.expiry_period,
        redirect_url=request.redirect_url,
        post_url=request.post_url,
    )
    try:
        with transaction.atomic():
            charge.save(force_insert=True)
    except IntegrityError:
        # A concurrent replay won the unique (key, idempotent) constraint: answer with its charge.
        winner = _charge_find_idempotent(digest=digest, idempotent=request.ref_idempotent)
        if winner is None:
            raise
        return winner
    return charge


def stcpay_status_for_otp(otp: str) -> TapCharge.Status:
    """What an STC Pay OTP does: the sandbox's 000000 declines, any other valid OTP captures."""
    if otp == STC_PAY_DECLINING_OTP:
        return TapCharge.Status.DECLINED
    return TapCharge.Status.CAPTURED


def charge_settle(
    *, charge_id: str, status: TapCharge.Status, card_entered: bool, redirected: bool
) -> bool:
    """Move an INITIATED charge to a final `status`; False when it was already final.

    The row lock makes two concurrent submissions settle once. `durable=True` guarantees the
    change is committed when this returns, because the webhook receiver re-fetches the charge
    from another connection.
    """
    if status not in FINAL_RESPONSES:
        raise ValueError(f"{status} is not a final status")
    with transaction.atomic(durable=True):
        charge = TapCharge.objects.select_for_update().get(pk=charge_id)
        if charge.is_final:
            return False
        charge.status = status
        charge.response_code, charge.response_message = FINAL_RESPONSES[status]
        charge.ref_gateway = _random_digits(12)
        charge.ref_payment = _random_digits(19)
        if charge.is_card and card_entered:
            charge.card_entered = True
            charge.payment_method = CARD_PAYMENT_METHOD
        if redirected:
            charge.redirect_status = "SUCCESS"
        charge.save()
    return True


# Refunds ---------------------------------------------------------------------------------------


def refund_get_for_key(*, refund_id: str, secret_key: str) -> TapRefund | None:
    """The refund, if that key made it; None for unknown ids and other keys' refunds alike."""
    return TapRefund.objects.filter(pk=refund_id, key_digest=key_digest(secret_key)).first()


def _refund_find_idempotent(*, digest: str, merchant: str) -> TapRefund | None:
    if not merchant:
        return None
    return TapRefund.objects.filter(key_digest=digest, ref_merchant=merchant).first()


def _refund_amount(charge: TapCharge, request: RefundRequest) -> Decimal:
    """What to refund (default: all that remains), or Tap's refusal."""
    if charge.status != TapCharge.Status.CAPTURED:
        raise errors.bad_request(
            errors.INVALID_STATE, f"Only CAPTURED charges can be refunded; this is {charge.status}"
        )
    if request.currency is not None and request.currency != charge.currency:
        raise errors.bad_request(
            errors.INVALID_CURRENCY, f"The refund must be in {charge.currency}, as the charge"
        )
    remaining = charge.amount_refundable
    if remaining <= 0:
        raise errors.bad_request(
            errors.REFUND_EXCEEDS_CAPTURED, "The charge has already been fully refunded"
        )
    amount = remaining if request.amount is None else request.amount
    if amount <= 0 or amount % amount_quantum(charge.currency) != 0:
        raise errors.bad_request(
            errors.INVALID_AMOUNT, f"Amount must be above zero with {charge.currency}'s decimals"
        )
    if amount > remaining:
        raise errors.bad_request(
            errors.REFUND_EXCEEDS_CAPTURED,
            f"The refund amount exceeds what remains refundable on the charge ({remaining} "
            f"{charge.currency})",
        )
    return amount


def _refund_insert(*, request: RefundRequest, digest: str | None, created_ms: int) -> TapRefund:
    """Refund the charge under its row lock; `digest` None means any key's charge (dashboard)."""
    with transaction.atomic(durable=True):
        charges = TapCharge.objects.select_for_update().filter(pk=request.charge_id)
        if digest is not None:
            charges = charges.filter(key_digest=digest)
        charge = charges.first()
        if charge is None:
            raise TapApiError(404, errors.NOT_FOUND, "Charge not found")
        amount = _refund_amount(charge, request)
        charge.amount_refunded += amount
        charge.save(update_fields=["amount_refunded", "updated_at"])
        return TapRefund.objects.create(
            id=_random_id("re_TS"),
            charge=charge,
            key_digest=charge.key_digest,
            amount=amount,
            currency=charge.currency,
            reason=request.reason,
            description=request.description,
            metadata=request.metadata,
            ref_merchant=request.ref_merchant,
            ref_gateway=_random_digits(12),
            ref_payment=_random_digits(19),
            created_ms=created_ms,
            post_url=request.post_url or charge.post_url,
        )


def refund_create(
    *, request: RefundRequest, secret_key: str, created_ms: int
) -> tuple[TapRefund, bool]:
    """`POST /v2/refunds`: refund a CAPTURED charge of this key, never beyond what it captured.

    Returns the refund and whether it is new; a replayed `reference.merchant` returns the
    original refund (False) and changes nothing. The change is committed when this returns.
    """
    digest = key_digest(secret_key)
    existing = _refund_find_idempotent(digest=digest, merchant=request.ref_merchant)
    if existing is not None:
        return existing, False
    try:
        return _refund_insert(request=request, digest=digest, created_ms=created_ms), True
    except IntegrityError:
        # A concurrent replay won the unique (key, merchant reference) constraint.
        winner = _refund_find_idempotent(digest=digest, merchant=request.ref_merchant)
        if winner is None:
            raise
        return winner, False


def dashboard_refund(payment: str, amount: Decimal | None = None) -> dict[str, Any]:
    """A refund the merchant makes in Tap's dashboard: the product only hears the webhook.

    `payment` is the charge id (`chg_…`), `amount` defaults to all that remains. Makes the refund
    exactly as the API would, delivers its webhook as the knobs say, and returns the refund
    object. Raises TapApiError (404 unknown charge, 400 not refundable) like the API.
    """
    request = RefundRequest(
        charge_id=payment,
        amount=amount,
        currency=None,
        reason=TapRefund.Reason.REQUESTED_BY_CUSTOMER,
        description=DASHBOARD_DESCRIPTION,
    )
    refund = _refund_insert(request=request, digest=None, created_ms=now_ms())
    refund_webhook_deliver(refund_id=refund.id)
    refund.refresh_from_db()
    return refund_to_dict(refund)


# Webhooks --------------------------------------------------------------------------------------


def _wrong_key() -> str:
    # Same shape as a real key, so the receiver cannot tell it apart except by the HMAC.
    return "sk_test_" + secrets.token_urlsafe(18)


@dataclass(frozen=True)
class Webhook:
    """One webhook ready to go: the body as sent and its `hashstring` header."""

    kind: str  # TapHeldWebhook.Kind
    object_id: str
    url: str
    body: bytes
    hashstring: str


def _webhook_post(*, url: str, body: bytes, hashstring: str) -> bool:
    headers = {"Content-Type": "application/json", "hashstring": hashstring}
    try:
        # trust_env=False: the receiver is the merchant's URL as given, never a proxy's guess.
        with httpx.Client(timeout=WEBHOOK_TIMEOUT, trust_env=False) as client:
            response = client.post(url, content=body, headers=headers)
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        logger.warning("tap sandbox webhook to %s failed: %s", url, exc)
        return False
    if not response.is_success:
        logger.warning("tap sandbox webhook to %s answered %s", url, response.status_code)
    return response.is_success


def _webhook_send(webhook: Webhook, repeats: int) -> int:
    """POST `repeats` times, recording each outcome in the object's `post.status`/`post.attempt`."""
    model: type[TapCharge] | type[TapRefund] = (
        TapRefund if webhook.kind == TapHeldWebhook.Kind.REFUND else TapCharge
    )
    for _ in range(repeats):
        delivered = _webhook_post(url=webhook.url, body=webhook.body, hashstring=webhook.hashstring)
        model.objects.filter(pk=webhook.object_id).update(
            post_status="SUCCESS" if delivered else "ERROR",
            post_attempt=F("post_attempt") + 1,
            updated_at=timezone.now(),
        )
    return repeats


def _webhook_dispatch(
    *, kind: str, object_id: str, url: str, payload: dict[str, Any], secret_key: str
) -> int:
    """Send `payload` as the fault knobs say; returns the deliveries attempted or scheduled."""
    knobs = knobs_get()
    mode = knobs.webhook
    if not url or mode == TapSandboxKnobs.Webhook.DROP:
        logger.info("tap sandbox webhook for %s not sent (mode=%s)", object_id, mode)
        return 0
    if mode == TapSandboxKnobs.Webhook.BAD_SIGNATURE:
        secret_key = _wrong_key()
    webhook = Webhook(
        kind=kind,
        object_id=object_id,
        url=url,
        body=dumps(payload).encode(),
        hashstring=tap_hashstring(payload, secret_key),
    )
    if mode == TapSandboxKnobs.Webhook.HOLD:
        TapHeldWebhook.objects.create(
            kind=kind,
            object_id=object_id,
            url=url,
            body=webhook.body.decode(),
            hashstring=webhook.hashstring,
        )
        logger.info("tap sandbox webhook for %s held until a flush", object_id)
        return 0
    repeats = 2 if mode == TapSandboxKnobs.Webhook.DUPLICATE else 1
    if knobs.delay_seconds > 0:
        run_later(
            delay_seconds=knobs.delay_seconds,
            label=object_id,
            work=lambda: _webhook_send(webhook, repeats),
        )
        return repeats
    return _webhook_send(webhook, repeats)


def webhook_deliver(*, charge_id: str) -> int:
    """POST the charge to its `post.url`, as the fault knobs say; returns deliveries attempted
    (or scheduled, when delayed).

    Never raises for a failing receiver: the outcome is recorded in `post.status`/`post.attempt`.
    """
    charge = TapCharge.objects.get(pk=charge_id)
    return _webhook_dispatch(
        kind=TapHeldWebhook.Kind.CHARGE,
        object_id=charge.id,
        url=charge.post_url,
        payload=charge_to_dict(charge),
        secret_key=key_decrypt(charge.key_encrypted),
    )


def refund_webhook_deliver(*, refund_id: str) -> int:
    """POST the refund to its `post.url` (the charge's when it gave none), signed with the
    refund formula, as the fault knobs say; returns deliveries attempted or scheduled."""
    refund = TapRefund.objects.select_related("charge").get(pk=refund_id)
    return _webhook_dispatch(
        kind=TapHeldWebhook.Kind.REFUND,
        object_id=refund.id,
        url=refund.post_url,
        payload=refund_to_dict(refund),
        secret_key=key_decrypt(refund.charge.key_encrypted),
    )


def flush(order: str = "forward", duplicate: bool = False) -> int:
    """Send every webhook the "hold" knob kept back, in the order they happened ("forward") or
    reversed, each twice when `duplicate`; returns how many POSTs were made.

    The held rows are claimed first (`KnobStore.held_claim`), so concurrent flushes never send
    one twice.
    """
    held = KNOBS.held_claim(order)
    repeats = 2 if duplicate else 1
    return sum(
        _webhook_send(
            Webhook(
                kind=row.kind,
                object_id=row.object_id,
                url=row.url,
                body=row.body.encode(),
                hashstring=row.hashstring,
            ),
            repeats,
        )
        for row in held
    )
