"""What the fuzz and the load runs need in the database they hit: tenants with an API token,
Stripe and Tap gateways connected through the sandbox (Stripe's webhook registered over HTTP,
which answers the endpoint secret), a cash-on-delivery gateway, a portal owner login each, and
one staff login.

Runs in the pytest process (the in-process server shares its database) or against a running
stack as `python -m chaos.load_seed --tenants N` with the stack's environment, printing the
result as JSON. Everything is new on each call (random slugs and passwords), so runs never
collide with what an earlier run left.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import time
from typing import Any

# The full load run has 16 users, of whom 2 on the dashboard (weights 6:1:1); room to spare.
STAFF_LOGINS = 4


def seed(*, tenants: int, label: str) -> dict[str, Any]:
    """Create `tenants` merchants and STAFF_LOGINS staff users with their authenticators;
    return their credentials (JSON-ready)."""
    from django.contrib.auth import get_user_model

    from wasla.common.problems import ProviderUnavailable
    from wasla.common.staff_otp import staff_totp_ensure
    from wasla.payments.gateways import gateway_config_connect
    from wasla.payments.models import PaymentGatewayConfig
    from wasla.tenants.context import platform_access
    from wasla.tenants.models import Tenant, TenantMember
    from wasla.tenants.services import api_token_create

    users = get_user_model()

    def _connect(tenant: Tenant, **kwargs: Any) -> PaymentGatewayConfig:
        """Connect a gateway; a simulator slow to answer (a busy machine) is asked again."""
        for wait in (1, 3, 0):
            try:
                return gateway_config_connect(tenant=tenant, **kwargs)
            except ProviderUnavailable:
                if not wait:
                    raise
                time.sleep(wait)
        raise AssertionError("unreachable")

    result: dict[str, Any] = {"tenants": [], "staff": []}
    with platform_access(reason=f"chaos {label} seed", actor="chaos.load_seed"):
        for _ in range(tenants):
            slug = f"{label}-{secrets.token_hex(4)}"
            tenant = Tenant.objects.create(slug=slug, name=slug.title())
            _, token = api_token_create(tenant=tenant, name=f"chaos {label}")
            stripe = _connect(
                tenant,
                provider="stripe",
                mode=PaymentGatewayConfig.Mode.SANDBOX,
                public_key="pk_test_" + secrets.token_hex(12),
                secret_key="sk_test_" + secrets.token_hex(16),
            )
            tap = _connect(
                tenant,
                provider="tap",
                mode=PaymentGatewayConfig.Mode.SANDBOX,
                public_key="pk_test_" + secrets.token_hex(12),
                secret_key="sk_test_" + secrets.token_hex(16),
            )
            cod = _connect(tenant, provider="cod", mode=PaymentGatewayConfig.Mode.SANDBOX)
            password = secrets.token_urlsafe(16)
            owner = users.objects.create_user(
                username=f"{slug}-owner", email=f"owner@{slug}.example.sa", password=password
            )
            TenantMember.objects.create(tenant=tenant, user=owner, role=TenantMember.Role.OWNER)
            result["tenants"].append(
                {
                    "slug": slug,
                    "token": token,
                    "stripe": {
                        "secret_key": stripe.secret_key,
                        "webhook_secret": stripe.webhook_secret,
                        "webhook_path": f"/webhooks/stripe/{stripe.webhook_token}/",
                    },
                    "tap": {
                        "secret_key": tap.secret_key,
                        "webhook_path": f"/webhooks/tap/{tap.webhook_token}/",
                    },
                    "cod": {"webhook_path": f"/webhooks/cod/{cod.webhook_token}/"},
                    "owner": {"username": owner.username, "password": password},
                }
            )
        # One staff login per dashboard user of the load run: a TOTP code is good once, so
        # two users signing in with one authenticator in the same 30 s would refuse each other.
        for n in range(STAFF_LOGINS):
            staff_password = secrets.token_urlsafe(16)
            staff = users.objects.create_user(
                username=f"{label}-staff-{n}-{secrets.token_hex(4)}",
                password=staff_password,
                is_staff=True,
            )
            result["staff"].append(
                {
                    "username": staff.username,
                    "password": staff_password,
                    "totp_secret": staff_totp_ensure(user=staff).secret,
                }
            )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tenants", type=int, default=2)
    parser.add_argument("--label", default="load")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")
    import django

    django.setup()
    print(json.dumps(seed(tenants=args.tenants, label=args.label)))


if __name__ == "__main__":
    main()
