"""The provider simulators of the local production stack (scripts/stack.py); never deployed.

The product runs `config.settings.production` unchanged (no sandbox, HTTPS only). The
simulators (sandbox/: Tap, Stripe, PayPal, ZATCA) play the providers on the internet: they run
in their own gunicorn on a loopback port, with these settings, which are production's plus the
sandbox apps and their URLs. The stack points the product's provider base URLs at that port
(plain HTTP on loopback, as the demo does); nginx also forwards `/sandbox/` to it, so the
fault knobs (`/sandbox/<provider>/_control/`) answer at the stack's base URL too. The
simulators' own tables are migrated with everything else (`migrate` runs with this module).

Three things differ from production, both because a simulator is not the product:
- it answers plain HTTP on its loopback port (the product calls it there; the hosted pages
  are shown there), so no HTTPS redirect and no Secure-only cookies;
- its webhooks go to the product's public HTTPS URL, whose certificate is the stack's
  self-signed one: the simulators' HTTP client (httpx, which trusts certifi's bundle) is given
  a bundle with that certificate added (`WASLA_STACK_TRUST_BUNDLE`, written by the stack), as a
  real provider trusts a real certificate;
- its pages' static files are served from the sandbox apps' directories by its own process.
"""

import os

from environ import Env

from .production import *  # noqa: F403
from .production import INSTALLED_APPS

WASLA_SANDBOX = True
INSTALLED_APPS = [
    *INSTALLED_APPS,
    "sandbox.tap_sim",
    "sandbox.stripe_sim",
    "sandbox.paypal_sim",
    "sandbox.zatca_sim",
]
# The hosted pages' own styles (sandbox/*/static/) are not among the product's collected files:
# the simulators' process serves them from the apps' directories (WhiteNoise's finders), under
# plain names, on its own origin where the pages are shown.
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
LANGUAGE_COOKIE_SECURE = False

_env = Env()
# Where the PayPal simulator says its webhook certificate is (this process's loopback URL).
WASLA_SANDBOX_BASE_URL = _env("WASLA_SANDBOX_BASE_URL")
# Wasla's own Stripe account on the Stripe simulator comes with the billing webhook registered
# (the product's URL, the stack's signing secret), as the real account has it.
SANDBOX_STRIPE_ACCOUNTS = [
    {
        "secret_key": _env("WASLA_BILLING_STRIPE_SECRET_KEY"),
        "webhook_endpoints": [
            {
                "url": _env("WASLA_PUBLIC_BASE_URL").rstrip("/") + "/webhooks/billing/stripe/",
                "secret": _env("WASLA_BILLING_STRIPE_WEBHOOK_SECRET"),
                "enabled_events": [
                    "checkout.session.completed",
                    "payment_intent.payment_failed",
                    "payment_intent.succeeded",
                ],
            }
        ],
    }
]
# `seed_demo` (run with this module) sets the staff login's password from here.
WASLA_DEMO_STAFF_PASSWORD = _env("WASLA_DEMO_STAFF_PASSWORD", default="")

_trust_bundle = os.environ.get("WASLA_STACK_TRUST_BUNDLE", "")
if _trust_bundle:
    import certifi

    certifi.where = lambda: _trust_bundle
del _env, Env
