"""Fixtures of the webhook pipeline tests: retry settings, a Tap API that is down, a Stripe
gateway with fresh secrets, and a broker queue of the test's own."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from testsupport.factories import make_stripe_config
from wasla.payments.models import PaymentGatewayConfig
from wasla.payments.webhooks.retry import WebhookRetryPolicy

from .celery_broker import free_port, own_queue


@pytest.fixture
def broker_queue(settings) -> Iterator[str]:
    with own_queue(settings.CELERY_BROKER_URL) as name:
        yield name


@pytest.fixture
def retries(settings) -> WebhookRetryPolicy:
    """Short, predictable retry settings; one provider try per processing."""
    settings.WASLA_WEBHOOK_MAX_ATTEMPTS = 3
    settings.WASLA_WEBHOOK_MAX_UNEXPECTED_ATTEMPTS = 2
    settings.WASLA_WEBHOOK_RETRY_BASE_SECONDS = 10
    settings.WASLA_WEBHOOK_RETRY_MAX_SECONDS = 60
    settings.WASLA_WEBHOOK_RETRY_JITTER = 0.2
    settings.WASLA_PROVIDER_RETRY = {**settings.WASLA_PROVIDER_RETRY, "attempts": 1}
    return WebhookRetryPolicy.from_settings()


@pytest.fixture
def tap_down(settings) -> None:
    """Tap's API answers nothing: connection refused."""
    settings.WASLA_PROVIDER_BASE_URLS = {
        **settings.WASLA_PROVIDER_BASE_URLS,
        "tap": {"sandbox": f"http://127.0.0.1:{free_port()}", "live": "https://api.tap.company"},
    }


@pytest.fixture
def stripe_config(tenant) -> PaymentGatewayConfig:
    return make_stripe_config(tenant)
