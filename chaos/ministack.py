"""Interim stand-in for scripts/stack.py while it is being written: gunicorn (product and
simulators in one server, the test settings' sandbox), a Celery worker and beat, on the suite's
private PostgreSQL cluster and Redis. Same surface as the parts of `Stack` the tests use."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from chaos.cluster import ROOT, PostgresCluster, RedisServer, port_free_from

PYTHON = sys.executable


class MiniStack:
    def __init__(
        self,
        *,
        cluster: PostgresCluster,
        redis: RedisServer,
        work_dir: Path,
        database: str,
        extra_env: dict[str, str],
        workers: int = 2,
    ) -> None:
        self.cluster = cluster
        self.redis = redis
        self.work_dir = work_dir
        self.database = database
        self.port = port_free_from(58000)
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.sandbox_url = self.base_url
        self.tap_url = f"{self.base_url}/sandbox/tap"
        self.workers = workers
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "DJANGO_SETTINGS_MODULE": "chaos.settings",
            "WASLA_CHAOS_BASE_SETTINGS": "config.settings.test",
            "DATABASE_URL": cluster.database_url(database),
            "CELERY_BROKER_URL": redis.url(2),
            "CACHE_URL": redis.cache_url(1),
            "CELERY_TASK_ALWAYS_EAGER": "0",
            "WASLA_PUBLIC_BASE_URL": self.base_url,
            "WASLA_SANDBOX_BASE_URL": self.base_url,
            "WASLA_TAP_SANDBOX_URL": self.tap_url,
            **extra_env,
        }

    def manage(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [PYTHON, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            check=False,
        )
        if check and result.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(args)}: {result.stdout}{result.stderr}")
        return result

    def start(self) -> None:
        self.work_dir.mkdir(parents=True, exist_ok=True)
        self.cluster.create_database(self.database)
        self.manage("db_roles_setup")
        self.manage("migrate", "--noinput", "-v", "0")
        for name in ("web", "worker", "beat"):
            self._spawn(name)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.base_url}/sandbox/tap/_control/").status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise RuntimeError("mini stack did not answer\n" + self.logs())

    def _command(self, name: str) -> list[str]:
        if name == "web":
            return [
                str(Path(PYTHON).parent / "gunicorn"),
                "-b",
                f"127.0.0.1:{self.port}",
                "-w",
                str(self.workers),
                "--threads",
                "4",
                "--timeout",
                "60",
                "config.wsgi",
            ]
        if name == "worker":
            return [PYTHON, "-m", "celery", "-A", "config", "worker", "-c", "2", "-l", "INFO"]
        return [
            PYTHON,
            "-m",
            "celery",
            "-A",
            "config",
            "beat",
            "-l",
            "INFO",
            "--schedule",
            str(self.work_dir / "beat-schedule"),
        ]

    def _spawn(self, name: str) -> None:
        log = (self.work_dir / f"{name}.log").open("ab")
        self.processes[name] = subprocess.Popen(
            self._command(name),
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()

    @property
    def audit_url(self) -> str:
        return self.cluster.database_url(self.database)

    def kill_group(self, name: str) -> list[int]:
        pid = self.processes[name].pid
        self.kill(name)
        return [pid]

    def verify_ledger(self) -> subprocess.CompletedProcess[str]:
        return self.manage("verify_ledger", check=False)

    def pid(self, name: str) -> int:
        return self.processes[name].pid

    def alive(self, name: str) -> bool:
        return self.processes[name].poll() is None

    def restart(self, name: str) -> None:
        self.kill(name)
        self._spawn(name)

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        process = self.processes[name]
        if process.poll() is None:
            os.killpg(process.pid, sig)
            process.wait(30)

    def stop(self) -> None:
        for name in list(self.processes):
            process = self.processes[name]
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(10)

    def logs(self, chars: int = 3000) -> str:
        return "\n".join(
            f"--- {path.name}\n{path.read_text(errors='replace')[-chars:]}"
            for path in sorted(self.work_dir.glob("*.log"))
        )
