"""Settings shared by every environment; all configuration comes from the environment."""

import warnings
from datetime import timedelta
from pathlib import Path
from typing import Any

import environ
from django.core.exceptions import ImproperlyConfigured

from wasla.common.observability.logs import logging_config

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

SECRET_KEY = env("DJANGO_SECRET_KEY")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=[])

INSTALLED_APPS = [
    # The admin site asks staff for a TOTP code (wasla/common/admin_site.py): django.contrib.admin
    # with that site as its default.
    "wasla.common.admin_apps.StaffAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI and ReDoc as local static files: no CDN
    "django_fsm",
    "axes",  # brute-force lockout of every sign-in (see "Security" below)
    "django_otp",  # staff second factor: TOTP devices
    "django_otp.plugins.otp_totp",
    "csp",  # Content-Security-Policy (django-csp): the nonce in templates, the view decorators
    "wasla.common",
    "wasla.tenants",
    "wasla.orders",
    "wasla.payments",
    "wasla.settlement",
    "wasla.ledger",
    "wasla.invoicing",
    "wasla.invoicing.zatca",
    "wasla.reporting",  # CSV exports shared by the portal and the dashboard (catalog only)
    "wasla.api",
    "wasla.storefront",
    "wasla.portal",
    "wasla.dashboard",
    # Templates, tags and Arabic catalog of the invoice PDFs (no models).
    "wasla.invoicing.documents",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Content-Security-Policy, Permissions-Policy and X-Frame-Options on every response, the
    # early refusals of the middleware below included (see "Security headers" at the end).
    "csp.middleware.CSPMiddleware",
    "wasla.common.security_headers.PermissionsPolicyMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Static files from the WSGI server itself (production: collected, hashed, compressed).
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Observability: a request id for every log line of the request, echoed in X-Request-ID.
    "wasla.common.observability.middleware.RequestContextMiddleware",
    # Before anything looks a URL up: PostgreSQL cannot compare text with a NUL in it.
    "wasla.common.middleware.NulInUrlMiddleware",
    # Database unreachable in a view: 503 with Retry-After (see wasla/common/outage.py).
    "wasla.common.outage.DatabaseUnavailableMiddleware",
    "wasla.common.middleware.BodySizeLimitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # Arabic first: the visitor's pick (cookie) on pages, Accept-Language on the API.
    "wasla.common.i18n.LanguageMiddleware",
    # Rate limits per API token and per client IP: 429 with Retry-After (wasla/common/ratelimit.py).
    "wasla.common.ratelimit.RateLimitMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Staff sessions end after WASLA_STAFF_SESSION_SECONDS (wasla/common/staff_session.py).
    "wasla.common.staff_session.StaffSessionExpiryMiddleware",
    # request.user.is_verified(): signed in with a second factor (staff; wasla/common/staff_otp.py).
    "django_otp.middleware.OTPMiddleware",
    # Each request starts with no tenant scope; the API token, webhook URL, ... then set it.
    "wasla.tenants.middleware.RequestScopeMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Last, as django-axes asks: answers a locked-out sign-in with the lock-out page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        # The admin's frame with the language switch (admin/base_site.html): a directory searched
        # before the apps', because django.contrib.admin's own copy would win over any app's.
        "DIRS": [BASE_DIR / "wasla" / "common" / "admin_templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]


def _database(url_var: str) -> dict[str, Any]:
    """PostgreSQL goes through our backend, which applies the tenant scope (row-level security)."""
    database = env.db(url_var)
    if database["ENGINE"] == "django.db.backends.postgresql":
        database["ENGINE"] = "wasla.common.db.postgresql"
    database["ATOMIC_REQUESTS"] = False
    # A connection kept between requests or tasks (CONN_MAX_AGE) is checked before its first use
    # in each: one that PostgreSQL or a pooler dropped meanwhile is replaced, not handed to the
    # code to fail on (config/celery_django.py).
    if database.get("CONN_MAX_AGE"):
        database.setdefault("CONN_HEALTH_CHECKS", True)
    return database


DATABASES = {"default": _database("DATABASE_URL")}
# Row-level security (wasla/tenants/rls.py): the application connects as WASLA_DB_APP_ROLE,
# which owns no table and cannot bypass RLS; `platform_access` takes WASLA_DB_PLATFORM_ROLE
# (BYPASSRLS) for one transaction at a time.
WASLA_DB_APP_ROLE = env("WASLA_DB_APP_ROLE", default="wasla_app")
WASLA_DB_PLATFORM_ROLE = env("WASLA_DB_PLATFORM_ROLE", default="wasla_platform")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {
    "default": env.cache("CACHE_URL", default="locmemcache://wasla"),
}
# A Redis that hangs must not hang requests: the rate limits (and the circuits) fail open on a
# cache error, which needs the error to come. CACHE_URL's own ?socket_timeout=... wins.
if CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
    _cache_options = CACHES["default"].setdefault("OPTIONS", {})
    _cache_options.setdefault(
        "socket_connect_timeout", env.float("WASLA_CACHE_CONNECT_TIMEOUT", default=1.0)
    )
    _cache_options.setdefault(
        "socket_timeout", env.float("WASLA_CACHE_SOCKET_TIMEOUT", default=2.0)
    )

# --- Security: password hashing, brute-force lockout, rate limits, staff sessions (issue 13)
# Argon2id first (memory-hard); the others still verify older hashes, which Django upgrades to
# Argon2 at the next sign-in. Tests use MD5 for speed (config/settings/test.py).
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
# django-axes checks every authenticate() first: a locked-out username at that address is
# refused before any password is compared.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Five wrong passwords for one username from one address lock that pair out: the sixth try is
# refused even with the right password, for AXES_COOLOFF_TIME. The pair, not the username alone,
# so nobody can lock a merchant out from elsewhere; many usernames from one address run into the
# per-IP sign-in rate limit below. The attempts are kept in the database (axes' default handler),
# not Redis: a lock-out must survive a Redis restart or flush and cannot fail open when Redis is
# down, and the rows are the audit trail the admin shows (Axes → access attempts).
AXES_FAILURE_LIMIT = env.int("WASLA_LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(seconds=env.int("WASLA_LOGIN_COOLOFF_SECONDS", default=15 * 60))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_LOCKOUT_CALLABLE = "wasla.common.lockout.lockout_response"
AXES_CLIENT_IP_CALLABLE = "wasla.common.client_ip.client_ip"
AXES_VERBOSE = False
# Proxies in front of the application that append to X-Forwarded-For (a load balancer: 1).
# 0 trusts no header: the client is REMOTE_ADDR. Rate limits and lock-outs key on this address.
WASLA_TRUSTED_PROXY_COUNT = env.int("WASLA_TRUSTED_PROXY_COUNT", default=0)
# Rate limits (wasla/common/ratelimit.py), "count/period" with period s, m or h; counters in
# CACHES["default"] (Redis), so every worker shares them. Webhooks are per IP only, and
# generous: a provider delivers from a few addresses, in bursts after an outage on either side,
# and a refused delivery waits for the provider's retry schedule (minutes to hours), so the
# limit only guards against a flood, never paces a provider.
WASLA_RATE_LIMITS_ENABLED = env.bool("WASLA_RATE_LIMITS_ENABLED", default=True)
WASLA_RATE_LIMITS = {
    "api_token": env("WASLA_RATE_LIMIT_API_TOKEN", default="100/m"),
    "api_ip": env("WASLA_RATE_LIMIT_API_IP", default="600/m"),
    "webhook_ip": env("WASLA_RATE_LIMIT_WEBHOOK_IP", default="3000/m"),
    "login_ip": env("WASLA_RATE_LIMIT_LOGIN_IP", default="30/m"),
}
# A staff session ends when the browser closes, and at the latest this long after sign-in.
# Merchants keep Django's session (SESSION_COOKIE_AGE).
WASLA_STAFF_SESSION_SECONDS = env.int("WASLA_STAFF_SESSION_SECONDS", default=8 * 3600)
# The issuer an authenticator app shows next to a staff member's TOTP entry.
OTP_TOTP_ISSUER = "Wasla"
# --- end of security

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

# The merchant portal signs people in; staff use the admin's sign-in for the dashboard.
LOGIN_URL = "portal:login"
LOGIN_REDIRECT_URL = "portal:overview"
EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Wasla <no-reply@wasla.sa>")

# Arabic first, English beside it (wasla/common/i18n.py); the catalogs are each app's
# locale/ directory (found through the installed apps), compiled by `make messages`.
LANGUAGE_CODE = "ar"
LANGUAGES = [("ar", "العربية"), ("en", "English")]
FORMAT_MODULE_PATH = ["config.formats"]
LANGUAGE_COOKIE_NAME = "wasla_language"
LANGUAGE_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
TIME_ZONE = "Asia/Riyadh"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
# WhiteNoise (MIDDLEWARE) serves STATIC_ROOT once `collectstatic` filled it (production, the
# stack). The demo and the tests collect nothing (runserver and the live server find the apps'
# files themselves), where WhiteNoise would warn on every start that the directory is missing.
warnings.filterwarnings("ignore", message="No directory at: ", category=UserWarning)

# Request bodies above this size answer 413 before any view reads them.
WASLA_MAX_BODY_BYTES = env.int("WASLA_MAX_BODY_BYTES", default=256 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = WASLA_MAX_BODY_BYTES

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["wasla.tenants.auth.TenantTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["wasla.tenants.auth.IsTenant"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["wasla.api.parsers.StrictJSONParser"],
    "DEFAULT_SCHEMA_CLASS": "wasla.api.schema.ApiSchema",
    "DEFAULT_METADATA_CLASS": "wasla.api.metadata.ApiMetadata",
    "EXCEPTION_HANDLER": "wasla.common.problems.drf_exception_handler",
    "DEFAULT_PAGINATION_CLASS": "wasla.api.pagination.BoundedLimitOffsetPagination",
    "PAGE_SIZE": 50,
    "COERCE_DECIMAL_TO_STRING": True,
    "UNAUTHENTICATED_USER": None,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Wasla Payments merchant API",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # /api/docs/ loads Swagger UI from our static files, never a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Several models name their choices "Status": each gets its own schema name.
    "ENUM_NAME_OVERRIDES": {
        "OrderStatusEnum": "wasla.orders.models.Order.Status",
        "PaymentStatusEnum": "wasla.payments.models.PaymentAttempt.Status",
        "PaymentMethodEnum": "wasla.payments.models.PaymentAttempt.Method",
        "RefundStatusEnum": "wasla.payments.models.RefundRecord.Status",
        "SettlementStatusEnum": "wasla.settlement.models.SettlementRecord.Status",
    },
}

# Fernet keys for provider secrets, newest first, comma-separated. Never SECRET_KEY.
WASLA_ENCRYPTION_KEYS = env.list("WASLA_ENCRYPTION_KEYS")

# Where providers reach our webhooks and return pages (absolute, no trailing slash).
WASLA_PUBLIC_BASE_URL = env("WASLA_PUBLIC_BASE_URL", default="http://127.0.0.1:8000")

# Local simulators of the provider APIs (demo and tests only).
WASLA_SANDBOX = env.bool("WASLA_SANDBOX", default=False)
WASLA_SANDBOX_BASE_URL = env("WASLA_SANDBOX_BASE_URL", default=WASLA_PUBLIC_BASE_URL)

# Built-in providers by name; third-party ones come from the `wasla.payment_providers` entry points.
WASLA_PAYMENT_PROVIDERS = {
    "tap": "wasla.payments.providers.tap.TapProvider",
    "stripe": "wasla.payments.providers.stripe.StripeProvider",
    "paypal": "wasla.payments.providers.paypal.PayPalProvider",
    "cod": "wasla.payments.providers.cod.CashOnDeliveryProvider",
}

# Base URL of each provider API by gateway mode. "sandbox" points at the local simulators
# when WASLA_SANDBOX is on, otherwise at the provider's own test environment.
WASLA_PROVIDER_BASE_URLS = {
    "tap": {
        "sandbox": env("WASLA_TAP_SANDBOX_URL", default="https://api.tap.company"),
        "live": "https://api.tap.company",
    },
    "stripe": {
        "sandbox": env("WASLA_STRIPE_SANDBOX_URL", default="https://api.stripe.com"),
        "live": "https://api.stripe.com",
    },
    "paypal": {
        "sandbox": env("WASLA_PAYPAL_SANDBOX_URL", default="https://api-m.sandbox.paypal.com"),
        "live": "https://api-m.paypal.com",
    },
}

WASLA_PROVIDER_OPTIONS = {
    # PayPal webhook certificates are fetched only from these hosts (exact, or "*.suffix").
    "paypal": {"cert_hosts": env.list("WASLA_PAYPAL_CERT_HOSTS", default=["*.paypal.com"])},
}

WASLA_PROVIDER_TIMEOUTS = {"connect": 5.0, "read": 20.0}

# Currencies the platform accepts for orders; each needs a "standard" fee plan in it.
WASLA_CURRENCIES = env.list("WASLA_CURRENCIES", default=["SAR"])

# Celery: Redis broker in production; eager in the demo and tests. Tasks are idempotent and
# acked late, so a task whose worker dies is run again. Publishing fails fast when Redis is
# down or hangs (one retry, short socket timeouts, a few seconds at worst): a webhook is safe in
# PostgreSQL before it is queued and the sweeper queues it again, so waiting on the broker would
# only keep the provider's delivery waiting. `visibility_timeout`: how long a message taken by a
# worker that vanished stays invisible before Redis hands it to another worker.
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="redis://127.0.0.1:6379/0")
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = env("CELERY_TASK_DEFAULT_QUEUE", default="celery")
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_PUBLISH_RETRY = True
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Beat's crontab entries (the monthly invoicing run) are read in the platform's time zone.
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "socket_connect_timeout": env.float("CELERY_BROKER_CONNECT_TIMEOUT", default=2.0),
    "socket_timeout": env.float("CELERY_BROKER_SOCKET_TIMEOUT", default=3.0),
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
    "visibility_timeout": env.int("CELERY_BROKER_VISIBILITY_TIMEOUT", default=3600),
}

# --- Webhook pipeline (wasla/payments/webhooks/): retries scheduled in the inbox table. These
# are the only defaults: wasla/payments/webhooks/retry.py reads the settings as they are.
# A try that cannot finish (provider unreachable, the object not there yet, an unexpected error)
# is retried after RETRY_BASE_SECONDS * 2**(n-1), capped at RETRY_MAX_SECONDS, +/- JITTER of it;
# after MAX_ATTEMPTS tries (MAX_UNEXPECTED_ATTEMPTS for unexpected errors) it ends `failed`, or
# `ignored` when what it refers to never showed up. The sweeper (beat, every
# SWEEP_INTERVAL_SECONDS) re-drives what is due, and `received` events left SWEEP_STALE_SECONDS
# with nothing scheduled; a queued or running event is left alone for SWEEP_LEASE_SECONDS.
WASLA_WEBHOOK_MAX_ATTEMPTS = env.int("WASLA_WEBHOOK_MAX_ATTEMPTS", default=8)
WASLA_WEBHOOK_MAX_UNEXPECTED_ATTEMPTS = env.int("WASLA_WEBHOOK_MAX_UNEXPECTED_ATTEMPTS", default=3)
WASLA_WEBHOOK_RETRY_BASE_SECONDS = env.float("WASLA_WEBHOOK_RETRY_BASE_SECONDS", default=30.0)
WASLA_WEBHOOK_RETRY_MAX_SECONDS = env.float("WASLA_WEBHOOK_RETRY_MAX_SECONDS", default=3600.0)
WASLA_WEBHOOK_RETRY_JITTER = env.float("WASLA_WEBHOOK_RETRY_JITTER", default=0.2)
WASLA_WEBHOOK_SWEEP_INTERVAL_SECONDS = env.float(
    "WASLA_WEBHOOK_SWEEP_INTERVAL_SECONDS", default=30.0
)
WASLA_WEBHOOK_SWEEP_STALE_SECONDS = env.float("WASLA_WEBHOOK_SWEEP_STALE_SECONDS", default=120.0)
WASLA_WEBHOOK_SWEEP_LEASE_SECONDS = env.float("WASLA_WEBHOOK_SWEEP_LEASE_SECONDS", default=300.0)
WASLA_WEBHOOK_SWEEP_BATCH_SIZE = env.int("WASLA_WEBHOOK_SWEEP_BATCH_SIZE", default=100)
WASLA_RECONCILE_INTERVAL_SECONDS = env.float("WASLA_RECONCILE_INTERVAL_SECONDS", default=300.0)
# --- end of webhook pipeline

# --- Observability (wasla/common/observability/): structured logs, metrics, error reports.
# Logs: every line (structlog's and the standard library's) as one JSON object ("json", the
# default) or a readable line ("console", the demo's), secrets and card numbers masked.
WASLA_LOG_FORMAT = env("WASLA_LOG_FORMAT", default="json")
LOGGING = logging_config(fmt=WASLA_LOG_FORMAT, level=env("LOG_LEVEL", default="INFO"))
# GET /metrics (Prometheus) answers only `Authorization: Bearer <this>`; unset, it is a 404.
# Several processes: PROMETHEUS_MULTIPROC_DIR (see wasla/common/observability/metrics.py).
WASLA_METRICS_TOKEN = env("WASLA_METRICS_TOKEN", default="")
# Error reports to Sentry only when SENTRY_DSN is set (scrubbed of secrets and personal data).
SENTRY_DSN = env("SENTRY_DSN", default="")
SENTRY_ENVIRONMENT = env("SENTRY_ENVIRONMENT", default="production")
SENTRY_RELEASE = env("SENTRY_RELEASE", default="")
SENTRY_TRACES_SAMPLE_RATE = env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0)
# /readyz gives the broker this long to answer.
WASLA_READYZ_BROKER_TIMEOUT = env.float("WASLA_READYZ_BROKER_TIMEOUT", default=1.0)
# Celery workers keep Django's LOGGING (the JSON lines) instead of installing their own format.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# --- end of observability

# --- Provider call resilience and reconciliation (wasla/payments/resilience.py, reconciliation.py)
# Retries of a provider call that got no usable answer (connection error, 5xx, 429), always with
# the same request and idempotency key; a read timeout is never retried (reconciliation decides).
WASLA_PROVIDER_RETRY = {
    "attempts": env.int("WASLA_PROVIDER_RETRY_ATTEMPTS", default=3),
    "initial_wait": env.float("WASLA_PROVIDER_RETRY_INITIAL_WAIT", default=0.2),
    "max_wait": env.float("WASLA_PROVIDER_RETRY_MAX_WAIT", default=1.0),
    "jitter": env.float("WASLA_PROVIDER_RETRY_JITTER", default=0.1),
}
# One circuit per gateway config, shared through CACHES["default"]: opens after
# `failure_threshold` consecutive failures within `failure_window` seconds, refuses calls for
# `reset_timeout` seconds, then lets one trial call through.
WASLA_CIRCUIT_BREAKER = {
    "failure_threshold": env.int("WASLA_CIRCUIT_FAILURE_THRESHOLD", default=5),
    "reset_timeout": env.int("WASLA_CIRCUIT_RESET_TIMEOUT", default=30),
    "failure_window": env.int("WASLA_CIRCUIT_FAILURE_WINDOW", default=120),
}
# Attempts still created/pending after this many minutes are re-fetched from their provider by
# the `payments.reconcile` task (schedule it in Celery beat) and `manage.py reconcile`.
WASLA_RECONCILE_PENDING_AFTER_MINUTES = env.int("WASLA_RECONCILE_PENDING_AFTER_MINUTES", default=15)
# Workers register the reconcile tasks, which live outside tasks.py.
CELERY_IMPORTS = ["wasla.payments.reconciliation", "wasla.settlement.reconciliation"]
# --- end of provider call resilience and reconciliation

# --- Invoicing (wasla/invoicing/): Wasla is the seller on every invoice. Its tax profile is public
# business data, required in production (no defaults); demo and test settings carry sample values.
WASLA_SELLER = {
    "legal_name_ar": env("WASLA_SELLER_LEGAL_NAME_AR"),
    "legal_name_en": env("WASLA_SELLER_LEGAL_NAME_EN"),
    "vat_number": env("WASLA_SELLER_VAT_NUMBER"),
    "cr_number": env("WASLA_SELLER_CR_NUMBER"),
    "building_number": env("WASLA_SELLER_BUILDING_NUMBER"),
    "street": env("WASLA_SELLER_STREET"),
    "district": env("WASLA_SELLER_DISTRICT"),
    "city": env("WASLA_SELLER_CITY"),
    "postal_code": env("WASLA_SELLER_POSTAL_CODE"),
    "country_code": env("WASLA_SELLER_COUNTRY_CODE", default="SA"),
    "iban": env("WASLA_SELLER_IBAN"),
}
# An invoice is due this many days after it is issued.
WASLA_INVOICE_DUE_DAYS = env.int("WASLA_INVOICE_DUE_DAYS", default=14)
# Collection by card (wasla/invoicing/collection.py) on Wasla's own Stripe account: its secret
# key and the signing secret of its billing webhook endpoint (secrets: no default, never
# logged; unset, nothing is charged), its API base (the sandbox in the demo and tests), and the
# dunning schedule: try n is made this many days after the invoice was issued.
WASLA_BILLING_STRIPE_SECRET_KEY = env("WASLA_BILLING_STRIPE_SECRET_KEY", default="")
WASLA_BILLING_STRIPE_WEBHOOK_SECRET = env("WASLA_BILLING_STRIPE_WEBHOOK_SECRET", default="")
WASLA_BILLING_STRIPE_API_BASE = env(
    "WASLA_BILLING_STRIPE_API_BASE", default="https://api.stripe.com"
)
WASLA_COLLECTION_SCHEDULE_DAYS = [
    int(day) for day in env.list("WASLA_COLLECTION_SCHEDULE_DAYS", default=["1", "3", "7"])
]
# ZATCA's rules (UBL 2.1 XSDs, the CEN and KSA schematrons as XSLT 2.0), as ZATCA's SDK ships
# them: by default the copies in the shared fixtures (WASLA_SHARED_DIR, else ../shared).
WASLA_ZATCA_RULES_DIR = Path(
    env(
        "WASLA_ZATCA_RULES_DIR",
        default=str(
            Path(env("WASLA_SHARED_DIR", default=str(BASE_DIR.parent / "shared")))
            / "fixtures"
            / "zatca"
        ),
    )
)
# ZATCA's e-invoicing API: the environment (sandbox = the developer portal, simulation,
# production; it also picks the CSR's certificate template) and its base URL, which defaults to
# ZATCA's gateway for that environment (the demo and tests point it at sandbox/zatca_sim).
WASLA_ZATCA_ENVIRONMENT = env("WASLA_ZATCA_ENVIRONMENT", default="sandbox")
if WASLA_ZATCA_ENVIRONMENT not in ("sandbox", "simulation", "production"):
    raise ImproperlyConfigured("WASLA_ZATCA_ENVIRONMENT must be sandbox, simulation or production")
WASLA_ZATCA_BASE_URL = env(
    "WASLA_ZATCA_BASE_URL",
    default="https://gw-fatoora.zatca.gov.sa/e-invoicing/"
    + {"sandbox": "developer-portal", "simulation": "simulation", "production": "core"}[
        WASLA_ZATCA_ENVIRONMENT
    ],
)
# The ZATCA simulator's own copy of the rule files it validates with (the same ones by default).
SANDBOX_ZATCA_RULES_DIR = Path(env("SANDBOX_ZATCA_RULES_DIR", default=str(WASLA_ZATCA_RULES_DIR)))
# Clearance retries back off exponentially from RETRY_SECONDS, MAX_RETRIES times; the sweep
# (beat, every SWEEP_INTERVAL_SECONDS) stamps documents left waiting and re-drives clearances a
# dead worker left behind (after CLEARANCE_LEASE_SECONDS).
WASLA_ZATCA_RETRY_SECONDS = env.float("WASLA_ZATCA_RETRY_SECONDS", default=30.0)
WASLA_ZATCA_MAX_RETRIES = env.int("WASLA_ZATCA_MAX_RETRIES", default=8)
# How long one call to ZATCA's API may take before it counts as unavailable (then retried).
WASLA_ZATCA_TIMEOUT_SECONDS = env.float("WASLA_ZATCA_TIMEOUT_SECONDS", default=20.0)
WASLA_ZATCA_SWEEP_INTERVAL_SECONDS = env.int("WASLA_ZATCA_SWEEP_INTERVAL_SECONDS", default=300)
# The staff dashboard's daily roll-ups (wasla/dashboard/rollups.py): the recent days refreshed.
WASLA_DASHBOARD_ROLLUP_INTERVAL_SECONDS = env.int(
    "WASLA_DASHBOARD_ROLLUP_INTERVAL_SECONDS", default=300
)
WASLA_ZATCA_CLEARANCE_LEASE_SECONDS = env.int("WASLA_ZATCA_CLEARANCE_LEASE_SECONDS", default=600)
# The SAR value of one unit of each other invoicing currency, stated on its documents (ZATCA's
# tax currency is SAR): `KWD=12.2345,...`.
WASLA_ZATCA_SAR_RATES = env.dict("WASLA_ZATCA_SAR_RATES", default={"KWD": "12.2345"})
# --- end of invoicing

# --- Security headers (wasla/common/security_headers.py; tests: wasla/common/tests/
# test_security_headers.py, test_browser_csp.py). A strict Content-Security-Policy (django-csp):
# scripts and styles only from our own static files, or a <style>/<script> carrying the request's
# nonce ({{ request.csp_nonce }}); no inline event handlers or style attributes anywhere; no
# framing; forms post only to us. The storefront's checkout and the invoice pay page add the
# providers' hosted pages to form-action (a form whose answer redirects there), through
# `checkout_form_action` in that module. Django's own headers are stated here although they are
# its defaults, so that none of them is lost by accident.
from csp.constants import NONCE, NONE, SELF  # noqa: E402

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, NONCE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    },
}
# Hosted payment pages a checkout form may be redirected to (Tap, Stripe Checkout and 3-D Secure,
# PayPal live and sandbox). The local simulators are served from WASLA_SANDBOX_BASE_URL.
WASLA_CSP_CHECKOUT_ORIGINS = env.list(
    "WASLA_CSP_CHECKOUT_ORIGINS",
    default=[
        "https://*.tap.company",
        "https://checkout.stripe.com",
        "https://hooks.stripe.com",
        "https://www.paypal.com",
        "https://www.sandbox.paypal.com",
    ],
)
SECURE_CONTENT_TYPE_NOSNIFF = True
# same-origin: no Referer at all to other sites (the providers' hosted pages need none).
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Browser features no page of ours uses, refused to every origin (Permissions-Policy header).
# payment=(): our pages never call the Payment Request API; shoppers pay on the providers' own
# hosted pages (a top-level navigation to their origin, where their own policy applies).
# (Only features Chromium knows: an unknown one is a console error on every page.)
WASLA_PERMISSIONS_POLICY: dict[str, list[str]] = {
    "accelerometer": [],
    "camera": [],
    "geolocation": [],
    "gyroscope": [],
    "magnetometer": [],
    "microphone": [],
    "payment": [],
    "usb": [],
}
# --- end of security headers

# --- Personal data (PDPL; wasla/api/personal_data.py, README "Personal data (PDPL)"): shoppers'
# e-mail, phone, name and address are anonymised this many days after the order (or the webhook
# delivery) by `manage.py purge_personal_data` and beat's daily `api.purge_personal_data`.
# Two years by default: longer than the card schemes' longest chargeback window (540 days), so a
# dispute can still be answered with the order's delivery address.
WASLA_PERSONAL_DATA_RETENTION_DAYS = env.int("WASLA_PERSONAL_DATA_RETENTION_DAYS", default=730)
if WASLA_PERSONAL_DATA_RETENTION_DAYS < 0:
    raise ImproperlyConfigured("WASLA_PERSONAL_DATA_RETENTION_DAYS must not be negative")
# --- end of personal data
