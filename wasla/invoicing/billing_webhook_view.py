"""`POST /webhooks/billing/stripe/`: the webhook of Wasla's own Stripe account. HTTP only.

Answers: 200 once applied or already applied (a replay changes nothing); problem+json
otherwise — 415 for a body declared as something other than JSON, 401 for a missing or bad
Stripe-Signature (checked on the raw bytes with the platform signing secret by the official
helper, before anything is read), 400 for a signed body that is not an event, 422 for an event
of ours we cannot use, 503 when the card cannot be read back from Stripe (Stripe delivers the
event again). An oversize body is refused (413) by the body-size middleware before this runs.
"""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from wasla.common import strictjson
from wasla.common.problems import problem_response

from . import billing_stripe
from .billing_webhooks import (
    BillingEvent,
    EventUnreadable,
    billing_event_apply,
    event_already_recorded,
    event_tenant_id,
)

JSON_MEDIA_TYPE = "application/json"


def _event(body: bytes) -> BillingEvent | None:
    try:
        data = strictjson.loads(body)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    event_id, event_type = data.get("id"), data.get("type")
    obj = (data.get("data") or {}).get("object") if isinstance(data.get("data"), dict) else None
    if (
        not isinstance(event_id, str)
        or not isinstance(event_type, str)
        or not isinstance(obj, dict)
    ):
        return None
    if not event_id or len(event_id) > 255 or "\x00" in event_id or "\x00" in event_type:
        return None
    return BillingEvent(id=event_id, type=event_type, object=obj)


@csrf_exempt
@require_POST
def billing_webhook_view(request: HttpRequest) -> JsonResponse:
    if request.content_type and request.content_type != JSON_MEDIA_TYPE:
        return problem_response(
            415, "unsupported-media-type", "Unsupported media type", "Webhook bodies are JSON."
        )
    body = request.body
    header = request.headers.get("Stripe-Signature", "")
    if not billing_stripe.signature_valid(body=body, header=header):
        return problem_response(401, "invalid-signature", "Webhook signature is not valid")
    event = _event(body)
    if event is None:
        return problem_response(400, "malformed-event", "Not a Stripe event")
    if event_already_recorded(event.id):
        return JsonResponse({"status": "duplicate"})
    try:
        tenant_id = event_tenant_id(event)
        applied = billing_event_apply(event=event, tenant_id=tenant_id, now=timezone.now())
    except EventUnreadable as error:
        return problem_response(
            422, "unreadable-payload", "Webhook payload cannot be used", str(error)
        )
    except (billing_stripe.BillingStripeUnavailable, billing_stripe.BillingStripeRefused):
        response = problem_response(
            503, "provider-unavailable", "Stripe is unavailable", "Deliver the event again later."
        )
        response["Retry-After"] = "60"
        return response
    return JsonResponse({"status": "processed" if applied else "duplicate"})
