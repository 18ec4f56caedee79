"""Production: every secret from the environment, no sandbox, HTTPS only."""

from .base import *  # noqa: F403
from .base import DATABASES, _database, env

DEBUG = False
WASLA_SANDBOX = False
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = 60 * 60 * 24 * 365
CONN_MAX_AGE = env.int("DJANGO_CONN_MAX_AGE", default=60)

# The application (DATABASE_URL) connects as the app role; migrations run as the owner of the
# tables: `manage.py migrate --database owner` with DATABASE_MIGRATE_URL (see README).
if env("DATABASE_MIGRATE_URL", default=""):
    DATABASES["owner"] = _database("DATABASE_MIGRATE_URL")
