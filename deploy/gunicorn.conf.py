"""gunicorn for the Wasla web process (`gunicorn -c deploy/gunicorn.conf.py config.wsgi`).

Why gunicorn: the application is synchronous Django (psycopg, httpx clients, row-level security
scoped per transaction), so a pre-fork server of sync workers fits it exactly; it is the
best-kept WSGI server for that (restarts dead workers, graceful reloads on HUP, max-requests
recycling) and needs no C build. One worker per core by default: each request is mostly
PostgreSQL and provider round trips, measured at about one core per worker (docs/operations.md).

Everything is overridable from the environment (the systemd unit's EnvironmentFile, or
scripts/stack.py): GUNICORN_BIND, GUNICORN_WORKERS, GUNICORN_THREADS, GUNICORN_TIMEOUT,
GUNICORN_MAX_REQUESTS, GUNICORN_PIDFILE, GUNICORN_ACCESS_LOG.
"""

import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS") or os.cpu_count() or 1)
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
worker_class = "gthread" if threads > 1 else "sync"
# A provider call may take WASLA_PROVIDER_TIMEOUTS read (20 s) plus retries; beyond this the
# worker is killed and restarted (the payment is then reconciled).
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
keepalive = 5
# Recycle workers now and then (slow leaks never add up), staggered so they do not all restart.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "5000"))
max_requests_jitter = max_requests // 10
pidfile = os.environ.get("GUNICORN_PIDFILE") or None
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
errorlog = "-"
# nginx is the only client: trust its X-Forwarded-* from loopback only.
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")
proc_name = os.environ.get("GUNICORN_PROC_NAME", "wasla-web")
# Request bodies are limited by nginx (client_max_body_size) and again by Django
# (WASLA_MAX_BODY_BYTES); header limits stay gunicorn's defaults.
# gunicorn's control socket (gunicornc; gunicorn >= 24): per process, never the shared default
# under $HOME, so two gunicorns on one host (web and the local stack's simulators) do not
# collide. Unset: disabled.
if os.environ.get("GUNICORN_CONTROL_SOCKET"):
    control_socket = os.environ["GUNICORN_CONTROL_SOCKET"]
else:
    control_socket_disable = True
