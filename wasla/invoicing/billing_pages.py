"""The hosted page where a merchant completes an invoice payment that needs 3-D Secure.

`GET /billing/invoices/<token>/pay/`: the invoice (number, amount due), Arabic first and English
beside it, with a Pay button; the signed token names the invoice and its tenant (a forged or
expired one is a 404 page). `POST` starts the on-session payment and redirects to the card's
3-D Secure page, which returns to `…/pay/return/`: the status as the billing webhook left it
(the page refreshes itself until the invoice is paid).
"""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from wasla.common.money import format_amount
from wasla.common.security_headers import checkout_form_action
from wasla.tenants.context import Scope, scope_enter_for_request

from . import billing_intents, billing_stripe
from .collection_status import pay_token_read
from .hosted_payment import invoice_pay_on_session, payable_try
from .models import BillingCard, Invoice


def _invoice(token: str) -> Invoice:
    found = pay_token_read(token)
    if found is None:
        raise Http404("No such payment page.")
    invoice_id, tenant_id = found
    scope_enter_for_request(Scope(tenant_id=tenant_id))
    invoice = Invoice.objects.filter(pk=invoice_id, tenant_id=tenant_id).first()
    if invoice is None or invoice.status not in (Invoice.Status.ISSUED, Invoice.Status.PAID):
        raise Http404("No such payment page.")
    return invoice


def _page(request: HttpRequest, invoice: Invoice, **extra: Any) -> HttpResponse:
    if invoice.status == Invoice.Status.PAID:
        state = "paid"
    else:
        state = "payable" if payable_try(invoice) is not None else "nothing"
    context = {
        "invoice": invoice,
        "amount_due": format_amount(invoice.amount_due, invoice.currency),
        "amount_paid": format_amount(invoice.amount_paid, invoice.currency),
        "card": BillingCard.objects.filter(tenant_id=invoice.tenant_id).first(),
        "state": state,
        "waiting": False,
        **extra,
    }
    return render(request, "invoicing/billing/pay.html", context)


@require_http_methods(["GET", "POST"])
@checkout_form_action  # the form's answer redirects to the card's 3-D Secure page
def billing_pay_page(request: HttpRequest, token: str) -> HttpResponse:
    invoice = _invoice(token)
    if request.method == "GET":
        return _page(request, invoice)
    return_url = request.build_absolute_uri(reverse("billing-pay-return", args=[token]))
    started = invoice_pay_on_session(invoice=invoice, return_url=return_url)
    if started.redirect_url:
        return HttpResponseRedirect(started.redirect_url)
    return _page(request, invoice, refusal=started.refusal)


@require_http_methods(["GET"])
def billing_pay_return(request: HttpRequest, token: str) -> HttpResponse:
    """Back from 3-D Secure: only shows what the webhook decided (query parameters ignored)."""
    invoice = _invoice(token)
    attempt = invoice.collection_tries.order_by("-number").first()
    waiting = False
    if invoice.status == Invoice.Status.ISSUED and attempt is not None and attempt.action_intent_id:
        # Paid at Stripe but not yet confirmed to us: wait for the webhook. Anything else
        # (3-D Secure failed or abandoned): the Pay button again.
        try:
            status = billing_intents.intent_status(intent_id=attempt.action_intent_id)
        except (billing_stripe.BillingStripeUnavailable, billing_stripe.BillingStripeRefused):
            status = "unknown"
        waiting = status in ("succeeded", "processing", "unknown")
    return _page(request, invoice, waiting=waiting)
