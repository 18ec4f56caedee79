"""Payments in the portal: the filtered list, one payment with its timeline, and its refund.

A refund takes two steps. The form (amount, reason) leads to a confirmation page showing
what will happen — the amount and what it does to Wasla's fee — which carries a signed
one-time token naming the payment, the amount and the reason. Confirming calls the same
idempotent service the API calls (`refund_request`) with a key derived from that token: a
double submit, a reload or a second tab confirming the same page refunds once.
Viewers see no refund form; their POST gets the 403 page and changes nothing.
"""

from __future__ import annotations

import secrets
import uuid
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib import messages
from django.core import signing
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from wasla.common.problems import NotFound
from wasla.payments.models import PaymentAttempt, RefundRecord
from wasla.payments.refunds import RefundExceedsPayment, RefundNotAllowed, refund_request
from wasla.payments.selectors import payment_list

from .access import MONEY_ROLES, member_view
from .forms import PaymentFilterForm, RefundConfirmForm, RefundForm
from .selectors import (
    payment_detail_get,
    payment_refundable_online,
    payment_timeline,
    refund_fee_preview,
    refundable_left,
)

PAGE_SIZE = 50
REFUND_TOKEN_SALT = "wasla.portal.refund"
REFUND_TOKEN_MAX_AGE = 60 * 60  # a confirmation page older than an hour is shown again


def _export_url(request: HttpRequest) -> str:
    """The CSV of the list as filtered (the page number left out)."""
    url = reverse("portal:export", args=["payments"])
    query = request.GET.copy()
    query.pop("page", None)
    return f"{url}?{query.urlencode()}" if query else url


@require_GET
@member_view()
def payment_list_page(request: HttpRequest) -> HttpResponse:
    form = PaymentFilterForm(request.GET)  # bound: nothing given is valid too (no filter)
    if not form.is_valid():
        invalid = {"form": form, "page": None, "export_url": None}
        return render(request, "portal/payments/list.html", invalid, status=400)
    payments = payment_list(tenant=request.tenant, filters=form.list_filters())  # type: ignore[attr-defined]
    page = Paginator(payments.select_related("order"), PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context: dict[str, Any] = {
        "form": form,
        "page": page,
        "query": query.urlencode(),
        "export_url": _export_url(request),
    }
    return render(request, "portal/payments/list.html", context)


def _attempt(request: HttpRequest, payment_id: uuid.UUID) -> PaymentAttempt:
    attempt = payment_detail_get(tenant=request.tenant, payment_id=payment_id)  # type: ignore[attr-defined]
    if attempt is None:
        raise Http404("No such payment.")
    return attempt


def _detail(
    request: HttpRequest,
    attempt: PaymentAttempt,
    *,
    form: RefundForm | None = None,
    status: int = 200,
) -> HttpResponse:
    left = refundable_left(attempt=attempt)
    can_refund = request.member.can_refund and payment_refundable_online(attempt=attempt)  # type: ignore[attr-defined]
    context: dict[str, Any] = {
        "attempt": attempt,
        "order": attempt.order,
        "timeline": payment_timeline(attempt=attempt),
        "left": left,
        "can_refund": can_refund,
        "refund_form": (form or RefundForm(attempt=attempt, left=left)) if can_refund else None,
    }
    return render(request, "portal/payments/detail.html", context, status=status)


@require_GET
@member_view()
def payment_detail_page(request: HttpRequest, payment_id: uuid.UUID) -> HttpResponse:
    return _detail(request, _attempt(request, payment_id))


@require_POST
@member_view(roles=MONEY_ROLES)
def payment_refund_page(request: HttpRequest, payment_id: uuid.UUID) -> HttpResponse:
    """Step one: check what was typed, then show what will happen and ask to confirm."""
    attempt = _attempt(request, payment_id)
    if not payment_refundable_online(attempt=attempt):
        messages.error(request, _("This payment cannot be refunded here."))
        return _detail(request, attempt, status=409)
    form = RefundForm(request.POST, attempt=attempt, left=refundable_left(attempt=attempt))
    if not form.is_valid():
        return _detail(request, attempt, form=form, status=400)
    amount: Decimal = form.cleaned_data["amount"]
    reason: str = form.cleaned_data["reason"]
    token = signing.dumps(
        {
            "p": str(attempt.id),
            "a": str(amount),
            "r": reason,
            "n": secrets.token_urlsafe(16),
            "u": request.user.pk,
        },
        salt=REFUND_TOKEN_SALT,
    )
    context = {
        "attempt": attempt,
        "order": attempt.order,
        "amount": amount,
        "reason": reason,
        "full": attempt.refunded_amount + amount >= attempt.amount,
        "fee": refund_fee_preview(attempt=attempt, amount=amount),
        "form": RefundConfirmForm(initial={"token": token}),
    }
    return render(request, "portal/payments/refund_confirm.html", context)


def _confirmed(request: HttpRequest, payment_id: uuid.UUID) -> tuple[Decimal, str, str] | None:
    """(amount, reason, one-time key) from a genuine, recent token for this payment and login."""
    form = RefundConfirmForm(request.POST)
    if not form.is_valid():
        return None
    try:
        data = signing.loads(
            form.cleaned_data["token"], salt=REFUND_TOKEN_SALT, max_age=REFUND_TOKEN_MAX_AGE
        )
        amount = Decimal(data["a"])
        if data["p"] != str(payment_id) or data["u"] != request.user.pk:
            return None
        return amount, str(data["r"]), f"portal:{data['n']}"
    except (signing.BadSignature, KeyError, TypeError, InvalidOperation):
        return None


@require_POST
@member_view(roles=MONEY_ROLES)
def payment_refund_confirm_page(request: HttpRequest, payment_id: uuid.UUID) -> HttpResponse:
    """Step two: refund through the API's service, once per confirmation page."""
    attempt = _attempt(request, payment_id)
    confirmed = _confirmed(request, payment_id)
    if confirmed is None:
        messages.error(
            request, _("This confirmation has expired or is not valid. Please start again.")
        )
        return _detail(request, attempt, status=400)
    amount, reason, key = confirmed
    try:
        refund = refund_request(
            tenant=request.tenant,  # type: ignore[attr-defined]
            attempt_id=attempt.id,
            amount=amount,
            reason=reason,
            client_key=key,
        )
    except RefundExceedsPayment:
        messages.error(request, _("This is more than what is left to refund."))
        return _detail(request, attempt, status=409)
    except (RefundNotAllowed, NotFound):
        messages.error(request, _("This payment cannot be refunded."))
        return _detail(request, attempt, status=409)
    if refund.status == RefundRecord.Status.SUCCEEDED:
        messages.success(request, _("The refund was made."))
    elif refund.status == RefundRecord.Status.FAILED:
        messages.error(
            request,
            _("The payment provider refused the refund. Nothing was refunded; you may try again."),
        )
    else:
        messages.info(
            request,
            _("The refund was sent to the payment provider; its answer will appear here."),
        )
    return HttpResponseRedirect(reverse("portal:payment", args=[attempt.id]))
