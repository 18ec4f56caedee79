"""Test settings: real PostgreSQL and Redis on this machine, sandbox on, tasks inline."""

import os

_defaults = {
    "DJANGO_SECRET_KEY": "test-only-not-secret-41c9",
    "DJANGO_ALLOWED_HOSTS": "*",
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/wasla",
    "CACHE_URL": "rediscache://127.0.0.1:6379/1",
    "WASLA_ENCRYPTION_KEYS": "dGVzdC1vbmx5LWtleS1mb3ItdGhlLXRlc3Qtc3VpdGU=",
    "WASLA_SANDBOX": "1",
    "WASLA_PAYPAL_CERT_HOSTS": "*.paypal.com,127.0.0.1,localhost",
    "CELERY_TASK_ALWAYS_EAGER": "1",
    "CELERY_BROKER_URL": "redis://127.0.0.1:6379/2",
    # Never ZATCA's real gateway from a test: a closed local port (unavailable, at once); the
    # tests that clear point it at the simulator under their live server.
    "WASLA_ZATCA_BASE_URL": "http://127.0.0.1:9/zatca-not-configured",
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
    # Wasla's own Stripe account on the sandbox (tests point the base at their live server and
    # register the billing webhook there, which gives its signing secret).
    "WASLA_BILLING_STRIPE_SECRET_KEY": "sk_test_51WaslaPlatformBillingKeyForTheSandbox0001",
}
for _name, _value in _defaults.items():
    os.environ.setdefault(_name, _value)

from .base import *  # noqa: E402,F403
from .base import INSTALLED_APPS  # noqa: E402

INSTALLED_APPS = [
    *INSTALLED_APPS,
    "sandbox.tap_sim",
    "sandbox.stripe_sim",
    "sandbox.paypal_sim",
    "sandbox.zatca_sim",
]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
WASLA_DEMO_STAFF_PASSWORD = "wasla-test-staff"
# The rate limits count in Redis, shared by every test of the run, and the whole suite comes from
# 127.0.0.1: they would refuse tests at random. Their own tests switch them on (settings fixture),
# each with fresh counters (wasla/common/tests/test_ratelimit.py).
WASLA_RATE_LIMITS_ENABLED = False
