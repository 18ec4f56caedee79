"""/readyz: the database, the cache, the broker and the migrations; 503 naming what failed."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client

from wasla.common import health
from wasla.payments.tests.celery_broker import free_port

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _migrations_read_again(monkeypatch):
    monkeypatch.setattr(health, "_migrations_applied", False)


def test_ready_when_everything_answers_the_broker_included(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False  # a real broker: the test's Redis
    answer = Client().get("/readyz")
    assert answer.status_code == 200
    assert answer.json() == {
        "status": "ok",
        "checks": {"database": "ok", "cache": "ok", "broker": "ok", "migrations": "ok"},
    }


def test_a_broker_that_does_not_answer_makes_it_unready(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{free_port()}/0"
    answer = Client().get("/readyz")
    assert answer.status_code == 503
    body = answer.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["broker"] == "error: OperationalError"
    assert body["checks"]["database"] == body["checks"]["migrations"] == "ok"


def test_an_unapplied_migration_makes_it_unready():
    # The latest migration of the orders app forgotten, as before `migrate` ran (rolled back
    # with the test's transaction).
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM django_migrations WHERE app = 'orders' AND name = "
            "(SELECT max(name) FROM django_migrations WHERE app = 'orders')"
        )
    answer = Client().get("/readyz")
    assert answer.status_code == 503
    assert answer.json()["checks"]["migrations"] == "error: 1 unapplied"
