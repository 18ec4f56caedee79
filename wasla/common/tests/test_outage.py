"""While the database is unreachable, every URL answers 503 problem+json with Retry-After, and the
next request, the database back, reconnects and works.

The outage is real: the PostgreSQL backend serving this thread's connection is terminated from
another connection (what a server restart or failover does to it), so the request meets the
genuine OperationalError on its first query.
"""

from __future__ import annotations

import uuid

import psycopg
import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client

from testsupport.database import database_owner
from testsupport.factories import api_client_for, make_tenant
from testsupport.staff import staff_login
from wasla.common.outage import RETRY_AFTER_SECONDS
from wasla.orders.models import Order

pytestmark = pytest.mark.django_db(transaction=True)

PROBLEM = "application/problem+json"


def terminate_this_threads_backend() -> None:
    """Kill the server process behind `connection` (opened first if need be), as a restart does."""
    connection.ensure_connection()
    pid = connection.connection.info.backend_pid
    s = connection.settings_dict
    with psycopg.connect(
        dbname=s["NAME"],
        user=database_owner(),
        host=s["HOST"] or None,
        port=s["PORT"] or None,
        autocommit=True,
    ) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])


def assert_unavailable(response) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 503, response.content[:300]
    assert response["Content-Type"] == PROBLEM
    assert response["Retry-After"] == str(RETRY_AFTER_SECONDS)
    assert response.json()["type"].endswith("/service-unavailable")


def test_api_reads_and_writes_answer_503_then_recover(tenant):
    api = api_client_for(tenant)
    terminate_this_threads_backend()
    assert_unavailable(api.get("/api/v1/orders/"))
    assert api.get("/api/v1/orders/").status_code == 200  # reconnected

    body = '{"reference": "OUT-1", "amount": "10.00"}'
    terminate_this_threads_backend()
    response = api.post(
        "/api/v1/orders/", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="outage-1"
    )
    assert_unavailable(response)
    assert not Order.objects.exists()
    # Nothing was kept under the key: the retry runs (it is not a replay of the 503).
    retry = api.post(
        "/api/v1/orders/", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="outage-1"
    )
    assert retry.status_code == 201, retry.content
    assert "Idempotent-Replayed" not in retry


def test_webhook_url_answers_503_then_recovers():
    path = f"/webhooks/tap/{uuid.uuid4()}/"
    terminate_this_threads_backend()
    assert_unavailable(Client().post(path, b"{}", content_type="application/json"))
    assert Client().post(path, b"{}", content_type="application/json").status_code == 404


def test_storefront_page_answers_503_then_recovers():
    store = make_tenant("outage-store")
    terminate_this_threads_backend()
    assert_unavailable(Client().get(f"/store/{store.slug}/"))
    assert Client().get(f"/store/{store.slug}/").status_code == 200


def test_database_error_in_middleware_answers_503_too():
    """The admin's tenant scope reads the session in middleware, outside any view: the 500
    handler turns the error into the same 503."""
    staff = get_user_model().objects.create_user("staff-outage", password="x", is_staff=True)
    client = Client(raise_request_exception=False)
    staff_login(client, staff)
    terminate_this_threads_backend()
    assert_unavailable(client.get("/admin/"))
    assert client.get("/admin/").status_code == 200
