"""Structured logs: JSON lines through structlog for stdlib and structlog loggers alike, the
redaction of secrets and card numbers, the request id, the tenant of the scope, and the context
carried into Celery tasks (eager, and through a real message on the Redis broker)."""

from __future__ import annotations

import base64
import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
import redis
import structlog
from django.test import Client

from config.celery import app as celery_app
from wasla.common.observability.celery_context import HEADER
from wasla.common.observability.logs import (
    MASKED_PAN,
    MAX_TEXT,
    REDACTED,
    log_context,
    log_context_from,
    redact_text,
    redact_value,
    request_id_from,
    structured_formatter,
)
from wasla.payments.tests.celery_broker import celery_publishing, own_queue
from wasla.tenants.context import tenant_context


@celery_app.task(name="tests.observability_probe")
def probe(note: str) -> dict[str, Any]:
    logging.getLogger("tests.probe").info("probe %s", note)
    return dict(structlog.contextvars.get_contextvars())


@pytest.fixture
def capture() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(structured_formatter("json"))
    root = logging.getLogger()
    root.addHandler(handler)
    structlog.contextvars.clear_contextvars()
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        structlog.contextvars.clear_contextvars()


def _read(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_secret_keys_provider_secrets_and_luhn_card_numbers_are_masked():
    masked = redact_value(
        {
            "webhook_secret": "abc",
            "Authorization": "Bearer xyz",
            "nested": {"password": "p", "otp": "123456", "cvc": "123", "amount": "100.00"},
            "note": "key sk_live_51Abc and whsec_Zz9 for 4242 4242 4242 4242, ref 4242424242424241",
            "url": "/billing/page/?token=s3cr3t&lang=ar",
            "body": '{"client_secret": "pi_1_secret_2", "id": "pi_1"}',
        }
    )
    assert masked["webhook_secret"] == masked["Authorization"] == REDACTED
    assert masked["nested"] == {
        "password": REDACTED,
        "otp": REDACTED,
        "cvc": REDACTED,
        "amount": "100.00",
    }
    # A Luhn-valid number is a card; the same digits failing Luhn are left (an order ref).
    assert masked["note"] == f"key {REDACTED} and {REDACTED} for {MASKED_PAN}, ref 4242424242424241"
    assert masked["url"] == f"/billing/page/?token={REDACTED}&lang=ar"
    assert masked["body"] == f'{{"client_secret": "{REDACTED}", "id": "pi_1"}}'


def test_a_megabyte_of_text_is_cut_before_it_is_read_and_still_masked():
    """A 1 MB query string in a request line (test_bad_input sends one) is cut to MAX_TEXT
    before the masks read it: unbounded, their scans over a megabyte of word characters held a
    worker for minutes. What is kept is still masked."""
    text = "?token=abc123&reference_id=" + "x" * 1_000_000 + "secret_key=sk_live_zzz"
    out = redact_text(text)
    assert len(out) < MAX_TEXT + 64
    assert "abc123" not in out
    assert out.endswith("characters cut]")
    assert redact_text("y" * MAX_TEXT) == "y" * MAX_TEXT  # at the limit: nothing cut


def test_stdlib_and_structlog_lines_are_json_with_the_bound_ids(capture):
    with log_context(request_id="req-1", payment_attempt="pa-1"):
        logging.getLogger("wasla.example").warning(
            "charge %s failed", "ch_1", extra={"secret_key": "sk_test_1"}
        )
        structlog.get_logger("wasla.example").info("refunded", card_number="4242424242424242")
    first, second = _read(capture)
    assert first["event"] == "charge ch_1 failed"
    assert first["level"] == "warning"
    assert first["logger"] == "wasla.example"
    assert first["secret_key"] == REDACTED
    assert (first["request_id"], first["payment_attempt"]) == ("req-1", "pa-1")
    assert second["event"] == "refunded"
    assert second["card_number"] == REDACTED
    assert second["request_id"] == "req-1"
    assert first["timestamp"].endswith("Z")


@pytest.mark.django_db
def test_a_line_names_the_tenant_of_the_scope_it_was_written_in(capture):
    with tenant_context(42):
        logging.getLogger("wasla.example").info("inside")
    logging.getLogger("wasla.example").info("outside")
    inside, outside = _read(capture)
    assert inside["tenant"] == "42"
    assert "tenant" not in outside


def test_log_context_from_binds_an_argument_for_the_call_only(capture):
    @log_context_from(payment_attempt="attempt_id")
    def work(*, attempt_id: str) -> None:
        logging.getLogger("wasla.example").info("working")

    work(attempt_id="pa-9")
    logging.getLogger("wasla.example").info("after")
    during, after = _read(capture)
    assert during["payment_attempt"] == "pa-9"
    assert "payment_attempt" not in after


def test_request_id_is_the_callers_when_sane_else_new():
    assert request_id_from("abc-123.x:y_z") == "abc-123.x:y_z"
    for insane in ("", "has space", "x" * 129, "new\nline", None):
        made = request_id_from(insane)
        assert made != insane
        assert len(made) == 32


@pytest.mark.django_db
def test_each_request_gets_an_id_echoed_and_on_its_log_line(capture):
    client = Client()
    given = client.get("/healthz", HTTP_X_REQUEST_ID="trace-42")
    made = client.get("/healthz?token=s3cr3t", HTTP_X_REQUEST_ID="bad id\t")
    assert given["X-Request-ID"] == "trace-42"
    assert made["X-Request-ID"] != "bad id\t"
    requests = [line for line in _read(capture) if line["event"] == "request"]
    assert [(r["request_id"], r["path"], r["status"]) for r in requests] == [
        ("trace-42", "/healthz", 200),
        (made["X-Request-ID"], "/healthz", 200),
    ]
    assert "s3cr3t" not in capture.getvalue()
    # Nothing of the request stays bound after it.
    assert structlog.contextvars.get_contextvars() == {}


def test_an_eager_task_logs_with_its_callers_ids_and_gives_them_back(capture):
    with log_context(request_id="req-7", tenant="3"):
        bound = probe.delay("eager").get(disable_sync_subtasks=False)
        assert structlog.contextvars.get_contextvars() == {"request_id": "req-7", "tenant": "3"}
    assert bound["request_id"] == "req-7"
    assert bound["task"] == "tests.observability_probe"
    line = next(line for line in _read(capture) if line["event"] == "probe eager")
    assert (line["request_id"], line["tenant"]) == ("req-7", "3")


def test_a_queued_message_carries_the_ids_and_the_worker_binds_them(settings):
    with own_queue(settings.CELERY_BROKER_URL) as queue:
        with (
            celery_publishing(settings.CELERY_BROKER_URL, queue=queue),
            log_context(request_id="req-8", webhook_event="77"),
        ):
            probe.delay("queued")
        client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
        message = json.loads(client.rpop(queue))
        client.close()
    carried = message["headers"][HEADER]
    assert carried == {"request_id": "req-8", "webhook_event": "77"}
    args, _, _ = json.loads(base64.b64decode(message["body"]))
    # The worker side: the task run with the message's headers binds them (nothing else).
    structlog.contextvars.clear_contextvars()
    bound = probe.apply(args=args, headers={HEADER: {**carried, "evil": "x"}}).get(
        disable_sync_subtasks=False
    )
    assert bound["request_id"] == "req-8"
    assert bound["webhook_event"] == "77"
    assert "evil" not in bound
