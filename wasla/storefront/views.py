"""Example checkout integration: a store page that pays through the same services as the API."""

from __future__ import annotations

import logging
import uuid

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from wasla.common.problems import Problem
from wasla.common.security_headers import checkout_form_action
from wasla.payments.models import PaymentGatewayConfig
from wasla.payments.providers.registry import UnknownProvider, provider_class
from wasla.tenants.context import Scope, scope_enter_for_request
from wasla.tenants.lookups import tenant_id_for_slug
from wasla.tenants.models import Tenant

from .forms import CheckoutForm
from .models import Product
from .services import RetryableOrder, Shopper, storefront_checkout, storefront_retryable_order

logger = logging.getLogger(__name__)

# Brand names stay as the brands write them; what is not a brand is translated.
PROVIDER_LABELS = {"tap": "Tap", "stripe": "Stripe", "paypal": "PayPal"}
METHOD_LABELS = {
    "mada": _("mada"),
    "stcpay": "STC Pay",
    "card": _("Credit / debit card"),
    "applepay": "Apple Pay",
    "paypal": "PayPal",
    "cod": _("Cash on delivery"),
}


def _payment_options(tenant: Tenant) -> list[dict[str, str]]:
    options = []
    configs = PaymentGatewayConfig.objects.for_tenant(tenant).filter(is_active=True)
    for provider in sorted({c.provider for c in configs}):
        try:
            methods = provider_class(provider).methods
        except UnknownProvider:
            continue
        for method in sorted(methods, key=lambda m: (m not in METHOD_LABELS, m)):
            label = str(METHOD_LABELS.get(method, method))
            if provider in PROVIDER_LABELS and method != provider:
                label = f"{label} · {PROVIDER_LABELS[provider]}"
            options.append({"value": f"{provider}:{method}", "label": label, "provider": provider})
    return options


def _store_tenant(slug: str) -> Tenant:
    """The store's tenant by its public slug; the page then works in that tenant's scope."""
    tenant_id = tenant_id_for_slug(slug=slug)
    if tenant_id is None:
        raise Http404(_("No such store."))
    scope_enter_for_request(Scope(tenant_id=tenant_id))
    return get_object_or_404(Tenant, pk=tenant_id, is_active=True)


@require_http_methods(["GET"])
def store_home(request: HttpRequest, slug: str) -> HttpResponse:
    tenant = _store_tenant(slug)
    products = Product.objects.for_tenant(tenant).filter(is_active=True).order_by("name")
    return render(request, "storefront/home.html", {"tenant": tenant, "products": products})


@require_http_methods(["GET", "POST"])
@checkout_form_action  # the form's answer redirects to the provider's hosted page
def product_checkout(request: HttpRequest, slug: str, product_id: int) -> HttpResponse:
    tenant = _store_tenant(slug)
    product = get_object_or_404(Product.objects.for_tenant(tenant), pk=product_id, is_active=True)
    retry = _retry_from(request, tenant=tenant, product=product)
    options = _payment_options(tenant)
    if retry is not None:  # the methods not tried yet first, the first of them chosen
        options.sort(key=lambda o: o["value"] in retry.tried)
    initial = {"payment": options[0]["value"] if options else ""}
    if retry is not None:
        initial["order"] = str(retry.order.id)
    form = CheckoutForm(request.POST or None, options=options, initial=initial)
    context = {
        "tenant": tenant,
        "product": product,
        "options": options,
        "form": form,
        "retry": retry,
        "error": "",
    }
    if request.method == "GET":
        return render(request, "storefront/product.html", context)
    if request.POST.get("order") and retry is None:
        context["error"] = gettext(
            "This order is already paid or its payment is still under way. Start a new order below."
        )
        context["form"] = CheckoutForm(options=options, initial=initial)
        return render(request, "storefront/product.html", context, status=409)
    if not form.is_valid():
        context["error"] = gettext("Please check the highlighted fields.")
        status = 400 if form.refused_payment else 422
        return render(request, "storefront/product.html", context, status=status)
    data = form.cleaned_data
    provider, method = data["payment"].split(":", 1)
    try:
        attempt = storefront_checkout(
            tenant=tenant,
            product=product,
            provider=provider,
            method=method,
            shopper=Shopper(
                email=data["email"],
                phone=data["phone"],
                name=data["customer_name"] if method == "cod" else "",
                delivery_address=data["delivery_address"] if method == "cod" else "",
            ),
            site_url=request.build_absolute_uri("/"),
            retry_order=retry.order if retry is not None else None,
        )
    except Problem as exc:
        logger.info("storefront checkout refused tenant=%s: %s", tenant.pk, exc.detail)
        context["error"] = gettext(
            "We could not start this payment (%(reason)s). Please try again or choose another "
            "method."
        ) % {"reason": exc.title}
        return render(request, "storefront/product.html", context, status=exc.status)
    if attempt.redirect_url:
        return redirect(attempt.redirect_url)
    return redirect("payment-return", attempt_id=attempt.id)


def _retry_from(request: HttpRequest, *, tenant: Tenant, product: Product) -> RetryableOrder | None:
    """The order of a "try another method" link (`?order=`) or of the form posting it back."""
    raw = request.POST.get("order") if request.method == "POST" else request.GET.get("order")
    if not raw:
        return None
    try:
        order_id = uuid.UUID(raw)
    except ValueError:
        return None
    return storefront_retryable_order(tenant=tenant, product=product, order_id=order_id)
