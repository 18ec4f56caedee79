"""Rate limits per API token and per client address, counted in the real Redis: 429
problem+json with Retry-After on the API and the webhooks, the translated page on the sign-in
forms; other tokens and addresses unaffected; the API keeps working when Redis is down."""

from __future__ import annotations

import logging
import multiprocessing
import socket
import time

import pytest
from django.test import Client

from testsupport.factories import api_client_for
from testsupport.ratelimits import rate_limits_on
from wasla.common.client_ip import client_ip

pytestmark = pytest.mark.django_db

ORDERS = "/api/v1/orders/"


def assert_throttled(response, *, within: int = 60) -> None:
    assert response.status_code == 429
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["type"] == "https://docs.wasla.sa/problems/throttled"
    assert body["status"] == 429
    assert 1 <= int(response["Retry-After"]) <= within


def test_the_101st_request_in_a_minute_from_one_token_is_429_and_other_tokens_go_on(
    settings, monkeypatch, tenant, other_tenant
):
    assert settings.WASLA_RATE_LIMITS["api_token"] == "100/m"  # the default, not a test value
    clock = rate_limits_on(settings, monkeypatch)
    busy, other = api_client_for(tenant), api_client_for(other_tenant)
    statuses = [busy.get(ORDERS).status_code for _ in range(100)]
    assert statuses == [200] * 100
    refused = busy.get(ORDERS)
    assert_throttled(refused)
    wait = refused["Retry-After"]
    assert refused.json()["detail"] == f"Too many requests; retry after {wait} seconds."
    # Another token (another tenant's, from the same address) is not affected.
    assert other.get(ORDERS).status_code == 200
    # Nor is a second token of the same tenant: the limit is per token.
    assert api_client_for(tenant).get(ORDERS).status_code == 200
    # The next window: the busy token is served again.
    clock.now += int(refused["Retry-After"])
    assert busy.get(ORDERS).status_code == 200


def test_the_retry_after_is_the_rest_of_the_window(settings, monkeypatch, tenant):
    clock = rate_limits_on(settings, monkeypatch, api_token="2/m")
    api = api_client_for(tenant)
    api.get(ORDERS), api.get(ORDERS)
    wait = int(api.get(ORDERS)["Retry-After"])
    clock.now += wait - 1
    assert_throttled(api.get(ORDERS), within=1)  # a second before the window ends: still 429
    clock.now += 1
    assert api.get(ORDERS).status_code == 200


def test_the_api_is_limited_per_address_whatever_the_token(settings, monkeypatch, tenant):
    rate_limits_on(settings, monkeypatch, api_ip="3/m")
    for _ in range(3):
        assert api_client_for(tenant).get(ORDERS).status_code == 200
    assert_throttled(api_client_for(tenant).get(ORDERS))  # a fresh token, the same address
    assert_throttled(Client().get(ORDERS))  # and no token at all
    elsewhere = api_client_for(tenant)
    assert elsewhere.get(ORDERS, REMOTE_ADDR="192.0.2.7").status_code == 200


def test_a_wrong_token_is_refused_and_counted_like_a_right_one(settings, monkeypatch, tenant):
    rate_limits_on(settings, monkeypatch, api_token="2/m")
    wrong = Client(HTTP_AUTHORIZATION="Bearer wsl_not-a-real-token")
    assert [wrong.get(ORDERS).status_code for _ in range(2)] == [401, 401]
    assert_throttled(wrong.get(ORDERS))  # before any database lookup of the token


def test_webhooks_are_limited_per_address(settings, monkeypatch):
    rate_limits_on(settings, monkeypatch, webhook_ip="2/m")
    url = "/webhooks/tap/00000000-0000-0000-0000-000000000000/"
    first = [Client().post(url, b"{}", content_type="application/json") for _ in range(2)]
    assert [r.status_code for r in first] == [404, 404]  # unknown endpoint, answered as usual
    assert_throttled(Client().post(url, b"{}", content_type="application/json"))
    other = Client(REMOTE_ADDR="198.51.100.9").post(url, b"{}", content_type="application/json")
    assert other.status_code == 404


@pytest.mark.parametrize(
    ("path", "language", "text"),
    [
        ("/merchant/login/", "ar", "توقّف تسجيل الدخول"),
        ("/admin/login/", "en", "Sign-in paused"),
    ],
)
def test_sign_in_forms_are_limited_per_address(settings, monkeypatch, path, language, text):
    rate_limits_on(settings, monkeypatch, login_ip="2/m")
    client = Client()
    client.cookies["wasla_language"] = language
    for _ in range(2):
        assert client.post(path, {"username": "nobody", "password": "x"}).status_code == 200
    refused = client.post(path, {"username": "nobody", "password": "x"})
    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert text in refused.content.decode()
    assert client.get(path).status_code == 200  # showing the form is not an attempt
    # A program that asks for JSON gets the problem.
    assert_throttled(
        client.post(path, {"username": "nobody"}, HTTP_ACCEPT="application/json"), within=60
    )


def test_with_redis_down_the_api_works_unlimited_and_says_so_in_the_log(
    settings, monkeypatch, tenant, caplog
):
    rate_limits_on(settings, monkeypatch, api_token="1/m", api_ip="1/m")
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    dead_port = closed.getsockname()[1]
    closed.close()  # nothing listens there: connections are refused
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{dead_port}/1",
        }
    }
    api = api_client_for(tenant)
    with caplog.at_level(logging.WARNING, logger="wasla.common.ratelimit"):
        assert [api.get(ORDERS).status_code for _ in range(3)] == [200, 200, 200]
    warnings = [r.getMessage() for r in caplog.records if r.name == "wasla.common.ratelimit"]
    assert warnings
    assert all("cache unavailable" in message for message in warnings)


@pytest.mark.parametrize(
    ("proxies", "remote", "forwarded", "expected"),
    [
        (0, "203.0.113.5", "1.2.3.4", "203.0.113.5"),  # no proxy: the header is the client's
        (1, "10.0.0.2", "1.2.3.4, 198.51.100.20", "198.51.100.20"),  # the balancer's entry
        (2, "10.0.0.2", "1.2.3.4, 198.51.100.20, 10.0.0.9", "198.51.100.20"),
        (1, "10.0.0.2", "", "10.0.0.2"),  # not through the proxy: the peer
        (1, "10.0.0.2", "not-an-address", "10.0.0.2"),
    ],
)
def test_the_client_address_trusts_only_the_configured_proxies(
    settings, rf, proxies, remote, forwarded, expected
):
    settings.WASLA_TRUSTED_PROXY_COUNT = proxies
    request = rf.get("/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(request) == expected


def _post_webhooks(count: int) -> list[int]:
    """In a worker process of its own: `count` webhook deliveries from one address."""
    url = "/webhooks/no-such-provider/00000000-0000-0000-0000-000000000000/"
    client = Client()
    return [
        client.post(url, b"{}", content_type="application/json").status_code for _ in range(count)
    ]


def test_worker_processes_share_the_counters(settings, monkeypatch):
    """Four processes (as four gunicorn workers) send 50 deliveries each from one address at a
    limit of 100: Redis counts them together, atomically — exactly 100 pass."""
    rate_limits_on(settings, monkeypatch, webhook_ip="100/m")
    with multiprocessing.get_context("fork").Pool(4) as pool:
        statuses = [s for batch in pool.map(_post_webhooks, [50] * 4) for s in batch]
    assert len(statuses) == 200
    assert statuses.count(429) == 100
    assert statuses.count(404) == 100  # an unknown provider, answered before any query


def test_with_redis_hung_the_api_answers_after_the_cache_timeout(
    settings, monkeypatch, tenant, caplog
):
    """A Redis that takes connections and never answers (failover, a dead NAT entry): the
    configured socket timeouts turn it into an error, and the limits fail open."""
    assert settings.CACHES["default"]["OPTIONS"]["socket_timeout"] == 2.0  # the default
    rate_limits_on(settings, monkeypatch)
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)
    try:
        settings.CACHES = {
            "default": {
                **settings.CACHES["default"],
                "LOCATION": f"redis://127.0.0.1:{silent.getsockname()[1]}/1",
            }
        }
        api = api_client_for(tenant)
        started = time.monotonic()
        with caplog.at_level(logging.WARNING, logger="wasla.common.ratelimit"):
            assert api.get(ORDERS).status_code == 200
        assert time.monotonic() - started < 30  # a guard against hanging, not a timing claim
    finally:
        silent.close()
    assert any("cache unavailable" in r.getMessage() for r in caplog.records)
