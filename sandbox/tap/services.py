"""Writes of the Tap simulator: create a charge, settle it once, deliver its webhook."""

from __future__ import annotations

import logging
import secrets
import string
import time
from collections.abc import Callable
from typing import Final

import httpx
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from sandbox.models import TapCharge, TapSandboxKnobs
from sandbox.tap.jsonfmt import dumps
from sandbox.tap.keys import key_decrypt, key_digest, key_encrypt
from sandbox.tap.knobs import knobs_get
from sandbox.tap.serializers import CARD_PAYMENT_METHOD, charge_to_dict
from sandbox.tap.signing import tap_hashstring
from sandbox.tap.validation import ChargeRequest

logger = logging.getLogger(__name__)

ID_ALPHABET: Final = string.ascii_letters + string.digits
WEBHOOK_TIMEOUT: Final = httpx.Timeout(30.0, connect=5.0)
STC_PAY_DECLINING_OTP: Final = "000000"

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


def _wrong_key() -> str:
    # Same shape as a real key, so the receiver cannot tell it apart except by the HMAC.
    return "sk_test_" + secrets.token_urlsafe(18)


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


def webhook_deliver(*, charge_id: str) -> int:
    """POST the charge to its `post.url`, as the fault knobs say; returns deliveries attempted.

    Never raises for a failing receiver: the outcome is recorded in `post.status`/`post.attempt`.
    """
    charge = TapCharge.objects.get(pk=charge_id)
    mode = knobs_get().webhook
    if not charge.post_url or mode == TapSandboxKnobs.Webhook.DROP:
        logger.info("tap sandbox webhook for %s not sent (mode=%s)", charge_id, mode)
        return 0
    payload = charge_to_dict(charge)
    secret_key = key_decrypt(charge.key_encrypted)
    if mode == TapSandboxKnobs.Webhook.BAD_SIGNATURE:
        secret_key = _wrong_key()
    body = dumps(payload).encode()
    hashstring = tap_hashstring(payload, secret_key)
    deliveries = 2 if mode == TapSandboxKnobs.Webhook.DUPLICATE else 1
    for _ in range(deliveries):
        delivered = _webhook_post(url=charge.post_url, body=body, hashstring=hashstring)
        TapCharge.objects.filter(pk=charge_id).update(
            post_status="SUCCESS" if delivered else "ERROR",
            post_attempt=F("post_attempt") + 1,
            updated_at=timezone.now(),
        )
    return deliveries
