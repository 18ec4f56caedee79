"""Register Wasla's billing webhook (`<WASLA_PUBLIC_BASE_URL>/webhooks/billing/stripe/`) with the
platform Stripe account and print its signing secret, for WASLA_BILLING_STRIPE_WEBHOOK_SECRET.

The secret is printed on stdout only (never logged): pipe it into the secret store.
"""

import json
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.urls import reverse

from wasla.invoicing import billing_stripe


class Command(BaseCommand):
    help = "Register the billing webhook with Wasla's Stripe account; prints the signing secret."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true", help="print {url, secret} as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        url = settings.WASLA_PUBLIC_BASE_URL.rstrip("/") + reverse("billing-webhook")
        try:
            secret = billing_stripe.webhook_endpoint_create(url=url)
        except (billing_stripe.BillingStripeUnavailable, billing_stripe.BillingStripeRefused) as e:
            raise CommandError(f"could not register {url}: {e}") from None
        if options["json"]:
            self.stdout.write(json.dumps({"url": url, "secret": secret}))
        else:
            self.stdout.write(f"{url}\nWASLA_BILLING_STRIPE_WEBHOOK_SECRET={secret}")
