"""A merchant's payment gateways: connecting one (keys, webhook registration) and choosing the
active one for a checkout. Secrets are write-only: a blank value keeps the stored one."""

from __future__ import annotations

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
