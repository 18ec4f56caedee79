"""Problem titles follow the API client's Accept-Language: Arabic when it asks for Arabic,
English otherwise (the default an integrator's code has always seen). `type` URIs and slugs
never change with the language: clients match on them, not on the words."""

from __future__ import annotations

import uuid

import pytest

from testsupport.factories import api_client_for, make_order, make_tenant
from wasla.common.problems import PROBLEM_BASE

pytestmark = pytest.mark.django_db


@pytest.fixture
def client():
    return api_client_for(make_tenant("problems-i18n"))


def _problem(response, status: int) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert "Accept-Language" in response["Vary"]
    return response.json()


def _create_order(client, language: str = "") -> dict:
    headers = {"HTTP_ACCEPT_LANGUAGE": language} if language else {}
    response = client.post(
        "/api/v1/orders/", {}, format="json", HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex, **headers
    )
    return _problem(response, 400)


def test_a_validation_error_in_arabic_and_in_english(client):
    arabic = _create_order(client, "ar")
    assert arabic["type"] == PROBLEM_BASE + "validation-error"
    assert arabic["title"] == "طلب غير صالح"
    assert arabic["detail"] == "حقل واحد أو أكثر غير صالح."
    assert arabic["errors"]["reference"] == ["هذا الحقل مطلوب."]  # DRF's own Arabic

    english = _create_order(client)
    assert english["type"] == arabic["type"]
    assert english["title"] == "Invalid request"
    assert english["detail"] == "One or more fields are invalid."
    assert english["errors"]["reference"] == ["This field is required."]

    # A language we do not speak falls back to English, not to the site's Arabic.
    french = _create_order(client, "fr")
    assert french["title"] == "Invalid request"
    # The client's order of preference counts.
    assert _create_order(client, "fr, ar;q=0.8, en;q=0.5")["title"] == "طلب غير صالح"


def test_a_domain_problem_title_follows_the_language(client):
    """A Problem subclass of another app (payments' GatewayNotConfigured), raised in a service."""
    tenant = make_tenant("problems-i18n-2")
    client = api_client_for(tenant)
    order = make_order(tenant, "10.00")
    body = {"order": str(order.id), "provider": "tap", "method": "mada"}
    arabic = client.post(
        "/api/v1/payments/",
        body,
        format="json",
        HTTP_IDEMPOTENCY_KEY="k-ar",
        HTTP_ACCEPT_LANGUAGE="ar",
    )
    arabic_body = _problem(arabic, 422)
    assert arabic_body["type"] == PROBLEM_BASE + "gateway-not-configured"
    assert arabic_body["title"] == "لا توجد بوابة مفعّلة لهذا المزوّد"
    english = client.post("/api/v1/payments/", body, format="json", HTTP_IDEMPOTENCY_KEY="k-en")
    assert _problem(english, 422)["title"] == "No active gateway for this provider"


def test_authentication_and_unknown_urls_in_both_languages():
    from rest_framework.test import APIClient

    anonymous = APIClient()
    arabic = _problem(anonymous.get("/api/v1/orders/", HTTP_ACCEPT_LANGUAGE="ar-SA"), 401)
    assert (arabic["type"], arabic["title"]) == (
        PROBLEM_BASE + "not-authenticated",
        "يلزم التحقق من الهوية",
    )
    assert _problem(anonymous.get("/api/v1/orders/"), 401)["title"] == "Authentication required"

    missing = _problem(anonymous.get("/api/v1/no-such-thing/", HTTP_ACCEPT_LANGUAGE="ar"), 404)
    assert (missing["type"], missing["title"], missing["detail"]) == (
        PROBLEM_BASE + "not-found",
        "غير موجود",
        "لا يوجد مورد بهذا العنوان.",
    )
    assert _problem(anonymous.get("/api/v1/no-such-thing/"), 404)["title"] == "Not found"
