"""The customer's return page: it shows the attempt's status and never changes it.

Query parameters the provider appends (`tap_id`, …) are ignored: only a verified webhook (or a
server-side fetch) moves money state.
"""

from __future__ import annotations

import uuid

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from .models import PaymentAttempt


@require_GET
def payment_return(request: HttpRequest, attempt_id: uuid.UUID) -> HttpResponse:
    attempt = PaymentAttempt.objects.select_related("order", "tenant").filter(pk=attempt_id).first()
    if attempt is None:
        raise Http404("No such payment.")
    return render(
        request,
        "payments/return.html",
        {"attempt": attempt, "order": attempt.order, "tenant": attempt.tenant},
    )
