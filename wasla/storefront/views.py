"""Example checkout integration: a store page that pays through the same services as the API."""

from __future__ import annotations

import secrets

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from wasla.common.problems import Problem
from wasla.orders.services import order_create
from wasla.payments.models import PaymentGatewayConfig
from wasla.payments.providers.registry import UnknownProvider, provider_class
from wasla.payments.services import payment_checkout
from wasla.tenants.context import Scope, scope_enter_for_request
from wasla.tenants.lookups import tenant_id_for_slug
from wasla.tenants.models import Tenant

from .models import Product

PROVIDER_LABELS = {"tap": "Tap", "stripe": "Stripe", "paypal": "PayPal"}
METHOD_LABELS = {
    "mada": "mada",
    "stcpay": "STC Pay",
    "card": "Credit / debit card",
    "applepay": "Apple Pay",
    "paypal": "PayPal",
    "cod": "Cash on delivery",
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
            label = METHOD_LABELS.get(method, method)
            if provider in PROVIDER_LABELS and method != provider:
                label = f"{label} · {PROVIDER_LABELS[provider]}"
            options.append({"value": f"{provider}:{method}", "label": label, "provider": provider})
    return options


def _store_tenant(slug: str) -> Tenant:
    """The store's tenant by its public slug; the page then works in that tenant's scope."""
    tenant_id = tenant_id_for_slug(slug=slug)
    if tenant_id is None:
        raise Http404("No such store.")
    scope_enter_for_request(Scope(tenant_id=tenant_id))
    return get_object_or_404(Tenant, pk=tenant_id, is_active=True)


@require_http_methods(["GET"])
def store_home(request: HttpRequest, slug: str) -> HttpResponse:
    tenant = _store_tenant(slug)
    products = Product.objects.for_tenant(tenant).filter(is_active=True).order_by("name")
    return render(request, "storefront/home.html", {"tenant": tenant, "products": products})


@require_http_methods(["GET", "POST"])
def product_checkout(request: HttpRequest, slug: str, product_id: int) -> HttpResponse:
    tenant = _store_tenant(slug)
    product = get_object_or_404(Product.objects.for_tenant(tenant), pk=product_id, is_active=True)
    options = _payment_options(tenant)
    context = {"tenant": tenant, "product": product, "options": options, "error": ""}
    if request.method == "POST":
        choice = request.POST.get("payment", "")
        phone = request.POST.get("phone", "").strip()
        email = request.POST.get("email", "").strip()
        if choice not in {o["value"] for o in options}:
            context["error"] = "Choose a payment method."
            return render(request, "storefront/product.html", context, status=400)
        provider, method = choice.split(":", 1)
        if method == "stcpay" and not phone:
            # Checked before the order exists, so a refused checkout leaves nothing behind.
            context["error"] = "STC Pay needs your mobile number."
            return render(request, "storefront/product.html", context, status=422)
        try:
            order = order_create(
                tenant=tenant,
                reference=f"WEB-{secrets.token_hex(5).upper()}",
                amount=product.price,
                currency=product.currency,
                customer_email=email,
                customer_phone=phone,
            )
            attempt = payment_checkout(
                tenant=tenant,
                order_id=order.id,
                provider=provider,
                method=method,
                return_url=request.build_absolute_uri(f"/store/{tenant.slug}/"),
                client_key=f"storefront-{order.id}",
            )
        except Problem as exc:
            context["error"] = exc.detail
            return render(request, "storefront/product.html", context, status=exc.status)
        if attempt.redirect_url:
            return redirect(attempt.redirect_url)
        return redirect("payment-return", attempt_id=attempt.id)
    return render(request, "storefront/product.html", context)
