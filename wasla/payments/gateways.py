"""A merchant's payment gateways: connecting one (keys, webhook registration) and choosing the
active one for a checkout. Secrets are write-only: a blank value keeps the stored one."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.db import transaction

from wasla.common.problems import ProviderUnavailable, Unprocessable
from wasla.tenants.models import Tenant

from .models import PaymentGatewayConfig
from .orchestrator import PaymentOrchestrator
from .problems import GatewayNotConfigured
from .providers.base import ProviderError, ProviderUnreachable
from .providers.registry import UnknownProvider, provider_class


def gateway_config_active(*, tenant: Tenant, provider: str) -> PaymentGatewayConfig:
    config = (
        PaymentGatewayConfig.objects.for_tenant(tenant)
        .filter(provider=provider, is_active=True)
        .order_by("-mode")  # "sandbox" sorts after "live": one active config per provider is usual
        .first()
    )
    if config is None:
        raise GatewayNotConfigured(f"The merchant has no active {provider} gateway.")
    return config


def gateway_config_connect(
    *,
    tenant: Tenant,
    provider: str,
    mode: str,
    public_key: str = "",
    secret_key: str = "",
    webhook_secret: str = "",
    is_active: bool = True,
) -> PaymentGatewayConfig:
    """Create or update a tenant's gateway. Without a webhook secret, our webhook URL is
    registered with the provider, which answers with the secret (Stripe endpoint secret,
    PayPal webhook id). The provider is called outside any transaction."""
    try:
        provider_class(provider)
    except UnknownProvider:
        raise Unprocessable(f"Unknown provider {provider!r}.") from None
    # Secrets are write-only: a blank value keeps the stored one.
    defaults: dict[str, object] = {"public_key": public_key, "is_active": is_active}
    if secret_key:
        defaults["secret_key"] = secret_key
    config, _ = PaymentGatewayConfig.objects.update_or_create(
        tenant=tenant, provider=provider, mode=mode, defaults=defaults
    )
    if webhook_secret:
        config.webhook_secret = webhook_secret
    elif not config.webhook_secret:
        try:
            config.webhook_secret = PaymentOrchestrator().register_webhook(config)
        except (ProviderError, ProviderUnreachable) as exc:
            raise ProviderUnavailable(f"Could not register the webhook: {exc}") from None
    config.save(update_fields=["webhook_secret"])
    return config


@dataclass(frozen=True)
class GatewayCheck:
    """What the provider said when asked with the stored keys. `detail` is the provider's own
    words on a refusal (with anything key-shaped removed), empty otherwise."""

    ok: bool
    reachable: bool
    detail: str = ""


# Key-looking words a provider may echo back in an error ("Invalid API Key provided:
# sk_test_****1234"): never passed on, not even redacted.
_KEY_SHAPED = re.compile(r"\b(?:sk|pk|rk|whsec)_[A-Za-z0-9_*]+")


def _without_secrets(text: str, config: PaymentGatewayConfig) -> str:
    for secret in (config.secret_key, config.webhook_secret):
        if secret:
            text = text.replace(secret, "••••")
    return _KEY_SHAPED.sub("••••", text).strip()


def gateway_config_check(*, config: PaymentGatewayConfig) -> GatewayCheck:
    """Ask the provider whether it accepts the stored credentials ("test connection").

    One read-only call through the orchestrator (retries, circuit breaker); called outside any
    transaction. A refusal is an answer, not an error: the merchant sees what the provider said.
    """
    try:
        PaymentOrchestrator().check_connection(config)
    except ProviderError as exc:
        return GatewayCheck(ok=False, reachable=True, detail=_without_secrets(exc.message, config))
    except ProviderUnreachable as exc:
        return GatewayCheck(ok=False, reachable=False, detail=_without_secrets(str(exc), config))
    return GatewayCheck(ok=True, reachable=True)


def gateway_config_mode_switch(*, config: PaymentGatewayConfig) -> PaymentGatewayConfig:
    """Make `config` the provider's active gateway: its other mode (sandbox or live) is turned
    off in the same transaction, so checkouts never see both or neither."""
    with transaction.atomic():
        PaymentGatewayConfig.objects.filter(
            tenant_id=config.tenant_id, provider=config.provider
        ).exclude(pk=config.pk).update(is_active=False)
        PaymentGatewayConfig.objects.filter(pk=config.pk).update(is_active=True)
    config.is_active = True
    return config
