"""Production: every secret from the environment, no sandbox, HTTPS only.

Served as deploy/ describes: nginx terminates TLS and forwards `X-Forwarded-Proto`, gunicorn
runs this module (deploy/gunicorn.conf.py), static files come from WhiteNoise in gunicorn, and
the application connects as the app role through pgbouncer in transaction mode (the tenant
scope and the platform role are transaction-local, see wasla/common/db/postgresql).
`manage.py check --deploy` reports nothing with these settings and the stack's environment
(wasla/common/tests/test_deploy_settings.py).
"""

from whitenoise.compress import Compressor

from .base import *  # noqa: F403
from .base import DATABASES, INSTALLED_APPS, STATIC_ROOT, _database, env

DEBUG = False
WASLA_SANDBOX = False
# Rotating DJANGO_SECRET_KEY: the previous key here keeps sessions and signed links valid.
SECRET_KEY_FALLBACKS = env.list("DJANGO_SECRET_KEY_FALLBACKS", default=[])

# --- HTTPS behind the proxy: nginx sets X-Forwarded-Proto (and only nginx reaches gunicorn).
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
# Probes that reach gunicorn directly (systemd, a load balancer's health check) are not
# redirected to HTTPS.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=True)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
LANGUAGE_COOKIE_SECURE = True
# Forms posted from another origin than the Host nginx forwards (e.g. an admin host name).
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

# --- Database: persistent connections to pgbouncer (cheap: pgbouncer holds the server side).
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DJANGO_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

# The application (DATABASE_URL) connects as the app role; migrations run as the owner of the
# tables: `manage.py migrate --database owner` with DATABASE_MIGRATE_URL (see README).
if env("DATABASE_MIGRATE_URL", default=""):
    DATABASES["owner"] = _database("DATABASE_MIGRATE_URL")

# --- Static files: collected (`manage.py collectstatic`) under content-hashed names, gzip and
# brotli copies beside them, served by WhiteNoise with a year of caching.
INSTALLED_APPS = [
    "config.staticfiles.StaticFilesConfig" if app == "django.contrib.staticfiles" else app
    for app in INSTALLED_APPS
]
STATIC_ROOT = env.path("DJANGO_STATIC_ROOT", default=str(STATIC_ROOT))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
# Source maps are fetched by developer tools only: hashed, not compressed (brotli at its best
# quality over their megabytes is most of collectstatic's time).
WHITENOISE_SKIP_COMPRESS_EXTENSIONS = [*Compressor.SKIP_COMPRESS_EXTENSIONS, "map"]
