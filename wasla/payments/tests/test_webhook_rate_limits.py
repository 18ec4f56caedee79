"""Webhooks under the rate limits (wasla/common/ratelimit.py): with Redis down the counters
cannot be read, and a provider's delivery is still accepted and processed (fail open)."""

from __future__ import annotations

import socket

import pytest

from testsupport.ratelimits import rate_limits_on
from wasla.payments.models import WebhookEvent

from .webhook_deliveries import post_stripe, stripe_paid_delivery


@pytest.mark.django_db
def test_a_delivery_is_accepted_and_processed_with_the_rate_limits_redis_down(
    stripe_config, settings, monkeypatch, django_capture_on_commit_callbacks
):
    rate_limits_on(settings, monkeypatch, webhook_ip="1/m")
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    dead = f"redis://127.0.0.1:{closed.getsockname()[1]}/1"
    closed.close()
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": dead}
    }
    attempt, body, signature = stripe_paid_delivery(stripe_config)
    with django_capture_on_commit_callbacks(execute=True):  # the queued processing runs
        response = post_stripe(stripe_config, body, signature)
    assert response.status_code == 200
    assert response.json() == {"status": "accepted"}
    assert WebhookEvent.objects.get().status == "processed"
    attempt.refresh_from_db()
    assert attempt.status == "paid"
    # A second delivery (over the limit of 1, were it counted) is accepted too.
    assert post_stripe(stripe_config, body, signature).status_code == 200
