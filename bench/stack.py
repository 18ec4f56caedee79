"""Requests per second through the whole local production stack (scripts/stack.py): nginx TLS ->
gunicorn (config.settings.production) -> pgbouncer (transaction mode) -> PostgreSQL with
row-level security, for 1 and then N gunicorn workers, in one run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/wasla_bench_stack \\
    REDIS_URL=redis://127.0.0.1:6381 .venv/bin/python bench/stack.py [--seconds 15] [--workers 2]

Three requests, each by `--clients` threads with keep-alive HTTPS connections:
- `GET /healthz`: the serving path alone (TLS, nginx, gunicorn, Django's middleware);
- `GET /api/v1/orders/?limit=20`: token lookup (SECURITY DEFINER function), the tenant's
  scope, a filtered list under row-level security through pgbouncer;
- `POST /api/v1/orders/`: the same plus the Idempotency-Key record and an insert.
The clients run on the same machine (they take CPU from the server): the numbers are a floor,
and their ratio across worker counts says how far the web tier scales with cores here. The
database it uses is created if missing and left for the next run (drop it when done).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts.stack import Stack, free_port  # noqa: E402


def load(stack: Stack, token: str, kind: str, clients: int, seconds: float) -> dict[str, float]:
    import httpx

    latencies: list[float] = []
    failures = [0]
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def client() -> None:
        mine: list[float] = []
        errors = 0
        with httpx.Client(
            base_url=stack.base_url,
            verify=stack.ssl_context(),
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        ) as http:
            while time.monotonic() < stop_at:
                started = time.perf_counter()
                if kind == "healthz":
                    response = http.get("/healthz")
                elif kind == "list":
                    response = http.get("/api/v1/orders/?limit=20")
                else:
                    response = http.post(
                        "/api/v1/orders/",
                        json={"reference": f"B-{uuid.uuid4().hex[:10]}", "amount": "10.00"},
                        headers={"Idempotency-Key": uuid.uuid4().hex},
                    )
                elapsed = time.perf_counter() - started
                if response.status_code in (200, 201):
                    mine.append(elapsed)
                else:
                    errors += 1
        with lock:
            latencies.extend(mine)
            failures[0] += errors

    threads = [threading.Thread(target=client) for _ in range(clients)]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.monotonic() - began
    ordered = sorted(latencies) or [0.0]
    return {
        "rps": len(latencies) / wall,
        "p50_ms": statistics.median(ordered) * 1000,
        "p95_ms": ordered[int(len(ordered) * 0.95) - 1 if len(ordered) > 1 else 0] * 1000,
        "errors": failures[0],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    args = parser.parse_args()
    database_url = os.environ.get(
        "DATABASE_URL", "postgres://postgres@127.0.0.1:5432/wasla_bench_stack"
    )
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379")
    with Stack(
        database_url=database_url,
        redis_url=redis_url,
        work_dir=ROOT / "var" / "stack" / "bench",
        https_port=free_port(),
        workers=1,
    ) as stack:
        demo = stack.seed_demo()
        token = demo["tenants"][0]["api_token"]
        print(f"cores: {os.cpu_count()}, clients: {args.clients}, {args.seconds:.0f} s each")
        print(f"{'workers':>7} {'request':<28} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} errors")
        results: dict[tuple[int, str], float] = {}
        for workers in sorted({1, args.workers}):
            if workers != stack.workers:
                stack.workers = workers
                stack.restart("web")
            for kind, label in (
                ("healthz", "GET /healthz"),
                ("list", "GET /api/v1/orders/"),
                ("create", "POST /api/v1/orders/"),
            ):
                row = load(stack, token, kind, args.clients, args.seconds)
                results[(workers, kind)] = row["rps"]
                print(
                    f"{workers:>7} {label:<28} {row['rps']:>8.1f} {row['p50_ms']:>8.1f}"
                    f" {row['p95_ms']:>8.1f} {row['errors']:>6}",
                    flush=True,
                )
        if args.workers != 1:
            for kind in ("healthz", "list", "create"):
                ratio = results[(args.workers, kind)] / results[(1, kind)]
                print(f"{kind}: {args.workers} workers / 1 worker = {ratio:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
