"""The chaos suite's own services: a private PostgreSQL cluster and a private Redis, started by
the suite itself (never the machine's shared server), which the tests stop, restart and crash.

- `PostgresCluster`: `initdb` into var/chaos/pg-<port>/ on a free port from 55432 up, run with
  PostgreSQL's own `pg_ctl`. PostgreSQL refuses to run as root, so as root the cluster runs as
  the `postgres` system user (the Debian package creates it). fsync is off: an immediate-mode
  restart kills the server, not the machine, and the kernel still has every page it wrote, so
  crash recovery replays the WAL as it would after a real crash. synchronous_commit stays on:
  with it off, a commit the client was told of could be lost in that crash.
- `RedisServer`: a `redis-server` on a free port from 56379 up, without persistence.

Fixtures (session scope): `pg_cluster` and `redis_server`. Both are left running between tests;
a test that stops one starts it again (`start()` is idempotent).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var" / "chaos"
PG_PORT_BASE = 55432
REDIS_PORT_BASE = 56379
PG_USER = "postgres"  # the superuser inside the cluster, and the system user it runs as (root)
STOP_TIMEOUT = 60  # seconds pg_ctl waits for a stop or a start (crash recovery included)


def pg_bindir() -> Path:
    """PostgreSQL's own binaries (not Debian's pg_ctlcluster wrappers): the newest installed."""
    explicit = os.environ.get("WASLA_CHAOS_PG_BINDIR")
    if explicit:
        return Path(explicit)
    versions = sorted(
        (p for p in Path("/usr/lib/postgresql").glob("*/bin") if (p / "initdb").exists()),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
    )
    if not versions:
        raise RuntimeError("no PostgreSQL server binaries under /usr/lib/postgresql/*/bin")
    return versions[-1]


def port_free(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def port_free_from(base: int, *, span: int = 200) -> int:
    for port in range(base, base + span):
        if port_free(port):
            return port
    raise RuntimeError(f"no free port in {base}..{base + span}")


def wait_for_port(port: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            sock.settimeout(0.5)
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return True
        time.sleep(0.05)
    return False


class PostgresCluster:
    """One private PostgreSQL cluster: initdb, start, stop, restart (any pg_ctl mode)."""

    def __init__(self, directory: Path, port: int) -> None:
        self.directory = directory
        self.data = directory / "data"
        self.logfile = directory / "postgres.log"
        self.port = port
        self.host = "127.0.0.1"
        self.bindir = pg_bindir()
        self.events: list[str] = []  # what was done to the cluster, in order (for the report)
        self._run_as = _unprivileged_user()

    # --- URLs --------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        """The superuser's URL to the `postgres` database."""
        return self.database_url("postgres")

    def database_url(self, name: str, *, user: str = PG_USER, password: str = "") -> str:
        credentials = f"{user}:{password}" if password else user
        return f"postgres://{credentials}@{self.host}:{self.port}/{name}"

    # --- life cycle ---------------------------------------------------------------------------
    def init(self) -> None:
        """A fresh cluster: whatever an earlier run left in the directory is removed."""
        if self.directory.exists():
            shutil.rmtree(self.directory)
        self.directory.mkdir(parents=True)
        self._chown(self.directory)
        self._pg(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            PG_USER,
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C.UTF-8",
            "--no-sync",
        )
        settings = {
            "listen_addresses": "'127.0.0.1'",
            "port": str(self.port),
            "unix_socket_directories": f"'{self.directory}'",
            "max_connections": "300",
            "fsync": "off",
            "full_page_writes": "off",
            "shared_buffers": "128MB",
            "log_min_messages": "warning",
            "log_line_prefix": "'%m [%p] %u@%d '",
        }
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write("\n# chaos/cluster.py\n")
            conf.writelines(f"{key} = {value}\n" for key, value in settings.items())
        self.events.append(f"initdb {self.data} port {self.port}")

    def start(self) -> None:
        if self.running():
            return
        self._pg("pg_ctl", "start", "-D", str(self.data), "-l", str(self.logfile), *self._wait())
        self.events.append("start")

    def stop(self, mode: str = "fast") -> None:
        if not self.running():
            return
        self._pg("pg_ctl", "stop", "-D", str(self.data), "-m", mode, *self._wait())
        self.events.append(f"stop -m {mode}")

    def restart(self, mode: str = "immediate") -> float:
        """Restart in `mode` (immediate: every backend killed at once, crash recovery on start);
        returns the seconds until the server accepted connections again."""
        began = time.monotonic()
        self._pg(
            "pg_ctl",
            "restart",
            "-D",
            str(self.data),
            "-m",
            mode,
            "-l",
            str(self.logfile),
            *self._wait(),
        )
        took = time.monotonic() - began
        self.events.append(f"restart -m {mode} ({took:.1f} s)")
        return took

    def running(self) -> bool:
        if not self.data.exists():
            return False
        result = subprocess.run(
            [str(self.bindir / "pg_ctl"), "status", "-D", str(self.data)],
            capture_output=True,
            check=False,
            **self._as_user(),
        )
        return result.returncode == 0

    def postmaster_pid(self) -> int | None:
        pidfile = self.data / "postmaster.pid"
        with contextlib.suppress(FileNotFoundError, ValueError, IndexError):
            return int(pidfile.read_text().split("\n", 1)[0])
        return None

    def psql(self, sql: str, *, database: str = "postgres") -> str:
        """Run SQL as the superuser; returns psql's unaligned output."""
        result = subprocess.run(
            [
                str(self.bindir / "psql"),
                "-X",
                "-q",
                "-A",
                "-t",
                "-v",
                "ON_ERROR_STOP=1",
                "-h",
                self.host,
                "-p",
                str(self.port),
                "-U",
                PG_USER,
                "-d",
                database,
                "-c",
                sql,
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"psql failed: {result.stderr.strip()}")
        return result.stdout.strip()

    def create_database(self, name: str) -> str:
        """A new, empty database (dropped first if there); returns its superuser URL."""
        self.psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.psql(f'CREATE DATABASE "{name}"')
        return self.database_url(name)

    def log_tail(self, chars: int = 4000) -> str:
        with contextlib.suppress(FileNotFoundError):
            return self.logfile.read_text(errors="replace")[-chars:]
        return ""

    def destroy(self) -> None:
        with contextlib.suppress(Exception):
            self.stop(mode="immediate")
        if not os.environ.get("WASLA_CHAOS_KEEP"):
            shutil.rmtree(self.directory, ignore_errors=True)

    # --- helpers ------------------------------------------------------------------------------
    def _wait(self) -> list[str]:
        return ["-w", "-t", str(STOP_TIMEOUT)]

    def _as_user(self) -> dict:
        if self._run_as is None:
            return {}
        return {"user": self._run_as.pw_uid, "group": self._run_as.pw_gid, "extra_groups": []}

    def _chown(self, path: Path) -> None:
        if self._run_as is not None:
            os.chown(path, self._run_as.pw_uid, self._run_as.pw_gid)

    def _pg(self, program: str, *args: str) -> None:
        result = subprocess.run(
            [str(self.bindir / program), *args],
            capture_output=True,
            text=True,
            check=False,
            cwd=self.directory,
            **self._as_user(),
        )
        if result.returncode != 0:
            raise RuntimeError(
                f"{program} {' '.join(args)} failed ({result.returncode}):\n"
                f"{result.stdout}{result.stderr}\n{self.log_tail()}"
            )


def _unprivileged_user() -> pwd.struct_passwd | None:
    """Who the cluster runs as: ourselves, unless we are root (PostgreSQL refuses that)."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(os.environ.get("WASLA_CHAOS_PG_OS_USER", "postgres"))
    except KeyError as exc:
        raise RuntimeError(
            "running as root and no 'postgres' system user to run the private cluster as"
        ) from exc


class RedisServer:
    """A private redis-server without persistence; stop() and start() keep its port."""

    def __init__(self, directory: Path, port: int) -> None:
        self.directory = directory
        self.port = port
        self.logfile = directory / "redis.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.events: list[str] = []

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def cache_url(self, db: int = 1) -> str:
        return f"rediscache://127.0.0.1:{self.port}/{db}"

    def start(self) -> None:
        if self.running():
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        log = self.logfile.open("ab")
        self.process = subprocess.Popen(
            [
                shutil.which("redis-server") or "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.directory),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        if not wait_for_port(self.port, 20):
            raise RuntimeError(f"redis-server did not listen on {self.port}")
        self.events.append("start")

    def stop(self) -> None:
        """SIGTERM (no snapshot is configured, so it exits at once) and wait."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)
        self.events.append("stop")

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def destroy(self) -> None:
        self.stop()
        if not os.environ.get("WASLA_CHAOS_KEEP"):
            shutil.rmtree(self.directory, ignore_errors=True)


def _reachable_by(directory: Path, user: pwd.struct_passwd | None) -> bool:
    """Whether `user` can write in `directory` (every parent traversable)."""
    if user is None:
        return True
    result = subprocess.run(
        ["test", "-w", str(directory)],
        user=user.pw_uid,
        group=user.pw_gid,
        extra_groups=[],
        check=False,
    )
    return result.returncode == 0


def cluster_start(root: Path = VAR) -> PostgresCluster:
    port = port_free_from(PG_PORT_BASE)
    root.mkdir(parents=True, exist_ok=True)
    run_as = _unprivileged_user()
    if run_as is not None:
        # var/chaos must be reachable by the user the cluster runs as; a checkout under a
        # private directory (0700 parents) is not, and then a directory in /tmp is used.
        os.chown(root, run_as.pw_uid, run_as.pw_gid)
        if not _reachable_by(root, run_as):
            root = Path(tempfile.mkdtemp(prefix="wasla-chaos-"))
            os.chown(root, run_as.pw_uid, run_as.pw_gid)
    cluster = PostgresCluster(root / f"pg-{port}", port)
    cluster.init()
    cluster.start()
    return cluster


def redis_start(root: Path = VAR) -> RedisServer:
    port = port_free_from(REDIS_PORT_BASE)
    server = RedisServer(root / f"redis-{port}", port)
    server.start()
    return server


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PostgresCluster]:
    """The suite's private PostgreSQL cluster (superuser `postgres`, trust on 127.0.0.1)."""
    cluster = cluster_start()
    try:
        yield cluster
    finally:
        cluster.destroy()


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """The suite's private Redis."""
    server = redis_start()
    try:
        yield server
    finally:
        server.destroy()
