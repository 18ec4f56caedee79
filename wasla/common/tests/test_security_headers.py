"""Every response carries the security headers: Content-Security-Policy (strict: no inline code
without the request's nonce, no framing, forms to us only), nosniff, Referrer-Policy,
Cross-Origin-Opener-Policy, X-Frame-Options and Permissions-Policy; pages, API answers, problem
answers and the early refusals of the outermost middleware alike."""

from __future__ import annotations

import re
import uuid
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from testsupport.factories import api_client_for, make_tap_config
from testsupport.staff import staff_login
from wasla.common.security_headers import checkout_origins
from wasla.portal.tests.settings_support import PASSWORD, make_member
from wasla.storefront.models import Product

pytestmark = pytest.mark.django_db

FIXED = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}
PERMISSIONS = ("camera=()", "microphone=()", "geolocation=()", "payment=()")


def directives(response) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    policy = response["Content-Security-Policy"]
    parsed = {}
    for part in policy.split(";"):
        name, *values = part.split()
        parsed[name] = values
    return parsed


def assert_headers(response, where: str) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    for name, value in FIXED.items():
        assert response.get(name) == value, f"{where}: {name} is {response.get(name)!r}"
    permissions = response.get("Permissions-Policy", "")
    for feature in PERMISSIONS:
        assert feature in permissions, f"{where}: {feature} missing from {permissions!r}"
    policy = directives(response)
    assert policy["default-src"] == ["'self'"], where
    assert policy["frame-ancestors"] == ["'none'"], where
    assert policy["object-src"] == ["'none'"], where
    assert policy["img-src"] == ["'self'", "data:"], where
    for kind in ("script-src", "style-src"):
        assert policy[kind][0] == "'self'", where
        assert all(v == "'self'" or v.startswith("'nonce-") for v in policy[kind]), (where, kind)
        assert "'unsafe-inline'" not in policy[kind], where
    return policy


@pytest.fixture
def site(tenant, settings):
    settings.ALLOWED_HOSTS = ["testserver"]
    make_tap_config(tenant)
    product = Product.objects.create(tenant=tenant, name="Dates", price=Decimal("85.00"))
    owner = make_member(tenant, "owner", username=f"{tenant.slug}-owner")
    get_user_model().objects.create_user("ops", password=PASSWORD, is_staff=True)
    return tenant, product, owner.user


def test_every_kind_of_response_carries_the_headers(site):
    tenant, _, owner = site
    anonymous = Client()
    merchant = Client()
    merchant.force_login(owner)
    # Staff signed in with their second factor, as the admin and the dashboard ask.
    staff = staff_login(Client(), get_user_model().objects.get(username="ops"))
    api = api_client_for(tenant)
    answers = {
        "landing": (anonymous.get("/"), 200),
        "storefront": (anonymous.get(f"/store/{tenant.slug}/"), 200),
        "portal login": (anonymous.get("/merchant/login/"), 200),
        "portal overview": (merchant.get("/merchant/"), 200),
        "portal redirect to login": (anonymous.get("/merchant/payments/"), 302),
        "dashboard": (staff.get("/dashboard/"), 200),
        "admin": (staff.get("/admin/"), 200),
        "api list": (api.get("/api/v1/payments/"), 200),
        "api without token": (anonymous.get("/api/v1/payments/"), 401),
        "api docs": (anonymous.get("/api/docs/"), 200),
        "api schema": (anonymous.get("/api/schema/"), 200),
        "webhook, unknown endpoint": (
            anonymous.post(f"/webhooks/tap/{uuid.uuid4()}/", b"{}", "application/json"),
            404,
        ),
        "healthz": (anonymous.get("/healthz"), 200),
        "not found": (anonymous.get("/no-such-page/"), 404),
        # Refused by the outermost middleware, before any view.
        "NUL in the URL": (anonymous.get("/merchant/%00/"), 400),
        "body too large": (
            anonymous.post("/api/v1/payments/", b"x" * 300_000, "application/json"),
            413,
        ),
    }
    for where, (response, status) in answers.items():
        assert response.status_code == status, (where, response.status_code)
        assert_headers(response, where)


def test_inline_style_and_script_carry_this_requests_nonce(site):
    """The pages' <style> and <script> elements without src carry the nonce of the header,
    a fresh one each time; nothing has a style attribute or an inline event handler."""
    tenant, product, owner = site
    client = Client()
    client.force_login(owner)
    seen = set()
    for url in ("/merchant/", "/api/docs/", f"/store/{tenant.slug}/products/{product.pk}/"):
        response = client.get(url)
        html = response.content.decode()
        nonces = [v for v in directives(response)["style-src"] if v.startswith("'nonce-")]
        assert len(nonces) == 1, url
        nonce = nonces[0][len("'nonce-") : -1]
        seen.add(nonce)
        inline = re.findall(r"<(style|script)(?![^>]*\bsrc=)([^>]*)>", html)
        assert inline, url
        for tag, attributes in inline:
            if 'type="application/json"' in attributes:  # json_script: data, never run
                continue
            assert f'nonce="{nonce}"' in attributes, (url, tag, attributes)
        assert not re.search(r"\sstyle=\"|\son[a-z]+=\"", html), url
    assert len(seen) == 3


def test_checkout_forms_may_post_on_to_the_providers(site, settings):
    """The storefront's checkout and the invoice pay page add the hosted pages to form-action
    (their answer is a redirect there); other pages keep form-action 'self'."""
    tenant, product, _ = site
    settings.WASLA_SANDBOX_BASE_URL = "http://sandbox.test:8001/base"
    checkout = Client().get(f"/store/{tenant.slug}/products/{product.pk}/")
    form_action = directives(checkout)["form-action"]
    assert form_action == [
        "'self'",
        *settings.WASLA_CSP_CHECKOUT_ORIGINS,
        "http://sandbox.test:8001",
    ]
    assert checkout_origins()[-1] == "http://sandbox.test:8001"
    assert "https://checkout.stripe.com" in form_action
    assert directives(Client().get("/merchant/login/"))["form-action"] == ["'self'"]
    settings.WASLA_SANDBOX = False
    checkout = Client().get(f"/store/{tenant.slug}/products/{product.pk}/")
    assert directives(checkout)["form-action"] == ["'self'", *settings.WASLA_CSP_CHECKOUT_ORIGINS]
