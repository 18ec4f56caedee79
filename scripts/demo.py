"""Serve the demo: prepare the database (on PostgreSQL: the row-level security roles first),
migrate, start the dev server, wait until it answers, seed (printing the logins), then keep
serving until interrupted.

`--prepare-only` stops after the database is ready (roles and migrations); `--roles-only` after
the roles.
"""

import os
import subprocess
import sys
import time
import urllib.request
from urllib.parse import urlsplit

port = os.environ.get("PORT", "8000")
env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.demo"}
manage = [sys.executable, "manage.py"]


def roles_ready(database_url: str) -> None:
    """On PostgreSQL, the row-level security roles must exist before `migrate` (it grants to
    them). Created here when DATABASE_URL is a superuser; otherwise stop with what to run."""
    import psycopg

    app = os.environ.get("WASLA_DB_APP_ROLE", "wasla_app")
    platform = os.environ.get("WASLA_DB_PLATFORM_ROLE", "wasla_platform")
    url = urlsplit(database_url)._replace(scheme="postgresql").geturl()
    try:
        with psycopg.connect(url, connect_timeout=5) as conn:
            found = conn.execute(
                "SELECT count(*) FROM pg_roles WHERE rolname IN (%s, %s)", [app, platform]
            ).fetchone()
            row = conn.execute(
                "SELECT rolsuper FROM pg_roles WHERE rolname = current_user"
            ).fetchone()
            user = conn.info.user
    except psycopg.Error as error:
        sys.exit(f"cannot connect to DATABASE_URL ({url.split('@')[-1]}): {error}")
    if found and found[0] == 2:
        return
    if row and row[0]:
        print(f"creating the row-level security roles {app} and {platform}", flush=True)
        subprocess.run([*manage, "db_roles_setup"], env=env, check=True)
        return
    server = urlsplit(database_url)
    superuser_url = server._replace(netloc=f"postgres@{server.hostname}:{server.port or 5432}")
    sys.exit(
        f"The row-level security roles ({app}, {platform}) are missing and {user} is not a"
        " superuser, so it cannot create them. Create them once, as a superuser:\n\n"
        f"    DATABASE_URL={superuser_url.geturl()} make db-roles\n\n"
        "or in psql as a superuser:\n\n"
        f"    CREATE ROLE {platform} NOLOGIN BYPASSRLS;\n"
        f"    CREATE ROLE {app} LOGIN;\n"
        f"    GRANT {platform} TO {app};\n"
        f"    GRANT {platform} TO {user};  -- migrate hands the tenant lookups to it\n"
        f"    GRANT CREATE ON SCHEMA public TO {platform};  -- for migrate; revoke after\n\n"
        "then run `make demo` again."
    )


database_url = os.environ.get("DATABASE_URL", "")
if database_url.startswith(("postgres://", "postgresql://", "pgsql://")):
    roles_ready(database_url)
if "--roles-only" in sys.argv:
    sys.exit(0)
os.makedirs("var", exist_ok=True)
subprocess.run([*manage, "migrate", "--noinput"], env=env, check=True)
if "--prepare-only" in sys.argv:
    sys.exit(0)
server = subprocess.Popen([*manage, "runserver", f"127.0.0.1:{port}", "--noreload"], env=env)
sweeper: subprocess.Popen[bytes] | None = None
try:
    for _ in range(120):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2)
            break
        except OSError:
            if server.poll() is not None:
                sys.exit(f"the server stopped (exit {server.returncode})")
            time.sleep(0.5)
    subprocess.run([*manage, "seed_demo"], env=env, check=True)
    # No Celery beat in the demo: the staff dashboard's roll-ups are built once, here.
    subprocess.run([*manage, "dashboard_refresh"], env=env, check=True)
    # No Celery beat in the demo: re-drive parked webhooks (a refund that overtook its payment)
    # the way beat's sweeper does in production, inline since tasks are eager here.
    sweeper = subprocess.Popen([*manage, "webhooks_sweep", "--inline", "--interval", "30"], env=env)
    print(f"\nServing http://127.0.0.1:{port}/ — Ctrl-C to stop.", flush=True)
    server.wait()
except KeyboardInterrupt:
    pass
finally:
    for process in (sweeper, server):
        if process is not None:
            process.terminate()
            process.wait()
