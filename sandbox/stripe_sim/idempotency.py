"""`Idempotency-Key` on POST, as Stripe v1 keeps it.

The first request with a key reserves it (a row, unique per account) before it runs. When it
succeeds, or ends in a card decline (402, after the attempt changed state), its status and body
are stored, encrypted because a body may carry a `whsec_` secret; a
retry with the same key and parameters gets exactly that answer back. The same key with other
parameters, or on another endpoint, is an `idempotency_error`; while the first request is still
running a retry gets 409 (which stripe-python retries). A request refused (validation, 404, …)
stores nothing, so it can be corrected and retried with the same key. Keys are forgotten after 24
hours.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Final

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from sandbox.stripe_sim import errors
from sandbox.stripe_sim.keys import secret_decrypt, secret_encrypt
from sandbox.stripe_sim.models import StripeAccount, StripeIdempotencyKey

MAX_KEY_LENGTH: Final = 255
KEY_LIFETIME: Final = timedelta(hours=24)
RESERVE_ATTEMPTS: Final = 3


@dataclass(frozen=True)
class StoredResponse:
    status: int
    body: str
    request_id: str


def params_digest(method: str, params: dict[str, Any]) -> str:
    canonical = json.dumps([method, params], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def idempotency_key_check(key: str) -> str:
    if len(key) > MAX_KEY_LENGTH:
        raise errors.invalid(
            f"Idempotency-Key is too long: keys can be at most {MAX_KEY_LENGTH} characters."
        )
    if not key.isprintable():
        raise errors.invalid("Idempotency-Key may only contain printable characters.")
    return key


def _mismatch(row: StripeIdempotencyKey, path: str, digest: str) -> errors.StripeApiError | None:
    if row.path != path:
        return errors.StripeApiError(
            400,
            "Keys for idempotent requests can only be used for the same endpoint they were first "
            f"used for ('{row.path}' vs '{path}'). Try using a key other than "
            f"'{row.key}' if you meant to execute a different request.",
            type=errors.IDEMPOTENCY,
        )
    if row.params_digest != digest:
        return errors.StripeApiError(
            400,
            "Keys for idempotent requests can only be used with the same parameters they were "
            f"first used with. Try using a key other than '{row.key}' if you meant to execute a "
            "different request.",
            type=errors.IDEMPOTENCY,
        )
    return None


def _in_progress(key: str) -> errors.StripeApiError:
    return errors.StripeApiError(
        409,
        "There is currently another in-progress request using this Stripe API Idempotency-Key "
        "(that probably means you submitted twice, and the other request is still going "
        f"through): {key}. Please try again later.",
        code="idempotency_key_in_use",
        type=errors.IDEMPOTENCY,
    )


def idempotency_begin(
    *, account: StripeAccount, key: str, path: str, digest: str, request_id: str
) -> StoredResponse | None:
    """Reserve `key` for this request (None: go ahead) or return the answer to replay.

    Raises StripeApiError for a key reused with other parameters or still in progress.
    """
    for _ in range(RESERVE_ATTEMPTS):
        try:
            with transaction.atomic():
                StripeIdempotencyKey.objects.create(
                    account=account,
                    key=key,
                    method="POST",
                    path=path,
                    params_digest=digest,
                    request_id=request_id,
                )
            return None
        except IntegrityError:
            row = StripeIdempotencyKey.objects.filter(account=account, key=key).first()
        if row is None:
            continue  # the holder failed and released it between our insert and our read
        if row.created_at < timezone.now() - KEY_LIFETIME:
            row.delete()
            continue
        mismatch = _mismatch(row, path, digest)
        if mismatch is not None:
            raise mismatch
        if row.status_code is None:
            raise _in_progress(key)
        return StoredResponse(
            row.status_code, secret_decrypt(row.response_encrypted), row.request_id
        )
    raise _in_progress(key)


def _reserved(account: StripeAccount, key: str) -> QuerySet[StripeIdempotencyKey]:
    return StripeIdempotencyKey.objects.filter(account=account, key=key, status_code=None)


def idempotency_store(*, account: StripeAccount, key: str, status: int, body: str) -> None:
    """Keep the answer of the request that reserved `key` (a success or a 402), for replays."""
    _reserved(account, key).update(status_code=status, response_encrypted=secret_encrypt(body))


def idempotency_release(*, account: StripeAccount, key: str) -> None:
    """Forget a reservation whose request failed; the key is free again."""
    _reserved(account, key).delete()
