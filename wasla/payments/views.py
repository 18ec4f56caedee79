"""The customer's return page: it shows the attempt's status.

Query parameters the provider appends (`tap_id`, `token`, `session_id`, …) are never trusted.
For providers that confirm on return (PayPal) their presence prompts one server-side fetch
(the browser's return is a cue, never a proof of payment), which captures an approved order
whose webhook is late; for the others the page shows "processing…" until the verified webhook
arrives.
"""

from __future__ import annotations

import uuid

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from wasla.orders.models import Order
from wasla.tenants.context import Scope, scope_enter_for_request
from wasla.tenants.lookups import tenant_id_for_payment_attempt

from .models import PaymentAttempt
from .services import payment_abandon, payment_return_visited

# How the brands write themselves on the "confirmed by …" line.
PROVIDER_NAMES = {"tap": "Tap", "stripe": "Stripe", "paypal": "PayPal"}


def _enter_attempt_tenant(attempt_id: uuid.UUID) -> None:
    """The page works in the scope of the attempt's tenant (its id is an unguessable UUID)."""
    tenant_id = tenant_id_for_payment_attempt(attempt_id=attempt_id)
    if tenant_id is None:
        raise Http404("No such payment.")
    scope_enter_for_request(Scope(tenant_id=tenant_id))


@require_GET
def payment_return(request: HttpRequest, attempt_id: uuid.UUID) -> HttpResponse:
    _enter_attempt_tenant(attempt_id)
    if request.GET:  # the provider sent the customer back: a cue, never a proof
        payment_return_visited(attempt_id=attempt_id)
    attempt = PaymentAttempt.objects.select_related("order", "tenant").filter(pk=attempt_id).first()
    if attempt is None:
        raise Http404("No such payment.")
    ended_unpaid = attempt.status in (PaymentAttempt.Status.FAILED, PaymentAttempt.Status.CANCELLED)
    return render(
        request,
        "payments/return.html",
        {
            "attempt": attempt,
            "order": attempt.order,
            "tenant": attempt.tenant,
            "provider_name": PROVIDER_NAMES.get(attempt.provider, attempt.provider.title()),
            # The order can still be paid: the page offers another method (the store's page).
            "can_retry": ended_unpaid and attempt.order.status == Order.Status.PENDING,
        },
    )


@require_GET
def payment_cancel_link_followed(request: HttpRequest, attempt_id: uuid.UUID) -> HttpResponse:
    """The customer came back through the provider's cancel link: cancel the attempt if the
    provider confirms it was not paid, then show the return page."""
    _enter_attempt_tenant(attempt_id)
    if payment_abandon(attempt_id=attempt_id) is None:
        raise Http404("No such payment.")
    return redirect("payment-return", attempt_id=attempt_id)
