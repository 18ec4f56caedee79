"""Accounts the Stripe simulator starts with, as settings describe them (the demo's):

    SANDBOX_STRIPE_ACCOUNTS = [{"secret_key": "sk_test_…", "webhook_endpoints": [
        {"url": "http://127.0.0.1:8000/webhooks/billing/stripe/", "secret": "whsec_…",
         "enabled_events": ["payment_intent.succeeded", …]}]}]

Every request of such a key makes its endpoints exist exactly so — created, or
brought back to that URL, secret and event list (the demo may have moved to another port) — the
way a real account arrives with its endpoints already registered in the Dashboard. Each endpoint
has a stable id derived from the account and its place in the list. Secrets come only from
settings and are stored encrypted like every endpoint secret; nothing here logs them.
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.conf import settings
from django.db import transaction

from sandbox.stripe_sim.keys import secret_decrypt, secret_encrypt
from sandbox.stripe_sim.models import StripeAccount, StripeWebhookEndpoint
from sandbox.stripe_sim.services import now_unix


def _endpoint_id(account: StripeAccount, position: int) -> str:
    return "we_1pre" + hashlib.sha256(f"{account.id}:{position}".encode()).hexdigest()[:24]


def _as_configured(row: StripeWebhookEndpoint | None, spec: dict[str, Any]) -> bool:
    return (
        row is not None
        and row.url == spec["url"]
        and row.enabled_events == _events(spec)
        and row.status == StripeWebhookEndpoint.Status.ENABLED
        and secret_decrypt(row.secret_encrypted) == spec["secret"]
    )


def _events(spec: dict[str, Any]) -> list[str]:
    return list(spec.get("enabled_events") or ["*"])


def preconfigured_apply(*, account: StripeAccount, api_key: str) -> None:
    """Give `account` the endpoints its key is configured with, if it lacks them (a read per
    request of a pre-configured key; a write only when something differs)."""
    for spec in getattr(settings, "SANDBOX_STRIPE_ACCOUNTS", ()):
        if spec.get("secret_key") != api_key:
            continue
        for position, endpoint in enumerate(spec.get("webhook_endpoints", ())):
            endpoint_id = _endpoint_id(account, position)
            if _as_configured(
                StripeWebhookEndpoint.objects.filter(pk=endpoint_id).first(), endpoint
            ):
                continue
            fields = {
                "account": account,
                "url": endpoint["url"],
                "enabled_events": _events(endpoint),
                "description": "pre-configured",
                "status": StripeWebhookEndpoint.Status.ENABLED,
                "secret_encrypted": secret_encrypt(endpoint["secret"]),
            }
            with transaction.atomic():
                StripeWebhookEndpoint.objects.update_or_create(
                    id=endpoint_id,
                    defaults=fields,
                    create_defaults={**fields, "created": now_unix()},
                )
        return
