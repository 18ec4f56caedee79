"""Webhook inbox: verify on the raw bytes, store once, answer fast, then process.

Every delivery becomes a `WebhookEvent` row: rejected ones (bad signature) for the audit trail,
verified ones exactly once per (provider, gateway config, event id) thanks to a unique index,
so concurrent duplicates collapse into one row and one processing.
"""

from __future__ import annotations

import hashlib
import logging
import traceback
import uuid

from django.db import IntegrityError, transaction
from django.db.models import F
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from wasla.common.problems import problem_response
from wasla.common.scrub import scrub

from .models import PaymentAttempt, PaymentDispute, PaymentGatewayConfig, WebhookEvent
from .orchestrator import PaymentOrchestrator
from .providers.base import (
    EventKind,
    PaymentResult,
    ProviderEvent,
    ProviderUnreachable,
    WebhookPayloadError,
    WebhookRequest,
)
from .services import payment_apply_result

logger = logging.getLogger(__name__)

REJECTED_BODY_LIMIT = 16 * 1024  # what we keep of a delivery we could not verify


@csrf_exempt
@require_POST
def webhook_view(request: HttpRequest, provider: str, token: uuid.UUID) -> JsonResponse:
    config = (
        PaymentGatewayConfig.objects.select_related("tenant")
        .filter(provider=provider, webhook_token=token)
        .first()
    )
    if config is None:
        return problem_response(404, "not-found", "Unknown webhook endpoint")
    headers = {name.lower(): value for name, value in request.headers.items()}
    status, outcome = webhook_receive(config=config, body=request.body, headers=headers)
    if status == 401:
        return problem_response(401, "invalid-signature", "Webhook signature is not valid")
    return JsonResponse({"status": outcome}, status=status)


def webhook_receive(
    *, config: PaymentGatewayConfig, body: bytes, headers: dict[str, str]
) -> tuple[int, str]:
    """Verify and store one delivery; queue it for processing. Returns (HTTP status, outcome)."""
    orchestrator = PaymentOrchestrator()
    request = WebhookRequest(body=body, headers=headers)
    stored_headers = scrub(headers)
    if not orchestrator.validate_webhook(config, request):
        _store_rejected(config, body, stored_headers, "invalid signature")
        logger.warning(
            "webhook rejected: invalid signature provider=%s config=%s", config.provider, config.pk
        )
        return 401, "rejected"
    try:
        event = orchestrator.handle_webhook(config, request)
    except WebhookPayloadError as exc:
        # Signed by the provider but not something we can read: kept for staff, answered 2xx
        # so the provider does not retry a body that will never parse.
        logger.warning(
            "webhook unreadable: %s provider=%s config=%s", exc, config.provider, config.pk
        )
        _store_verified(
            config,
            body,
            stored_headers,
            "sha256:" + hashlib.sha256(body).hexdigest(),
            "",
            status=WebhookEvent.Status.FAILED,
            error=str(exc),
        )
        return 200, "unreadable"
    stored = _store_verified(config, body, stored_headers, event.event_id, event.event_type)
    if stored is None:
        return 200, "duplicate"
    from .tasks import process_webhook_event

    process_webhook_event.delay_on_commit(stored.pk)
    return 200, "accepted"


def _store_verified(
    config: PaymentGatewayConfig,
    body: bytes,
    headers: dict[str, str],
    event_id: str,
    event_type: str,
    *,
    status: str = WebhookEvent.Status.RECEIVED,
    error: str = "",
) -> WebhookEvent | None:
    """Insert a verified event once; None when it is already in the inbox."""
    try:
        with transaction.atomic():
            return WebhookEvent.objects.create(
                tenant_id=config.tenant_id,
                gateway_config=config,
                provider=config.provider,
                event_id=event_id,
                event_type=event_type,
                headers=headers,
                body=_as_text(body),
                signature_valid=True,
                status=status,
                error=error,
            )
    except IntegrityError:
        return None


def _store_rejected(
    config: PaymentGatewayConfig, body: bytes, headers: dict[str, str], reason: str
) -> None:
    WebhookEvent.objects.create(
        tenant_id=config.tenant_id,
        gateway_config=config,
        provider=config.provider,
        event_id="sha256:" + hashlib.sha256(body).hexdigest(),
        headers=headers,
        body=_as_text(body[:REJECTED_BODY_LIMIT]),
        signature_valid=False,
        status=WebhookEvent.Status.REJECTED,
        error=reason,
        processed_at=timezone.now(),
    )


def webhook_event_process(*, event_pk: int) -> str:
    """Turn one stored event into its payment transition. Safe to run any number of times."""
    stored = WebhookEvent.objects.select_related("gateway_config").get(pk=event_pk)
    if stored.status != WebhookEvent.Status.RECEIVED:
        return stored.status
    WebhookEvent.objects.filter(pk=event_pk).update(attempts=F("attempts") + 1)
    config = stored.gateway_config
    orchestrator = PaymentOrchestrator()
    try:
        event = orchestrator.handle_webhook(
            config, WebhookRequest(body=stored.body.encode(), headers={})
        )
        if event.kind == EventKind.DISPUTE:
            _dispute_record(config, event)
            return _finish(event_pk, WebhookEvent.Status.PROCESSED, "")
        if event.kind != EventKind.PAYMENT or event.status is None:
            logger.info("webhook %s: %s not handled, stored", event_pk, event.event_type)
            return _finish(event_pk, WebhookEvent.Status.IGNORED, f"{event.event_type} not handled")
        attempt = _attempt_for_event(config, event)
        if attempt is None:
            logger.info("webhook %s: no attempt matches %s", event_pk, event.provider_reference)
            return _finish(event_pk, WebhookEvent.Status.IGNORED, "no payment attempt matches")
        reference = event.provider_reference or attempt.provider_reference or ""
        # The truth comes from the provider's API when the provider asks for it (Tap);
        # fetched before any lock is taken.
        if orchestrator.refetches_on_webhook(config) and reference:
            result = orchestrator.verify_payment(config, reference)
        else:
            result = PaymentResult(
                status=event.status,
                provider_reference=reference,
                amount=event.amount,
                currency=event.currency,
                raw=event.raw,
            )
        with transaction.atomic():
            locked = (
                WebhookEvent.objects.select_for_update(skip_locked=True)
                .filter(pk=event_pk, status=WebhookEvent.Status.RECEIVED)
                .first()
            )
            if locked is None:
                return "busy"
            payment_apply_result(attempt_id=attempt.id, result=result)
            return _finish(event_pk, WebhookEvent.Status.PROCESSED, "")
    except ProviderUnreachable as exc:
        # Left `received`: it is retried later, nothing was changed.
        WebhookEvent.objects.filter(pk=event_pk).update(error=f"provider unreachable: {exc}")
        logger.warning("webhook %s: provider unreachable: %s", event_pk, exc)
        return WebhookEvent.Status.RECEIVED
    except Exception as exc:  # a bug or bad data: kept as `failed` for staff, never a 500
        logger.exception("webhook %s failed", event_pk)
        detail = f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}"
        return _finish(event_pk, WebhookEvent.Status.FAILED, detail)


def _attempt_for_event(config: PaymentGatewayConfig, event: ProviderEvent) -> PaymentAttempt | None:
    """The attempt an event is about: by the provider's reference, else by our attempt id as
    echoed by the provider (an attempt whose create call timed out before we learnt the
    reference, or an event that names only a sub-object, like Stripe's PaymentIntent)."""
    attempts = PaymentAttempt.objects.filter(tenant_id=config.tenant_id, provider=config.provider)
    if event.provider_reference:
        attempt = attempts.filter(provider_reference=event.provider_reference).first()
        if attempt is not None:
            return attempt
    try:
        attempt_id = uuid.UUID(event.merchant_reference)
    except ValueError:
        return None
    attempt = attempts.filter(pk=attempt_id).first()
    if attempt is None:
        return None
    if event.provider_reference and attempt.provider_reference:
        return None  # the attempt is bound to another provider object
    return attempt


def _dispute_record(config: PaymentGatewayConfig, event: ProviderEvent) -> None:
    attempt = None
    if event.payment_reference:
        attempt = (
            PaymentAttempt.objects.filter(tenant_id=config.tenant_id, provider=config.provider)
            .filter(raw_response__payment_intent=event.payment_reference)
            .first()
        )
    raw = dict(event.raw)
    PaymentDispute.objects.update_or_create(
        provider=config.provider,
        provider_reference=event.provider_reference,
        defaults={
            "tenant_id": config.tenant_id,
            "payment_attempt": attempt,
            "payment_reference": event.payment_reference,
            "amount": event.amount,
            "currency": event.currency,
            "reason": str(raw.get("reason") or "")[:100],
            "status": str(raw.get("status") or "")[:40],
            "raw": raw,
        },
    )
    logger.warning("dispute %s recorded for tenant %s", event.provider_reference, config.tenant_id)


def _as_text(body: bytes) -> str:
    # PostgreSQL text cannot hold NUL; a forged body may carry one, a JSON body never does.
    return body.decode("utf-8", errors="replace").replace("\x00", "\ufffd")


def _finish(event_pk: int, status: str, error: str) -> str:
    WebhookEvent.objects.filter(pk=event_pk).update(
        status=status, error=error, processed_at=timezone.now()
    )
    return status
