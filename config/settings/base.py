"""Settings shared by every environment; all configuration comes from the environment."""

import warnings
from pathlib import Path
from typing import Any

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

SECRET_KEY = env("DJANGO_SECRET_KEY")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI and ReDoc as local static files: no CDN
    "django_fsm",
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
    # Static files from the WSGI server itself (production: collected, hashed, compressed).
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Before anything looks a URL up: PostgreSQL cannot compare text with a NUL in it.
    "wasla.common.middleware.NulInUrlMiddleware",
    # Database unreachable in a view: 503 with Retry-After (see wasla/common/outage.py).
    "wasla.common.outage.DatabaseUnavailableMiddleware",
    "wasla.common.middleware.BodySizeLimitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # Arabic first: the visitor's pick (cookie) on pages, Accept-Language on the API.
    "wasla.common.i18n.LanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Each request starts with no tenant scope; the API token, webhook URL, ... then set it.
    "wasla.tenants.middleware.RequestScopeMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
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

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {
        "httpx": {"level": "WARNING"},
        "stripe": {"level": "WARNING"},
        "django.server": {"level": "WARNING"},
    },
}

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
