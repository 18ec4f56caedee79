"""Provider calls reuse the process's connections (`providers/http.pooled_client`): one TCP (and,
against the real providers, TLS) handshake serves the calls of every tenant, each request still
carrying its own tenant's key.

A local HTTP/1.1 server standing in for Tap's API counts the connections it accepts and records
the key each request brought, over real TCP; the provider is Tap's real client."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from wasla.payments.providers import http as provider_http
from wasla.payments.providers.base import Credentials, ProviderError
from wasla.payments.providers.http import POOLED_CLIENTS_MAX, pooled_client
from wasla.payments.providers.tap import TapProvider

KEYS = ("sk_test_tenant_a_0000000000000001", "sk_test_tenant_b_0000000000000002")


class FakeTapApi:
    """Answers Tap's charge look-up: 404 for a key it knows (the key works, the charge does not
    exist), 401 for any other. Keeps connections alive, as Tap's API does."""

    def __init__(self) -> None:
        self.connections = 0
        self.keys_seen: list[str] = []
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                api.connections += 1

            def do_GET(self) -> None:
                key = self.headers.get("Authorization", "").removeprefix("Bearer ")
                api.keys_seen.append(key)
                known = key in KEYS
                body = json.dumps(
                    {"errors": [{"code": "1140" if known else "2107", "description": "x"}]}
                ).encode()
                self.send_response(404 if known else 401)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def tap_api() -> Iterator[FakeTapApi]:
    api = FakeTapApi()
    yield api
    api.close()


def _tap(url: str, secret_key: str) -> TapProvider:
    return TapProvider(
        Credentials(
            mode="sandbox", base_url=url, public_key="", secret_key=secret_key, webhook_secret=""
        )
    )


def test_calls_of_two_tenants_share_one_connection_each_with_its_own_key(tap_api):
    tenant_a, tenant_b = (_tap(tap_api.url, key) for key in KEYS)
    for provider in (tenant_a, tenant_b, tenant_a, tenant_b, tenant_a):
        provider.check_connection()  # 404: the key is accepted
    assert tap_api.connections == 1
    assert tap_api.keys_seen == [KEYS[0], KEYS[1], KEYS[0], KEYS[1], KEYS[0]]

    # A refused key on the shared connection is refused, and teaches the client nothing.
    with pytest.raises(ProviderError):
        _tap(tap_api.url, "sk_test_revoked_00000000000000003").check_connection()
    tenant_b.check_connection()
    assert tap_api.keys_seen[-2:] == ["sk_test_revoked_00000000000000003", KEYS[1]]
    assert tap_api.connections == 1


def test_the_shared_client_carries_no_credentials(tap_api):
    _tap(tap_api.url, KEYS[0]).check_connection()
    client = pooled_client(base_url=tap_api.url, read_timeout=20.0, connect_timeout=5.0)
    assert "authorization" not in client.headers
    assert all(KEYS[0] not in value for value in client.headers.values())


def test_a_forked_process_never_uses_its_parents_client(tap_api, monkeypatch):
    parent = pooled_client(base_url=tap_api.url, read_timeout=20.0, connect_timeout=5.0)
    monkeypatch.setattr(provider_http.os, "getpid", lambda: -1)  # as in a forked child
    child = pooled_client(base_url=tap_api.url, read_timeout=20.0, connect_timeout=5.0)
    assert child is not parent


def test_only_the_latest_endpoints_keep_a_client_and_older_ones_are_closed():
    first = pooled_client(base_url="http://127.0.0.1:9/first/", read_timeout=1, connect_timeout=1)
    for i in range(POOLED_CLIENTS_MAX):
        pooled_client(base_url=f"http://127.0.0.1:9/{i}/", read_timeout=1, connect_timeout=1)
    assert first.is_closed
    again = pooled_client(base_url="http://127.0.0.1:9/first/", read_timeout=1, connect_timeout=1)
    assert again is not first
    assert not again.is_closed
