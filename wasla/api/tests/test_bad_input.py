"""Bad input of every kind, sent to every merchant API endpoint: each answer is a 4xx
application/problem+json, and nothing is stored (orders, attempts, refunds, gateway configs,
settlements, Idempotency-Key records).

The endpoints come from the URLconf, so a new one is covered the day it is added (a new path
parameter must be given a value in PATH_VALUES, or every case of that route fails loudly).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from testsupport.factories import (
    api_client_for,
    make_attempt,
    make_order,
    make_tap_config,
    make_tenant,
)
from wasla.api.models import IdempotencyRecord
from wasla.invoicing.models import CreditNote, Invoice
from wasla.orders.models import Order
from wasla.payments.models import PaymentAttempt, PaymentGatewayConfig, RefundRecord
from wasla.settlement.models import SettlementRecord

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"
API_PREFIX = "api/v1/"
WRITE_METHODS = ("POST", "PUT", "PATCH")
STORED = (
    Order,
    PaymentAttempt,
    RefundRecord,
    PaymentGatewayConfig,
    SettlementRecord,
    IdempotencyRecord,
)


def _api_routes() -> list[tuple[str, list[str]]]:
    """(route, methods) of every URL under /api/v1/, e.g. ("api/v1/orders/<uuid:order_id>/",
    ["GET"]); methods are the handlers the view class defines."""
    found: list[tuple[str, list[str]]] = []

    def walk(patterns: list, prefix: str) -> None:
        for entry in patterns:
            route = prefix + str(entry.pattern)
            if isinstance(entry, URLResolver):
                walk(entry.url_patterns, route)
            elif isinstance(entry, URLPattern) and route.startswith(API_PREFIX):
                view = entry.callback.cls  # type: ignore[attr-defined]
                methods = [m.upper() for m in ("get", "post", "put", "patch", "delete")]
                found.append((route, [m for m in methods if hasattr(view, m.lower())]))

    walk(get_resolver().url_patterns, "")
    return found


ROUTES = _api_routes()
_PARAM = re.compile(r"<(?:\w+:)?(\w+)>")


@dataclass
class World:
    """The caller (a tenant with nothing but its token) and another tenant's objects."""

    client: object
    path_values: dict[str, str] = field(default_factory=dict)


@pytest.fixture
def world() -> World:
    other = make_tenant()
    config = make_tap_config(other)
    attempt = make_attempt(config, make_order(other))
    invoice = Invoice.objects.create(tenant=other, year=2026, month=1)
    note = CreditNote.objects.create(tenant=other, invoice=invoice, reason="refund")
    values = {
        "order_id": str(attempt.order_id),  # another tenant's order
        "payment_id": str(attempt.pk),  # another tenant's payment
        "provider": "tap",  # the caller's own (unconnected) gateway: writes must not connect it
        "invoice_id": str(invoice.pk),  # another tenant's invoice (a draft)
        "credit_note_id": str(note.pk),  # another tenant's credit note (a draft)
    }
    return World(client=api_client_for(make_tenant()), path_values=values)


def _path(route: str, values: dict[str, str]) -> str:
    return "/" + _PARAM.sub(lambda m: values[m.group(1)], route)


def _stored() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in STORED}


DEEP = b'{"reference": ' + b"[" * 10_000 + b"]" * 10_000 + b"}"
BODY_CASES: dict[str, tuple[bytes, str | None]] = {
    "deep-json": (DEEP, "application/json"),
    "nul-in-json-string": (
        b'{"method": "mada\\u0000", "reference": "R\\u0000", "mode": "sandbox\\u0000"}',
        "application/json",
    ),
    "1mb-string": (b'{"reference": "' + b"x" * 1_000_000 + b'"}', "application/json"),
    "amount-10e30": (b'{"reference": "R-1", "amount": 1' + b"0" * 30 + b"}", "application/json"),
    "amount-1e309": (b'{"reference": "R-1", "amount": 1e309}', "application/json"),
    "amount-string-1e309": (b'{"reference": "R-1", "amount": "1e309"}', "application/json"),
    "nan": (b'{"reference": "R-1", "amount": NaN}', "application/json"),
    "duplicate-keys": (b'{"reference": "R-1", "reference": "R-2"}', "application/json"),
    "form-data": (b"reference=R-1&amount=1.00&mode=sandbox", "application/x-www-form-urlencoded"),
    "text-plain": (b'{"reference": "R-1", "amount": "1.00"}', "text/plain"),
    "no-content-type": (b'{"reference": "R-1", "amount": "1.00"}', ""),
}

URL_CASES: dict[str, str] = {
    "nul-in-query": "?status=paid%00",
    "raw-nul-in-query": "?status=\x00",
    "limit-beyond-bigint": "?limit=" + "9" * 30,
    "limit-negative": "?limit=-1",
    "limit-zero": "?limit=0",
    "limit-garbage": "?limit=ten",
    "limit-arabic-digits": "?limit=%D9%A1%D9%A2",
    "offset-beyond-bigint": "?offset=99999999999999999999",
    "offset-negative": "?offset=-5",
    "limit-twice": "?limit=1&limit=2",
    "unknown-filter": "?stauts=paid",
    "1mb-query": "?reference_id=" + "x" * 1_000_000,
}


def _cases() -> list:
    params = []
    for route, methods in ROUTES:
        for method in methods:
            for name in URL_CASES:
                case_id = f"{method} {route} {name}"
                params.append(pytest.param(route, method, "url", name, id=case_id))
            params.append(
                pytest.param(route, method, "nul-path", "", id=f"{method} {route} nul-in-path")
            )
            if method in WRITE_METHODS:
                for name in BODY_CASES:
                    params.append(
                        pytest.param(route, method, "body", name, id=f"{method} {route} {name}")
                    )
    return params


def _nul_path(route: str, values: dict[str, str]) -> str:
    """The route with a NUL in a path segment: the path parameter if it has one, else the
    last segment."""
    if _PARAM.search(route):
        return _path(route, dict.fromkeys(values, "%00"))
    return _path(route, values).rstrip("/") + "%00/"


@pytest.mark.parametrize(("route", "method", "kind", "case"), _cases())
def test_bad_input_is_a_4xx_problem_and_stores_nothing(world, route, method, kind, case):
    before = _stored()
    key = {"HTTP_IDEMPOTENCY_KEY": "bad-" + uuid.uuid4().hex}
    path = _path(route, world.path_values)
    client = world.client
    if kind == "url":
        response = client.generic(method, path + URL_CASES[case], **key)
    elif kind == "nul-path":
        response = client.generic(method, _nul_path(route, world.path_values), **key)
    else:
        body, content_type = BODY_CASES[case]
        response = client.generic(method, path, body, content_type=content_type, **key)

    assert 400 <= response.status_code < 500, response.content[:300]
    assert response["Content-Type"] == PROBLEM
    problem = response.json()
    assert problem["status"] == response.status_code
    assert problem["type"].startswith("https://docs.wasla.sa/problems/")
    assert _stored() == before


@pytest.mark.parametrize("route", [route for route, _ in ROUTES])
def test_options_answers_every_route(world, route):
    """OPTIONS describes the route (the OpenAPI schema has the details) and changes nothing."""
    before = _stored()
    response = world.client.options(_path(route, world.path_values))
    assert response.status_code == 200, response.content[:300]
    methods = {m.strip() for m in response["Allow"].split(",")}
    assert "OPTIONS" in methods
    assert response.json()["parses"] == ["application/json"]
    assert _stored() == before


@pytest.mark.parametrize(
    "path",
    [
        "/webhooks/tap/%00/",
        f"/webhooks/tap/{uuid.uuid4()}%00/",
        "/webhooks/%00/x/",
        "/store/%00/",
        "/payments/return/%00/",
        "/%00",
        "/admin/%00/",
    ],
)
def test_nul_in_any_url_is_a_400_problem(path):
    """Not only the API: webhooks, the storefront and every other URL refuse a NUL early."""
    from rest_framework.test import APIClient

    for method in ("GET", "POST"):
        response = APIClient().generic(method, path, b"{}", content_type="application/json")
        assert response.status_code == 400, (method, path, response.content[:200])
        assert response["Content-Type"] == PROBLEM
        assert response.json()["type"].endswith("/nul-in-url")
