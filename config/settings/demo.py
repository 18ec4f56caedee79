"""Zero-setup demo: SQLite under var/ unless DATABASE_URL is set, sandbox on, tasks inline."""

import os

from environ import Env

_base_dir = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
_port = os.environ.get("PORT", "8000")
_defaults = {
    "DJANGO_SECRET_KEY": "demo-only-not-secret-7b1f0c",
    "DJANGO_DEBUG": "1",
    "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
    "DATABASE_URL": f"sqlite:///{_base_dir}/var/demo.sqlite3",
    # Demo-only Fernet key; production must set its own.
    "WASLA_ENCRYPTION_KEYS": "ZGVtby1vbmx5LWtleS1kby1ub3QtdXNlLWluLXByb2Q=",
    "WASLA_PUBLIC_BASE_URL": f"http://127.0.0.1:{_port}",
    "WASLA_SANDBOX": "1",
    "CELERY_TASK_ALWAYS_EAGER": "1",
    # Readable log lines in the terminal (production writes JSON).
    "WASLA_LOG_FORMAT": "console",
    # Sample seller profile (Wasla's own, on every invoice): public business data, not secrets.
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
    # Wasla's own Stripe account, on the sandbox, which starts with the billing webhook
    # registered under this signing secret (SANDBOX_STRIPE_ACCOUNTS below). Demo-only values.
    "WASLA_BILLING_STRIPE_SECRET_KEY": "sk_test_51WaslaPlatformBillingKeyForTheDemo00001",
    "WASLA_BILLING_STRIPE_WEBHOOK_SECRET": "whsec_demoOnlyWaslaBillingWebhookSecret0001",
    # The demo's invoices are issued on start: try 1 is due at once, then days 1 and 3.
    "WASLA_COLLECTION_SCHEDULE_DAYS": "0,1,3",
}
for _name, _value in _defaults.items():
    os.environ.setdefault(_name, _value)
os.environ.setdefault("WASLA_SANDBOX_BASE_URL", os.environ["WASLA_PUBLIC_BASE_URL"])
for _provider in ("tap", "stripe", "paypal"):
    os.environ.setdefault(
        f"WASLA_{_provider.upper()}_SANDBOX_URL",
        os.environ["WASLA_SANDBOX_BASE_URL"] + f"/sandbox/{_provider}",
    )
os.environ.setdefault(
    "WASLA_BILLING_STRIPE_API_BASE", os.environ["WASLA_SANDBOX_BASE_URL"] + "/sandbox/stripe"
)
os.environ.setdefault(
    "WASLA_ZATCA_BASE_URL",
    os.environ["WASLA_SANDBOX_BASE_URL"] + "/sandbox/zatca/e-invoicing/developer-portal",
)
# The PayPal sandbox serves its webhook certificate from this server.
os.environ.setdefault("WASLA_PAYPAL_CERT_HOSTS", "*.paypal.com,127.0.0.1,localhost")

from .base import *  # noqa: E402,F403
from .base import INSTALLED_APPS  # noqa: E402

INSTALLED_APPS = [
    *INSTALLED_APPS,
    "sandbox.tap_sim",
    "sandbox.stripe_sim",
    "sandbox.paypal_sim",
    "sandbox.zatca_sim",
]
# The Stripe sandbox's account for Wasla's billing key comes with the billing webhook endpoint
# (this server's URL, the secret above), as a real account would have it registered.
SANDBOX_STRIPE_ACCOUNTS = [
    {
        "secret_key": os.environ["WASLA_BILLING_STRIPE_SECRET_KEY"],
        "webhook_endpoints": [
            {
                "url": os.environ["WASLA_PUBLIC_BASE_URL"].rstrip("/")
                + "/webhooks/billing/stripe/",
                "secret": os.environ["WASLA_BILLING_STRIPE_WEBHOOK_SECRET"],
                "enabled_events": [
                    "checkout.session.completed",
                    "payment_intent.payment_failed",
                    "payment_intent.succeeded",
                ],
            }
        ],
    }
]
WASLA_DEMO_STAFF_PASSWORD = Env().str("WASLA_DEMO_STAFF_PASSWORD", default="wasla-demo-staff")
del Env

if DATABASES["default"]["ENGINE"].endswith("sqlite3"):  # noqa: F405
    # Threads of the dev server (the sandbox calls our webhooks) share one SQLite file.
    DATABASES["default"].setdefault("OPTIONS", {}).update(  # noqa: F405
        {"timeout": 20, "transaction_mode": "IMMEDIATE"}
    )
    # The covering indexes (the fee simulator's, the dashboard's top tenants) are a PostgreSQL
    # optimisation; SQLite builds them without their INCLUDE columns, which Django notes as
    # W040 on every command. Nothing a newcomer to the demo needs to read.
    SILENCED_SYSTEM_CHECKS = ["models.W040"]
