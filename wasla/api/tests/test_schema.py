"""The published OpenAPI schema describes what the endpoints really answer."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

PAGINATED_LISTS = {
    "/api/v1/orders/": "OrderOutput",
    "/api/v1/payments/": "PaymentOutput",
    "/api/v1/settlements/": "SettlementOutput",
    "/api/v1/refunds/": "RefundOutput",
    "/api/v1/ledger/entries/": "LedgerEntryOutput",
    "/api/v1/invoices/": "InvoiceOutput",
    "/api/v1/credit-notes/": "CreditNoteOutput",
}
PLAIN_LISTS = {
    "/api/v1/gateways/{provider}/": "GatewayOutput",
    "/api/v1/payments/{payment_id}/refunds/": "RefundOutput",
}


@pytest.fixture
def schema() -> dict:
    response = APIClient().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return response.json()


def _ok_schema(schema: dict, path: str) -> dict:
    return schema["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]


@pytest.mark.parametrize(("path", "item"), PAGINATED_LISTS.items())
def test_list_endpoints_are_pages_of_items(schema, path, item):
    ref = _ok_schema(schema, path)["$ref"].rsplit("/", 1)[-1]
    page = schema["components"]["schemas"][ref]
    assert page["properties"]["results"] == {
        "type": "array",
        "items": {"$ref": f"#/components/schemas/{item}"},
    }
    params = {p["name"]: p["schema"] for p in schema["paths"][path]["get"]["parameters"]}
    assert params["limit"]["minimum"] == 1
    assert params["limit"]["maximum"] == 200
    assert params["offset"]["minimum"] == 0


@pytest.mark.parametrize(("path", "item"), PLAIN_LISTS.items())
def test_unpaginated_lists_are_arrays(schema, path, item):
    assert _ok_schema(schema, path) == {
        "type": "array",
        "items": {"$ref": f"#/components/schemas/{item}"},
    }


def test_problem_responses_are_documented(schema):
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            expected = {"400", "401", "429", "503"} | ({"404"} if "{" in path else set())
            if method in ("post", "put"):
                expected |= {"409", "413", "415", "422"}
            assert expected <= set(responses), (method, path)
            for code in expected:
                content = responses[code]["content"]
                assert content == {
                    "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
                }
            assert "Retry-After" in responses["503"]["headers"]
            assert "Retry-After" in responses["429"]["headers"]  # the rate limits
