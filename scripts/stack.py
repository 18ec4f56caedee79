"""The production stack on one machine: nginx (TLS) -> gunicorn -> pgbouncer -> PostgreSQL with
row-level security, a Celery worker and beat on Redis, and the provider simulators.

    python scripts/stack.py            # what `make serve` runs: foreground, Ctrl-C stops it

Used as a library by the fault-and-load suite and the stack tests:

    with Stack(database_url="postgres://postgres@127.0.0.1:5432/wasla_serve",
               redis_url="redis://127.0.0.1:6381", work_dir=Path("var/stack/x"),
               https_port=8443) as stack:
        stack.base_url                      # https://127.0.0.1:8443
        httpx.Client(verify=stack.ssl_context())  # trusts the self-signed certificate
        stack.processes["web"]              # Popen of each process (names: PROCESS_NAMES)
        stack.pids("web")                   # gunicorn master and its workers
        stack.kill("worker", signal.SIGKILL); stack.restart("worker")
        stack.manage("verify_ledger")       # manage.py with the stack's environment (`env`)

What `start()` does, in order:
1. secrets: the Django secret key, the Fernet key, the database passwords, the billing
   account's keys and the staff password, generated once into `<work_dir>/secrets.json` (0600)
   and reused, so a restart reads what the last run encrypted;
2. PostgreSQL, as the superuser of `database_url`: the owner role (`wasla_owner`: LOGIN,
   BYPASSRLS, a member of the platform role) and the database (owned by it) when missing, then
   the row-level security roles (`manage.py db_roles_setup`, idempotent);
3. `migrate` as the owner, straight to PostgreSQL (never through pgbouncer), which applies the
   policies and grants; `collectstatic` (hashed, compressed: WhiteNoise);
4. a self-signed certificate for 127.0.0.1/localhost (`cryptography`), the pgbouncer and nginx
   configurations rendered from deploy/ into the work dir;
5. the processes, each logging to `<work_dir>/logs/<name>.log`: pgbouncer (transaction mode,
   the app role's userlist), the simulators, gunicorn (`config.settings.production`, as the
   app role through pgbouncer), the Celery worker and beat, nginx (not daemonised; its pid,
   logs and temp paths in the work dir);
6. waits until `https://127.0.0.1:<https_port>/readyz` answers 200 (database and cache).

The provider simulators (sandbox/: Tap, Stripe, PayPal, ZATCA) are their own process,
"sandbox": a second gunicorn with `config.settings.stack_sandbox` (production plus the sandbox
apps; see that module) on a loopback port. The product keeps `config.settings.production`
(WASLA_SANDBOX off) and reaches the simulators by their base URLs (WASLA_TAP_SANDBOX_URL, ...),
as it would reach the real providers; nginx forwards `/sandbox/` to them too, so the fault knobs
answer at `<base_url>/sandbox/tap/_control/` (sandbox/faults.py). A suite can kill or restart
"sandbox" like any other process (a provider outage), or set its knobs (5xx, timeouts).
`extra_env` reaches every process; its DJANGO_SETTINGS_MODULE (e.g. production plus fault hooks)
replaces the product's in web, worker, beat and `manage()`; the simulators keep theirs
(`sandbox_settings`). Migrations run with `sandbox_settings` (a superset of the product's apps),
so the simulators' tables exist too.

Roles are cluster-wide: each start sets the owner's and the app role's passwords to this work
dir's. Stacks that share a cluster whose pg_hba.conf asks for passwords must share a work dir
(on a trust cluster, as the local one and the test suite's, it does not matter).

Redis: the cache is database 1 and the broker database 2 of `redis_url` (or n and n+1 when the
URL names a database n). The stack never starts or stops Redis or PostgreSQL: the caller owns
them. Running as root (containers, CI), pgbouncer and nginx's workers drop to `nobody`.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import ipaddress
import json
import os
import pwd
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote, urlsplit

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
PROCESS_NAMES = ("pgbouncer", "sandbox", "web", "worker", "beat", "nginx")
PRODUCT_SETTINGS = "config.settings.production"
SANDBOX_SETTINGS = "config.settings.stack_sandbox"
OWNER_ROLE = "wasla_owner"
APP_ROLE = "wasla_app"
PLATFORM_ROLE = "wasla_platform"
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/wasla_serve"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379"
# Wasla's seller profile on the demo invoices: sample public business data (as config/settings/
# demo.py has it), not secrets.
SELLER = {
    "WASLA_SELLER_LEGAL_NAME_AR": "شركة وصلة للمدفوعات",
    "WASLA_SELLER_LEGAL_NAME_EN": "Wasla Payments Co.",
    "WASLA_SELLER_VAT_NUMBER": "300000000000003",
    "WASLA_SELLER_CR_NUMBER": "1010000000",
    "WASLA_SELLER_BUILDING_NUMBER": "1234",
    "WASLA_SELLER_STREET": "King Fahd Road",
    "WASLA_SELLER_DISTRICT": "Al Olaya",
    "WASLA_SELLER_CITY": "Riyadh",
    "WASLA_SELLER_POSTAL_CODE": "12211",
    "WASLA_SELLER_IBAN": "SA0380000000608010167519",
}
# Taken from the caller's environment when set; everything else the processes read is stated.
PASSED_THROUGH: tuple[str, ...] = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "WASLA_SHARED_DIR")
PASSED_THROUGH += ("WASLA_ZATCA_RULES_DIR", "SANDBOX_ZATCA_RULES_DIR")


class StackError(RuntimeError):
    """The stack could not be brought up (the message names the process and its log's tail)."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def render(template: Path, values: dict[str, str]) -> str:
    """A deploy/ template with each @@NAME@@ replaced; an unknown name is an error."""
    text = template.read_text()
    for name, value in values.items():
        text = text.replace(f"@@{name}@@", value)
    if "@@" in text.replace("@@NAME@@", ""):
        left = text[text.index("@@") :][:40]
        raise StackError(f"{template.name}: placeholder left unrendered near {left!r}")
    return text


def self_signed_certificate(cert: Path, key: Path) -> None:
    """A self-signed certificate for 127.0.0.1 and localhost (ECDSA P-256, one year)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    private = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(private.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=365))
        .add_extension(
            x509.SubjectAlternativeName(
                [
                    x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                    x509.DNSName("localhost"),
                ]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(private, hashes.SHA256())
    )
    key.write_bytes(
        private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key.chmod(0o600)
    cert.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))


def _db_url(user: str, password: str, host: str, port: int, name: str) -> str:
    credentials = quote(user, safe="") + (":" + quote(password, safe="") if password else "")
    return f"postgres://{credentials}@{host}:{port}/{quote(name, safe='')}"


def _redis_urls(redis_url: str) -> tuple[str, str]:
    parts = urlsplit(redis_url)
    db = int(parts.path.strip("/") or 1)
    base = parts._replace(path="", query="", fragment="").geturl()
    return base.replace("redis://", "rediscache://", 1) + f"/{db}", f"{base}/{db + 1}"


class Stack:
    """The local production stack; a context manager (`start()` on enter, `stop()` on exit)."""

    def __init__(
        self,
        *,
        database_url: str = DEFAULT_DATABASE_URL,
        redis_url: str = DEFAULT_REDIS_URL,
        work_dir: Path | str = ROOT / "var" / "stack" / "serve",
        https_port: int = 8443,
        workers: int | None = None,
        extra_env: dict[str, str] | None = None,
        sandbox_settings: str = SANDBOX_SETTINGS,
        pool_size: int = 20,
        static_root: Path | str | None = None,
        worker_concurrency: int = 2,
        ready_timeout: float = 120.0,
        log: IO[str] | None = None,
    ) -> None:
        server = urlsplit(database_url)
        if server.scheme not in ("postgres", "postgresql", "pgsql"):
            raise StackError("database_url must be a PostgreSQL URL (a superuser on the server)")
        self.db_host = server.hostname or "127.0.0.1"
        self.db_port = server.port or 5432
        self.db_name = server.path.strip("/") or "wasla_serve"
        self.superuser_url = database_url
        self.redis_url = redis_url
        self.work_dir = Path(work_dir).resolve()
        self.https_port = https_port
        self.workers = workers or os.cpu_count() or 1
        self.extra_env = dict(extra_env or {})
        self.sandbox_settings = sandbox_settings
        self.pool_size = pool_size
        # Shared by every stack by default: collected once, reused while nothing changed.
        self.static_root = Path(static_root or ROOT / "var" / "stack" / "static").resolve()
        self.worker_concurrency = worker_concurrency
        self.ready_timeout = ready_timeout
        self.log = log or sys.stderr
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self._commands: dict[str, tuple[list[str], dict[str, str]]] = {}
        self._log_files: dict[str, IO[bytes]] = {}
        self.http_port = free_port()
        self.web_port = free_port()
        self.sandbox_port = free_port()
        self.pgbouncer_port = free_port()
        self.secrets: dict[str, str] = {}
        self._fresh_secrets = False
        self.env: dict[str, str] = {}
        self.sandbox_env: dict[str, str] = {}

    # --- public interface -----------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"https://127.0.0.1:{self.https_port}"

    @property
    def sandbox_url(self) -> str:
        """The simulators' own loopback base (plain HTTP), where the product calls them."""
        return f"http://127.0.0.1:{self.sandbox_port}"

    @property
    def certificate(self) -> Path:
        """The self-signed certificate nginx serves (pass it as `verify=` to an HTTP client)."""
        return self.work_dir / "tls" / "cert.pem"

    def ssl_context(self) -> ssl.SSLContext:
        """A client TLS context that trusts the stack's certificate (httpx: `verify=`)."""
        return ssl.create_default_context(cafile=str(self.certificate))

    @property
    def owner_url(self) -> str:
        """The owner of the tables, straight to PostgreSQL (migrations, backups)."""
        return _db_url(
            OWNER_ROLE, self.secrets["owner_password"], self.db_host, self.db_port, self.db_name
        )

    @property
    def app_url(self) -> str:
        """The app role through pgbouncer: what the product connects as."""
        return _db_url(
            APP_ROLE, self.secrets["app_password"], "127.0.0.1", self.pgbouncer_port, self.db_name
        )

    def __enter__(self) -> Stack:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        for sub in ("logs", "run", "tls", "pgbouncer", "nginx/tmp"):
            (self.work_dir / sub).mkdir(parents=True, exist_ok=True)
        self.static_root.mkdir(parents=True, exist_ok=True)
        self._secrets_load()
        self._environments()
        self._database_prepare()
        self._say("migrating as the owner and collecting static files")
        self._migrate()
        if self._fresh_secrets and not self.database_empty():
            # Its gateway secrets and ZATCA key were encrypted with a key this work dir lost.
            (self.work_dir / "secrets.json").unlink()
            raise StackError(
                f"{self.db_name} holds data but {self.work_dir}/secrets.json was just created:"
                " the data's encryption key is not there. Put back the secrets.json of the run"
                " that created it, or use an empty database."
            )
        self._collectstatic()
        self._tls()
        self._pgbouncer_config()
        self._nginx_config()
        for name in PROCESS_NAMES:
            self._spawn(name)
            self._wait_started(name)
        self._wait_ready()
        self._say(f"ready at {self.base_url}/")

    def stop(self) -> None:
        for name in reversed(PROCESS_NAMES):
            self._terminate(name)
        for handle in self._log_files.values():
            handle.close()
        self._log_files.clear()

    def pids(self, name: str) -> list[int]:
        """The process's pid, then its descendants' (gunicorn's workers, Celery's pool)."""
        process = self.processes.get(name)
        if process is None or process.poll() is not None:
            return []
        children: dict[int, list[int]] = {}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(entry.name))
        found, queue = [process.pid], [process.pid]
        while queue:
            for child in sorted(children.get(queue.pop(0), [])):
                found.append(child)
                queue.append(child)
        return found

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        """Send `sig` to the process (its master: gunicorn, Celery, nginx, pgbouncer)."""
        process = self.processes[name]
        if process.poll() is None:
            os.kill(process.pid, sig)

    def restart(self, name: str) -> None:
        """Stop the process (SIGTERM, then SIGKILL) and start it again the same way."""
        self._terminate(name)
        self._spawn(name)
        self._wait_started(name)

    def manage(self, *args: str, sandbox: bool = False, check: bool = True) -> str:
        """`manage.py <args>` with the product's environment (or the simulators'); stdout."""
        env = self.sandbox_env if sandbox else self.env
        return self._run(["manage.py", *args], env, check=check)

    def seed_demo(self) -> dict[str, Any]:
        """`seed_demo --json` (demo tenants, gateways connected at the simulators, tokens)."""
        # The simulators' settings only for the staff password it sets; the product's database
        # path (the app role through pgbouncer), as any other command of the product.
        env = {**self.sandbox_env, "DATABASE_URL": self.app_url}
        out = self._run(["manage.py", "seed_demo", "--json"], env)
        return dict(json.loads(out))

    def database_empty(self) -> bool:
        import psycopg

        with psycopg.connect(self.owner_url) as conn:
            row = conn.execute("SELECT count(*) FROM tenants_tenant").fetchone()
        return not row or row[0] == 0

    # --- set-up ---------------------------------------------------------------------------

    def _say(self, message: str) -> None:
        print(f"[stack] {message}", file=self.log, flush=True)

    def _secrets_load(self) -> None:
        from cryptography.fernet import Fernet

        path = self.work_dir / "secrets.json"
        stored: dict[str, str] = {}
        if path.exists():
            stored = json.loads(path.read_text())
        self._fresh_secrets = "encryption_key" not in stored
        wanted = {
            "django_secret_key": lambda: secrets.token_urlsafe(50),
            "encryption_key": lambda: Fernet.generate_key().decode(),
            "owner_password": lambda: secrets.token_hex(16),
            "app_password": lambda: secrets.token_hex(16),
            "staff_password": lambda: secrets.token_urlsafe(12),
            "billing_secret_key": lambda: "sk_test_51Wasla" + secrets.token_hex(16),
            "billing_webhook_secret": lambda: "whsec_" + secrets.token_hex(16),
        }
        for key, make in wanted.items():
            stored.setdefault(key, make())
        path.write_text(json.dumps(stored, indent=2))
        path.chmod(0o600)
        self.secrets = stored

    def _environments(self) -> None:
        cache_url, broker_url = _redis_urls(self.redis_url)
        base = {k: os.environ[k] for k in PASSED_THROUGH if k in os.environ}
        sandbox = self.sandbox_url + "/sandbox"
        common = {
            **base,
            **SELLER,
            "PYTHONUNBUFFERED": "1",
            "DJANGO_SECRET_KEY": self.secrets["django_secret_key"],
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DJANGO_STATIC_ROOT": str(self.static_root),
            "DATABASE_URL": self.app_url,
            "WASLA_DB_APP_PASSWORD": self.secrets["app_password"],
            "CACHE_URL": cache_url,
            "CELERY_BROKER_URL": broker_url,
            "WASLA_ENCRYPTION_KEYS": self.secrets["encryption_key"],
            "WASLA_PUBLIC_BASE_URL": self.base_url,
            # The gateways' "sandbox" mode and Wasla's billing and ZATCA accounts point at the
            # simulators, as they would point at the providers' test environments.
            "WASLA_TAP_SANDBOX_URL": f"{sandbox}/tap",
            "WASLA_STRIPE_SANDBOX_URL": f"{sandbox}/stripe",
            "WASLA_PAYPAL_SANDBOX_URL": f"{sandbox}/paypal",
            "WASLA_PAYPAL_CERT_HOSTS": "*.paypal.com,127.0.0.1,localhost",
            "WASLA_BILLING_STRIPE_API_BASE": f"{sandbox}/stripe",
            "WASLA_BILLING_STRIPE_SECRET_KEY": self.secrets["billing_secret_key"],
            "WASLA_BILLING_STRIPE_WEBHOOK_SECRET": self.secrets["billing_webhook_secret"],
            "WASLA_ZATCA_ENVIRONMENT": "sandbox",
            "WASLA_ZATCA_BASE_URL": f"{sandbox}/zatca/e-invoicing/developer-portal",
            # The demo's invoices are collected at once when seeded (try 1 on day 0).
            "WASLA_COLLECTION_SCHEDULE_DAYS": "0,1,3",
            "WASLA_DEMO_STAFF_PASSWORD": self.secrets["staff_password"],
            "LOG_LEVEL": "INFO",
        }
        self.env = {**common, "DJANGO_SETTINGS_MODULE": PRODUCT_SETTINGS, **self.extra_env}
        self.sandbox_env = {
            **common,
            **self.extra_env,
            "DJANGO_SETTINGS_MODULE": self.sandbox_settings,
            # Straight to PostgreSQL: the simulators are not the product and do not share its
            # pool (a suite that stops pgbouncer still has its providers).
            "DATABASE_URL": _db_url(
                APP_ROLE, self.secrets["app_password"], self.db_host, self.db_port, self.db_name
            ),
            "WASLA_SANDBOX_BASE_URL": self.sandbox_url,
            "WASLA_STACK_TRUST_BUNDLE": str(self.work_dir / "tls" / "trust-bundle.pem"),
        }

    def _database_prepare(self) -> None:
        """Owner role and database when missing, then the RLS roles (as the superuser)."""
        import psycopg
        from psycopg import sql

        server = urlsplit(self.superuser_url)._replace(path="/postgres").geturl()
        with psycopg.connect(server, autocommit=True) as conn:
            superuser = conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
            row = superuser.fetchone()
            if not row or not row[0]:
                raise StackError(
                    "database_url must be a superuser (it creates the roles and the database)"
                )
            exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [OWNER_ROLE])
            verb = "ALTER" if exists.fetchone() else "CREATE"
            conn.execute(
                sql.SQL("{} ROLE {} LOGIN BYPASSRLS NOSUPERUSER PASSWORD {}").format(
                    sql.SQL(verb),
                    sql.Identifier(OWNER_ROLE),
                    sql.Literal(self.secrets["owner_password"]),
                )
            )
            if not conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", [self.db_name]
            ).fetchone():
                self._say(f"creating database {self.db_name} owned by {OWNER_ROLE}")
                conn.execute(
                    sql.SQL("CREATE DATABASE {} OWNER {}").format(
                        sql.Identifier(self.db_name), sql.Identifier(OWNER_ROLE)
                    )
                )
        superuser_db = urlsplit(self.superuser_url)._replace(path=f"/{self.db_name}").geturl()
        self._run(
            ["manage.py", "db_roles_setup"],
            {**self.sandbox_env, "DATABASE_URL": superuser_db},
        )
        with psycopg.connect(superuser_db, autocommit=True) as conn:
            # The owner hands the SECURITY DEFINER lookups to the platform role (README).
            conn.execute(
                sql.SQL("GRANT {} TO {}").format(
                    sql.Identifier(PLATFORM_ROLE), sql.Identifier(OWNER_ROLE)
                )
            )

    def _migrate(self) -> None:
        """`migrate` as the owner. Its last step hands the SECURITY DEFINER lookups to the
        platform role, which PostgreSQL allows only to a role with CREATE on the schema: the
        superuser grants it for the run and takes it back (the app role inherits the platform
        role's privileges, and must not keep DDL on the schema)."""
        import psycopg

        superuser_db = urlsplit(self.superuser_url)._replace(path=f"/{self.db_name}").geturl()
        with psycopg.connect(superuser_db, autocommit=True) as conn:
            conn.execute(f'GRANT CREATE ON SCHEMA public TO "{PLATFORM_ROLE}"')
            try:
                self._run(
                    ["manage.py", "migrate", "--noinput", "-v", "0"],
                    {**self.sandbox_env, "DATABASE_URL": self.owner_url},
                )
            finally:
                conn.execute(f'REVOKE CREATE ON SCHEMA public FROM "{PLATFORM_ROLE}"')

    def _collectstatic(self) -> None:
        """`collectstatic` into `static_root`, skipped when no static source file changed since
        the last run there (compressing ~1000 files with brotli and gzip takes minutes)."""
        stamp = self.static_root / ".collected"
        fingerprint = _static_fingerprint()
        if stamp.exists() and stamp.read_text() == fingerprint:
            return
        self._run(["manage.py", "collectstatic", "--noinput", "-v", "0"], self.env)
        stamp.write_text(fingerprint)

    def _tls(self) -> None:
        tls = self.work_dir / "tls"
        cert, key = tls / "cert.pem", tls / "key.pem"
        if not (cert.exists() and key.exists()):
            self_signed_certificate(cert, key)
        import certifi

        # What the simulators trust: the public roots and this stack's certificate.
        bundle = Path(certifi.where()).read_text() + "\n" + cert.read_text()
        (tls / "trust-bundle.pem").write_text(bundle)

    def _pgbouncer_config(self) -> None:
        pgbouncer_configure(
            self.work_dir / "pgbouncer",
            listen_port=self.pgbouncer_port,
            db_host=self.db_host,
            db_port=self.db_port,
            db_name=self.db_name,
            pool_size=self.pool_size,
            users={APP_ROLE: self.secrets["app_password"]},
        )

    def _nginx_config(self) -> None:
        directory = self.work_dir / "nginx"
        site = render(
            DEPLOY / "nginx-site.conf",
            {
                "SERVER_NAME": "127.0.0.1 localhost",
                "HTTPS_PORT": str(self.https_port),
                "HTTP_PORT": f"127.0.0.1:{self.http_port}",
                "CERTIFICATE": str(self.certificate),
                "CERTIFICATE_KEY": str(self.work_dir / "tls" / "key.pem"),
                "UPSTREAM": f"127.0.0.1:{self.web_port}",
                "MAX_BODY": str(self._max_body()),
                "SANDBOX_LOCATION": (
                    "    # The local stack only: the provider simulators' pages and knobs.\n"
                    "    location /sandbox/ {\n"
                    f"        proxy_pass http://127.0.0.1:{self.sandbox_port};\n"
                    "    }"
                ),
            },
        )
        # The https listener on loopback only.
        site = site.replace(
            f"listen {self.https_port} ssl", f"listen 127.0.0.1:{self.https_port} ssl"
        )
        (directory / "site.conf").write_text(site)
        tmp = directory / "tmp"
        user = unprivileged_user()
        user_line = ""
        if user is not None:
            user_line = f"user {user.pw_name} {_group_name(user.pw_gid)};\n"
            os.chown(tmp, user.pw_uid, user.pw_gid)
        (directory / "nginx.conf").write_text(
            f"{user_line}"
            "worker_processes 1;\n"
            f"pid {directory}/nginx.pid;\n"
            f"error_log {self.work_dir}/logs/nginx-error.log warn;\n"
            "events { worker_connections 1024; }\n"
            "http {\n"
            "    include /etc/nginx/mime.types;\n"
            "    default_type application/octet-stream;\n"
            f"    access_log {self.work_dir}/logs/nginx-access.log;\n"
            f"    client_body_temp_path {tmp}/body;\n"
            f"    proxy_temp_path {tmp}/proxy;\n"
            f"    fastcgi_temp_path {tmp}/fastcgi;\n"
            f"    uwsgi_temp_path {tmp}/uwsgi;\n"
            f"    scgi_temp_path {tmp}/scgi;\n"
            "    server_tokens off;\n"
            f"    include {directory}/site.conf;\n"
            "}\n"
        )

    def _max_body(self) -> int:
        return int(self.env.get("WASLA_MAX_BODY_BYTES") or 256 * 1024)

    # --- processes ------------------------------------------------------------------------

    def _command(self, name: str) -> tuple[list[str], dict[str, str]]:
        venv_bin = Path(sys.executable).parent
        gunicorn = [str(venv_bin / "gunicorn"), "-c", str(DEPLOY / "gunicorn.conf.py")]
        celery = [str(venv_bin / "celery"), "-A", "config"]
        run = self.work_dir / "run"
        if name == "pgbouncer":
            return pgbouncer_command(self.work_dir / "pgbouncer" / "pgbouncer.ini"), self.env
        if name == "sandbox":
            env = {
                **self.sandbox_env,
                "GUNICORN_BIND": f"127.0.0.1:{self.sandbox_port}",
                "GUNICORN_WORKERS": "2",
                # Simulated timeouts sleep in a request: threads keep the others answering.
                "GUNICORN_THREADS": "8",
                "GUNICORN_PROC_NAME": "wasla-sandbox",
                "GUNICORN_PIDFILE": str(run / "sandbox.pid"),
                "GUNICORN_CONTROL_SOCKET": str(run / "sandbox.ctl"),
            }
            return [*gunicorn, "config.wsgi"], env
        if name == "web":
            env = {
                **self.env,
                "GUNICORN_BIND": f"127.0.0.1:{self.web_port}",
                "GUNICORN_WORKERS": str(self.workers),
                "GUNICORN_PIDFILE": str(run / "web.pid"),
                "GUNICORN_CONTROL_SOCKET": str(run / "web.ctl"),
            }
            return [*gunicorn, "config.wsgi"], env
        if name == "worker":
            return [
                *celery,
                "worker",
                "--loglevel=INFO",
                f"--concurrency={self.worker_concurrency}",
                f"--hostname=stack-{self.https_port}@%h",
                "--without-mingle",
                "--without-gossip",
            ], self.env
        if name == "beat":
            return [
                *celery,
                "beat",
                "--loglevel=INFO",
                f"--schedule={run / 'celerybeat-schedule'}",
            ], self.env
        if name == "nginx":
            directory = self.work_dir / "nginx"
            return [
                _binary("nginx"),
                "-p",
                str(directory),
                "-c",
                str(directory / "nginx.conf"),
                "-e",
                str(self.work_dir / "logs" / "nginx-error.log"),
                "-g",
                "daemon off;",
            ], self.env
        raise KeyError(name)

    def _spawn(self, name: str) -> None:
        command, env = self._command(name)
        handle = self._log_files.get(name)
        if handle is None or handle.closed:
            handle = open(self.work_dir / "logs" / f"{name}.log", "ab")  # noqa: SIM115
            self._log_files[name] = handle
        self.processes[name] = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C in the terminal reaches us, not them
        )

    def _terminate(self, name: str) -> None:
        process = self.processes.get(name)
        if process is None or process.poll() is not None:
            return
        # nginx: SIGQUIT is its graceful stop; the others stop gracefully on SIGTERM.
        process.send_signal(signal.SIGQUIT if name == "nginx" else signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)

    def _wait_started(self, name: str) -> None:
        """Until the process listens (or, for Celery, stays up a moment)."""
        ports = {
            "pgbouncer": self.pgbouncer_port,
            "sandbox": self.sandbox_port,
            "web": self.web_port,
            "nginx": self.https_port,
        }
        deadline = time.monotonic() + self.ready_timeout
        while time.monotonic() < deadline:
            self._check_alive(name)
            if name not in ports:
                time.sleep(0.5)
                self._check_alive(name)
                return
            with socket.socket() as sock:
                sock.settimeout(1)
                if sock.connect_ex(("127.0.0.1", ports[name])) == 0:
                    return
            time.sleep(0.2)
        raise StackError(
            f"{name} did not listen within {self.ready_timeout:.0f} s{self._tail(name)}"
        )

    def _check_alive(self, name: str) -> None:
        process = self.processes[name]
        if process.poll() is not None:
            raise StackError(f"{name} exited with {process.returncode}{self._tail(name)}")

    def _wait_ready(self) -> None:
        context = self.ssl_context()
        deadline = time.monotonic() + self.ready_timeout
        last = ""
        while time.monotonic() < deadline:
            for name in PROCESS_NAMES:
                self._check_alive(name)
            try:
                with urllib.request.urlopen(  # noqa: S310 (our own https URL)
                    f"{self.base_url}/readyz", timeout=5, context=context
                ) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError) as error:
                last = str(error)
            time.sleep(0.5)
        raise StackError(f"{self.base_url}/readyz did not answer 200: {last}{self._tail('web')}")

    def _tail(self, name: str, lines: int = 30) -> str:
        path = self.work_dir / "logs" / f"{name}.log"
        try:
            text = path.read_text(errors="replace").splitlines()[-lines:]
        except OSError:
            return ""
        return f"\n--- last lines of {path} ---\n" + "\n".join(text)

    def _run(self, args: list[str], env: dict[str, str], *, check: bool = True) -> str:
        command = [sys.executable, *args]
        result = subprocess.run(
            command, cwd=ROOT, env=env, capture_output=True, text=True, check=False
        )
        if check and result.returncode != 0:
            raise StackError(
                f"{' '.join(args)} failed ({result.returncode}):\n{result.stdout}{result.stderr}"
            )
        return result.stdout


def _static_fingerprint() -> str:
    """A digest of every static source file (name, size, mtime): the project's and those of
    the installed packages (Django's admin, DRF, the Swagger UI)."""
    import hashlib
    import sysconfig

    digest = hashlib.sha256()
    # How they are collected (storage, compression, ignored files) counts too.
    for settings_file in ("config/settings/production.py", "config/staticfiles.py"):
        digest.update((ROOT / settings_file).read_bytes())
    roots = [ROOT / "wasla", ROOT / "sandbox", Path(sysconfig.get_paths()["purelib"])]
    for root in roots:
        for directory, subdirs, files in os.walk(root):
            subdirs.sort()
            if "/static" not in directory.replace(os.sep, "/") + "/":
                continue
            for name in sorted(files):
                path = Path(directory) / name
                info = path.stat()
                digest.update(f"{path}:{info.st_size}:{info.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def unprivileged_user() -> pwd.struct_passwd | None:
    """Who pgbouncer and nginx's workers run as when we are root (pgbouncer refuses root)."""
    if os.geteuid() != 0:
        return None
    return pwd.getpwnam("nobody")


def pgbouncer_configure(
    directory: Path,
    *,
    listen_port: int,
    db_host: str,
    db_port: int,
    db_name: str,
    pool_size: int,
    users: dict[str, str],
) -> Path:
    """deploy/pgbouncer.ini rendered into `directory` with its userlist; the ini's path."""
    directory.mkdir(parents=True, exist_ok=True)
    ini = directory / "pgbouncer.ini"
    ini.write_text(
        render(
            DEPLOY / "pgbouncer.ini",
            {
                "LISTEN_PORT": str(listen_port),
                "DB_HOST": db_host,
                "DB_PORT": str(db_port),
                "DB_NAME": db_name,
                "AUTH_FILE": str(directory / "userlist.txt"),
                "RUN_DIR": str(directory),
                "LOG_FILE": str(directory / "pgbouncer.log"),
                "POOL_SIZE": str(pool_size),
            },
        )
    )
    userlist = directory / "userlist.txt"
    userlist.write_text("".join(f'"{user}" "{password}"\n' for user, password in users.items()))
    userlist.chmod(0o600)
    user = unprivileged_user()
    if user is not None:
        for path in (directory, *directory.iterdir()):
            os.chown(path, user.pw_uid, user.pw_gid)
    return ini


def pgbouncer_command(ini: Path) -> list[str]:
    """pgbouncer in the foreground on `ini` (as `nobody` when we are root)."""
    user = unprivileged_user()
    return [_binary("pgbouncer"), *(["-u", user.pw_name] if user else []), str(ini)]


def _binary(name: str) -> str:
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")
    if found is None:
        raise StackError(f"{name} is not installed: run `make stack-tools`")
    return found


def _group_name(gid: int) -> str:
    import grp

    return grp.getgrgid(gid).gr_name


@contextlib.contextmanager
def _interrupts_stop() -> Iterator[None]:
    """SIGTERM ends the foreground run like Ctrl-C does (also when started in the background,
    where the shell leaves SIGINT ignored)."""

    def _raise(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = {sig: signal.signal(sig, _raise) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _print_logins(stack: Stack, seeded: dict[str, Any]) -> None:
    print(f"\nWasla Payments at {stack.base_url}/ (self-signed certificate: {stack.certificate})")
    staff = seeded["staff"]
    print(f"Staff (/admin/, /dashboard/): {staff['username']} / {staff['password']}")
    logins = {m["tenant"]: m for m in seeded["merchant_users"]}
    for tenant in seeded["tenants"]:
        login = logins[tenant["slug"]]
        print(f"\n{tenant['name']}  store: {tenant['store_url']}")
        print(f"  Merchant portal: {login['login_url']}  {login['username']} / {login['password']}")
        print(f"  API token: {tenant['api_token']}")


def main() -> int:
    parser = argparse.ArgumentParser(description="Run the local production stack.")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL),
        help="a superuser on the PostgreSQL server, with the database name to use",
    )
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL", DEFAULT_REDIS_URL))
    parser.add_argument("--work-dir", default=str(ROOT / "var" / "stack" / "serve"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8443")))
    parser.add_argument("--workers", type=int, default=None, help="gunicorn workers (cores)")
    parser.add_argument(
        "--reseed", action="store_true", help="run seed_demo even when the database has data"
    )
    args = parser.parse_args()
    stack = Stack(
        database_url=args.database_url,
        redis_url=args.redis_url,
        work_dir=args.work_dir,
        https_port=args.port,
        workers=args.workers,
    )
    with _interrupts_stop():
        try:
            with stack:
                if args.reseed or stack.database_empty():
                    stack._say("seeding the demo tenants (seed_demo)")
                    _print_logins(stack, stack.seed_demo())
                else:
                    print(
                        f"\nWasla Payments at {stack.base_url}/ (data kept; `--reseed` prints"
                        " fresh logins and API tokens)"
                    )
                print(f"Logs: {stack.work_dir / 'logs'}/  Ctrl-C stops the stack.", flush=True)
                while all(p.poll() is None for p in stack.processes.values()):
                    time.sleep(1)
                dead = [n for n, p in stack.processes.items() if p.poll() is not None]
                print(f"stopped: {', '.join(dead)} exited (see its log)", file=sys.stderr)
                return 1
        except KeyboardInterrupt:
            return 0
        except StackError as error:
            print(f"[stack] {error}", file=sys.stderr)
            return 1


if __name__ == "__main__":
    sys.exit(main())
