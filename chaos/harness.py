"""The production stack (scripts/stack.py) as the chaos suite runs it: on the suite's private
PostgreSQL cluster and Redis, the product under chaos/settings.py (production's settings plus the
crash points), two gunicorn workers (one per core) and a Celery worker of two pool processes.

`ChaosStack` adds to `Stack` only what the tests need to aim their faults: the cluster behind it,
the whole-process-group kill of a lost host, the logs, and `verify_ledger`'s exit status."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path

from chaos.cluster import ROOT, PostgresCluster, RedisServer, port_free_from
from scripts.stack import Stack

CHAOS_SETTINGS = "chaos.settings"


class ChaosStack(Stack):
    def __init__(
        self,
        *,
        cluster: PostgresCluster,
        redis: RedisServer,
        database: str,
        work_dir: Path,
        extra_env: dict[str, str],
        workers: int = 2,
    ) -> None:
        super().__init__(
            database_url=cluster.database_url(database),
            redis_url=f"redis://127.0.0.1:{redis.port}",
            work_dir=work_dir,
            https_port=port_free_from(58443),
            workers=workers,
            extra_env={
                # The Celery command's own directory comes first on its path, not the checkout:
                # chaos/ (not an installed package) is found through PYTHONPATH.
                "PYTHONPATH": str(ROOT),
                "DJANGO_SETTINGS_MODULE": CHAOS_SETTINGS,
                **extra_env,
            },
            log=open(work_dir / "stack.log", "a"),  # noqa: SIM115 (open while the stack lives)
        )
        self.cluster = cluster
        self.database = database

    def stop(self) -> None:
        super().stop()
        self.log.close()

    @property
    def tap_url(self) -> str:
        """Tap's API on the simulator, as the suite reads charges from it."""
        return f"{self.sandbox_url}/sandbox/tap"

    @property
    def audit_url(self) -> str:
        """The cluster's superuser on the stack's database (reads every tenant's rows)."""
        return self.cluster.database_url(self.database)

    def pid(self, name: str) -> int:
        return self.processes[name].pid

    def alive(self, name: str) -> bool:
        return self.processes[name].poll() is None

    def kill_group(self, name: str) -> list[int]:
        """SIGKILL the process and all its descendants at once (a lost host); their pids."""
        pids = self.pids(name)
        for pid in reversed(pids):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.processes[name].wait(30)
        return pids

    def verify_ledger(self) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "manage.py", "verify_ledger"],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            check=False,
        )

    def logs(self, chars: int = 3000) -> str:
        return "\n".join(
            f"--- {path.name}\n{path.read_text(errors='replace')[-chars:]}"
            for path in sorted((self.work_dir / "logs").glob("*.log"))
        )
