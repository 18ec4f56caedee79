"""bench/dashboard.py end to end at a thousand payments, so the script cannot rot unnoticed.

It runs as the lead runs it (a child process on a scratch database of its own, created,
migrated, seeded, measured and dropped), on the merchant API pages only, which exist today; the
timings themselves are not asserted (targets are the bench's printout, not a test's).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import environ
import psycopg
from psycopg.conninfo import make_conninfo

BENCH = Path(__file__).resolve().parent / "dashboard.py"
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/wasla"


def test_dashboard_bench_runs_end_to_end_on_its_scratch_database() -> None:
    database = f"wasla_bench_dashboard_test_{os.getpid()}"
    done = subprocess.run(  # noqa: S603 - our own script
        [
            sys.executable,
            str(BENCH),
            "--scale",
            "0.001",
            "--pages",
            "api",
            "--repeat",
            "3",
            "--database",
            database,
            "--drop",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    out = done.stdout
    assert "1,000 payments across 100 tenants" in out
    for label in ("API payments", "API settlements", "API orders"):
        line = next(line for line in out.splitlines() if line.startswith(label))
        assert not any(word in line for word in ("skipped", "error", "HTTP")), line
        assert line.count("PASS") + line.count("FAIL") == 2, line
    table = out.split("Main SQL per page:")[0].splitlines()
    assert not [line for line in table if line.startswith(("admin ", "portal ", "dashboard "))]

    # The server as the bench sees it (DATABASE_URL, the owner), not the test run's app role.
    server = environ.Env.db_url_config(os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL))
    owner = {
        k.lower(): str(server[k]) for k in ("HOST", "PORT", "USER", "PASSWORD") if server.get(k)
    }
    with psycopg.connect(make_conninfo(dbname="postgres", **owner)) as conn:
        left = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database])
        assert left.fetchone() is None, "--drop left the scratch database behind"
