"""The webhook endpoint: HTTP only. Resolve the gateway by the URL's token, verify and store
the delivery (`inbox`), answer.

Answers: 200 once stored (or already stored); problem+json otherwise — 404 for an unknown
provider or endpoint, 415 for a body declared as something other than JSON, 401 for a
signature that does not verify, 422 for a signed delivery we cannot use. Nothing is processed
here: processing is queued once the row is committed, so the provider gets its answer fast.
"""

from __future__ import annotations

import uuid

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from wasla.common.observability.metrics import webhook_delivery
from wasla.common.problems import problem_response
from wasla.tenants.context import Scope, scope_enter_for_request
from wasla.tenants.lookups import tenant_id_for_webhook

from ..models import PaymentGatewayConfig
from ..providers.registry import provider_names
from .inbox import Receipt, webhook_receive

JSON_MEDIA_TYPE = "application/json"  # what every provider posts


@csrf_exempt
@require_POST
def webhook_view(request: HttpRequest, provider: str, token: uuid.UUID) -> JsonResponse:
    # The provider is checked against the registry before any query: the database never sees
    # a name we do not know (nor the NUL a forged path may carry).
    if provider not in provider_names():
        return problem_response(404, "not-found", "Unknown webhook endpoint")
    if request.content_type and request.content_type != JSON_MEDIA_TYPE:
        # A body declared as something else (a form, text) is not a provider's webhook. One
        # declared as nothing goes on to the signature check, which decides.
        return problem_response(
            415,
            "unsupported-media-type",
            "Unsupported media type",
            f"Webhook bodies are {JSON_MEDIA_TYPE}.",
        )
    # The URL's token names the tenant (a narrow lookup returning its id only); the delivery
    # is then verified and stored in that tenant's scope.
    tenant_id = tenant_id_for_webhook(provider=provider, token=token)
    if tenant_id is None:
        return problem_response(404, "not-found", "Unknown webhook endpoint")
    scope_enter_for_request(Scope(tenant_id=tenant_id))
    config = (
        PaymentGatewayConfig.objects.select_related("tenant")
        .filter(provider=provider, webhook_token=token)
        .first()
    )
    if config is None:
        return problem_response(404, "not-found", "Unknown webhook endpoint")
    headers = {name.lower(): value for name, value in request.headers.items()}
    delivery = webhook_receive(config=config, body=request.body, headers=headers)
    webhook_delivery(provider=provider, receipt=delivery.receipt.value)  # metrics
    if delivery.receipt == Receipt.REJECTED:
        return problem_response(401, "invalid-signature", "Webhook signature is not valid")
    if delivery.receipt == Receipt.UNREADABLE:
        # Signed, yet nothing we can use: the sender's error, said as such. A provider that
        # sends it again finds its audit row already there.
        return problem_response(
            422, "unreadable-payload", "Webhook payload cannot be used", delivery.detail
        )
    return JsonResponse({"status": delivery.receipt.value})
