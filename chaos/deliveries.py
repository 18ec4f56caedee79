"""Payments and webhook deliveries against a running stack, over HTTP only, as a merchant's
store, a customer and the provider would make them (the ideas of
wasla/payments/tests/webhook_deliveries.py, without the test database):

- `payments_create`: orders and Tap checkouts through the API (nginx -> gunicorn), each paid on
  the Tap simulator's hosted page with the simulator's own webhook held back, so the suite is the
  only sender;
- `tap_deliveries`: the signed `charge.captured` webhooks for them, fetched from the simulator
  (the charge as Tap has it) and signed with the gateway's secret key, with duplicates and stale
  copies (an INITIATED charge, signed as well), shuffled: out of order;
- `Provider`: delivers them from several threads and, like Tap, sends again whatever did not get a
  2xx (a dead worker's dropped connection, nginx's 502, the 503 of a database restart) until it
  does, counting what each try got.
"""

from __future__ import annotations

import json
import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import httpx

from sandbox.tap_sim.signing import tap_hashstring
from wasla.payments.tests.hosted import pay_on_hosted_page

REQUEST_TIMEOUT = 15.0  # seconds one webhook POST may take before the provider gives up on it
RETRY_DELAYS = (0.2, 0.5, 1.0, 2.0, 3.0)  # between tries of one delivery; the last repeats


@dataclass(frozen=True)
class TapGateway:
    """One tenant's Tap account as the suite uses it."""

    tenant: str
    api_token: str
    secret_key: str
    webhook_url: str


@dataclass(frozen=True)
class Payment:
    order_id: str
    reference: str  # the order's reference: chaos-<run>-<n>
    attempt_id: str
    charge_id: str
    gateway: TapGateway


def api_client(base_url: str, token: str, *, verify: Any = False) -> httpx.Client:
    return httpx.Client(
        base_url=base_url,
        headers={"Authorization": f"Bearer {token}"},
        verify=verify,
        timeout=30,
    )


def tap_knob(sandbox_url: str, *, verify: Any = False, **knobs: Any) -> None:
    """Set the Tap simulator's fault knobs (`webhook`, `api`, `timeout_seconds`, ...)."""
    response = httpx.post(f"{sandbox_url}/sandbox/tap/_control/", json=knobs, verify=verify)
    response.raise_for_status()


def tap_knobs_reset(sandbox_url: str, *, verify: Any = False) -> None:
    httpx.delete(f"{sandbox_url}/sandbox/tap/_control/", verify=verify).raise_for_status()


def checkout(
    client: httpx.Client, *, reference: str, amount: str = "100.00", method: str = "mada"
) -> httpx.Response:
    """Create an order and a Tap checkout for it through the API; the checkout's response."""
    order = client.post(
        "/api/v1/orders/",
        json={"reference": reference, "amount": amount, "currency": "SAR"},
        headers={"Idempotency-Key": uuid.uuid4().hex},
    )
    order.raise_for_status()
    return client.post(
        "/api/v1/payments/",
        json={"order": order.json()["id"], "provider": "tap", "method": method},
        headers={"Idempotency-Key": uuid.uuid4().hex},
    )


def payment_create(
    client: httpx.Client, gateway: TapGateway, reference: str, *, amount: str = "100.00"
) -> Payment:
    """An order paid on Tap's hosted page, its webhook not yet delivered: the attempt pending."""
    response = checkout(client, reference=reference, amount=amount)
    if response.status_code != 201:
        raise AssertionError(f"checkout {reference}: {response.status_code} {response.text[:500]}")
    attempt = response.json()
    final = pay_on_hosted_page(attempt["redirect_url"], "succeed", return_to_merchant=False)
    if final.status_code >= 400:
        raise AssertionError(f"hosted page {reference}: {final.status_code}")
    return Payment(
        order_id=attempt["order"],
        reference=reference,
        attempt_id=attempt["id"],
        charge_id=attempt["provider_reference"],
        gateway=gateway,
    )


def payments_create(
    base_url: str,
    gateways: list[TapGateway],
    count: int,
    *,
    run: str,
    threads: int = 4,
    verify: Any = False,
) -> list[Payment]:
    """`count` pending Tap payments spread over the gateways, made from `threads` threads."""
    local = threading.local()

    def one(n: int) -> Payment:
        gateway = gateways[n % len(gateways)]
        clients = local.__dict__.setdefault("clients", {})
        if gateway.tenant not in clients:
            clients[gateway.tenant] = api_client(base_url, gateway.api_token, verify=verify)
        return payment_create(clients[gateway.tenant], gateway, f"chaos-{run}-{n}")

    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(one, range(count)))


def tap_charge(sim_url: str, gateway: TapGateway, charge_id: str, *, verify: Any = False) -> bytes:
    """The charge as Tap's API returns it (what its webhook body carries)."""
    response = httpx.get(
        f"{sim_url}/v2/charges/{charge_id}",
        headers={"Authorization": f"Bearer {gateway.secret_key}"},
        verify=verify,
        timeout=30,
    )
    response.raise_for_status()
    return response.content


@dataclass
class Delivery:
    """One webhook as the provider holds it: sent until it gets a 2xx."""

    url: str
    body: bytes
    headers: dict[str, str]
    label: str  # what it is about: the order reference and kind
    tries: int = 0
    answers: Counter[str] = field(default_factory=Counter)  # status code or error name
    seconds: list[float] = field(default_factory=list)  # how long each try took
    acknowledged: bool = False


def signed_tap_delivery(gateway: TapGateway, charge: dict[str, Any], label: str) -> Delivery:
    body = json.dumps(charge, default=str).encode()
    return Delivery(
        url=gateway.webhook_url,
        body=body,
        headers={
            "Content-Type": "application/json",
            "hashstring": tap_hashstring(json.loads(body, parse_float=Decimal), gateway.secret_key),
        },
        label=label,
    )


def tap_deliveries(
    sim_url: str,
    payments: Iterable[Payment],
    *,
    copies: int = 2,
    stale_every: int = 5,
    seed: int = 13,
    verify: Any = False,
) -> list[Delivery]:
    """For each payment, `copies` deliveries of its CAPTURED charge (the charge fetched from the
    simulator, so its webhook and its API agree) and, for every `stale_every`-th payment, an
    older INITIATED copy too; all shuffled, so duplicates overlap and news arrives out of order."""
    deliveries: list[Delivery] = []
    for n, payment in enumerate(payments):
        charge = json.loads(tap_charge(sim_url, payment.gateway, payment.charge_id, verify=verify))
        if charge.get("status") != "CAPTURED":
            raise AssertionError(f"{payment.reference}: the charge is {charge.get('status')}")
        for copy in range(copies):
            deliveries.append(
                signed_tap_delivery(payment.gateway, charge, f"{payment.reference} captured#{copy}")
            )
        if stale_every and n % stale_every == 0:
            stale = {**charge, "status": "INITIATED"}
            deliveries.append(
                signed_tap_delivery(payment.gateway, stale, f"{payment.reference} initiated")
            )
    random.Random(seed).shuffle(deliveries)
    return deliveries


class Provider:
    """Delivers webhooks as a provider does: several at once, each sent again after a non-2xx
    answer or a broken connection, with growing pauses, until acknowledged or `deadline`."""

    def __init__(self, *, threads: int = 6, deadline: float = 300.0, verify: Any = False) -> None:
        self.threads = threads
        self.deadline = deadline
        self.verify = verify
        self.sent = 0  # POSTs made, every try counted
        self.done = 0  # deliveries acknowledged
        self._lock = threading.Lock()

    def deliver(
        self, deliveries: list[Delivery], *, progress: Callable[[int, int], None] | None = None
    ) -> list[Delivery]:
        """Deliver all; returns those never acknowledged (empty when all were)."""
        ends = time.monotonic() + self.deadline
        local = threading.local()

        def send(delivery: Delivery) -> None:
            client = local.__dict__.get("client")
            if client is None:
                client = local.client = httpx.Client(verify=self.verify, timeout=REQUEST_TIMEOUT)
            while time.monotonic() < ends:
                delay = RETRY_DELAYS[min(delivery.tries, len(RETRY_DELAYS) - 1)]
                delivery.tries += 1
                started = time.monotonic()
                try:
                    response = client.post(
                        delivery.url, content=delivery.body, headers=delivery.headers
                    )
                    answer = str(response.status_code)
                    ok = 200 <= response.status_code < 300
                except httpx.HTTPError as exc:
                    answer, ok = type(exc).__name__, False
                    client.close()
                    client = local.client = httpx.Client(
                        verify=self.verify, timeout=REQUEST_TIMEOUT
                    )
                delivery.answers[answer] += 1
                delivery.seconds.append(time.monotonic() - started)
                with self._lock:
                    self.sent += 1
                if ok:
                    delivery.acknowledged = True
                    with self._lock:
                        self.done += 1
                        done = self.done
                    if progress is not None:
                        progress(done, len(deliveries))
                    return
                time.sleep(delay)

        with ThreadPoolExecutor(self.threads) as pool:
            list(pool.map(send, deliveries))
        return [delivery for delivery in deliveries if not delivery.acknowledged]


def answers_total(deliveries: Iterable[Delivery]) -> Counter[str]:
    total: Counter[str] = Counter()
    for delivery in deliveries:
        total.update(delivery.answers)
    return total


# --- inside the stack's environment (`python -c`, the stack's settings and database) ----------

SETUP_COMMAND = (
    "import django, json; django.setup(); from chaos.deliveries import tenants_setup; "
    "print('CHAOS-GATEWAYS ' + json.dumps(tenants_setup({count!r}, {run!r})))"
)


def stack_python(stack: Any, code: str) -> str:
    """Run `code` with the stack's Python environment (its settings, its database); stdout."""
    import subprocess
    import sys

    from chaos.cluster import ROOT

    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=stack.env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise AssertionError(f"stack python failed:\n{result.stdout}{result.stderr}")
    return result.stdout


def tenants_setup(count: int, run: str) -> list[dict[str, str]]:
    """Runs inside the stack: `count` tenants, each with a sandbox Tap gateway and an API token
    (their secrets printed once, for the suite to sign and call with)."""
    from testsupport.factories import make_tap_config, make_tenant
    from wasla.payments.orchestrator import webhook_url
    from wasla.tenants.context import platform_access
    from wasla.tenants.services import api_token_create

    made = []
    with platform_access(reason="chaos suite set-up", actor="chaos"):
        for n in range(count):
            tenant = make_tenant(f"chaos-{run}-{n}")
            config = make_tap_config(tenant)
            _, token = api_token_create(tenant=tenant, name="chaos")
            made.append(
                {
                    "tenant": tenant.slug,
                    "api_token": token,
                    "secret_key": config.secret_key,
                    "webhook_url": webhook_url(config),
                }
            )
    return made


def gateways_from_output(output: str) -> list[TapGateway]:
    for line in output.splitlines():
        if line.startswith("CHAOS-GATEWAYS "):
            return [TapGateway(**entry) for entry in json.loads(line.split(" ", 1)[1])]
    raise AssertionError(f"no gateways in the set-up's output:\n{output[-3000:]}")


# --- what the stack's database says happened (read as the cluster's superuser) ---------------


@dataclass(frozen=True)
class Audit:
    orders: int
    per_order: Counter[tuple[str, int, int, int]]  # (order status, paid, settlements, fees)
    events: Counter[str]  # verified inbox events by status
    not_once: list[tuple[str, str, int, int, int]]  # orders whose effects are not exactly one

    @property
    def pending_events(self) -> int:
        return sum(n for status, n in self.events.items() if status in ("received", "queued"))

    @property
    def drained(self) -> bool:
        return not self.not_once and self.pending_events == 0


ORDER_EFFECTS_SQL = """
SELECT o.reference, o.status,
  (SELECT count(*) FROM payments_paymentattempt a WHERE a.order_id = o.id AND a.status = 'paid'),
  (SELECT count(*) FROM settlement_settlementrecord s WHERE s.order_id = o.id),
  (SELECT count(*) FROM ledger_ledgertransaction t
     JOIN settlement_settlementrecord s
       ON t.tenant_id = s.tenant_id AND t.reference_id = 'settlement:' || s.id
    WHERE s.order_id = o.id AND t.entry_type = 'fee')
FROM orders_order o WHERE o.reference LIKE %s
"""
EVENTS_SQL = """
SELECT e.status, count(*) FROM payments_webhookevent e JOIN tenants_tenant t ON t.id = e.tenant_id
WHERE e.signature_valid AND t.slug LIKE %s GROUP BY e.status
"""


def audit(database_url: str, run: str) -> Audit:
    """Each of this run's orders: paid once, one settlement, one fee posting; the inbox."""
    import psycopg

    with psycopg.connect(database_url, autocommit=True) as conn:
        rows = conn.execute(ORDER_EFFECTS_SQL, (f"chaos-{run}-%",)).fetchall()
        events = Counter(
            {status: n for status, n in conn.execute(EVENTS_SQL, (f"chaos-{run}-%",)).fetchall()}
        )
    per_order: Counter[tuple[str, int, int, int]] = Counter(
        (status, paid, settled, fees) for _, status, paid, settled, fees in rows
    )
    not_once = [row for row in rows if tuple(row[1:]) != ("paid", 1, 1, 1)]
    return Audit(orders=len(rows), per_order=per_order, events=events, not_once=not_once)


class CountingProxy:
    """Tap's API as the product reaches it: every call forwarded to the simulator and counted,
    so a test can tell whether an answer came with or without a call to the provider."""

    FORWARDED_HEADERS = ("authorization", "content-type", "accept")

    def __init__(self, upstream: str = "") -> None:
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.upstream = upstream  # set once the simulator's URL is known
        self.calls: Counter[str] = Counter()
        self._lock = threading.Lock()
        # One pooled client (thread-safe) for every serving thread: keep-alive to the simulator.
        self._client = httpx.Client(timeout=60, limits=httpx.Limits(max_connections=64))
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _forward(self) -> None:
                with proxy._lock:
                    proxy.calls[f"{self.command} {self.path.split('?')[0]}"] += 1
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = {
                    name: value
                    for name, value in self.headers.items()
                    if name.lower() in proxy.FORWARDED_HEADERS
                }
                try:
                    upstream = proxy._client.request(
                        self.command, proxy.upstream + self.path, content=body, headers=headers
                    )
                except httpx.HTTPError:
                    self.send_response(502)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(upstream.status_code)
                self.send_header("Content-Type", upstream.headers.get("content-type", ""))
                self.send_header("Content-Length", str(len(upstream.content)))
                self.end_headers()
                self.wfile.write(upstream.content)

            do_GET = do_POST = do_PUT = do_DELETE = _forward

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def total(self) -> int:
        with self._lock:
            return sum(self.calls.values())

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._client.close()
