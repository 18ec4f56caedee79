"""Demo data: two merchants with their tax profiles, sandbox gateways, products, API tokens and
a staff login; two past months of paid orders (`demo_history`) and their invoices
(`demo_invoices`), nakheel's paid by card (`demo_collection`), and cleared through the ZATCA
simulator (`demo_zatca`: Wasla's EGS unit onboarded on the first run), as of the clock read once
at the start.

Each tenant gets an owner login for the merchant portal (`<slug>-owner`).

Idempotent: running it again reuses tenants, configs, products, orders, invoices and logins, and
issues fresh API tokens (the old demo tokens are revoked, since stored tokens cannot be shown
again) and fresh merchant passwords (stored passwords cannot be shown again either).
"""

from __future__ import annotations

import json
import secrets
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from wasla.common.staff_otp import staff_totp_ensure
from wasla.payments.gateways import gateway_config_connect
from wasla.payments.models import PaymentGatewayConfig
from wasla.payments.orchestrator import webhook_url
from wasla.storefront.demo_collection import DemoCollectionFailed, demo_collection_run
from wasla.storefront.demo_history import demo_history_seed, demo_months
from wasla.storefront.demo_invoices import (
    DemoInvoicingFailed,
    demo_invoices_generate,
    demo_invoices_summary,
)
from wasla.storefront.demo_zatca import DemoZatcaFailed, demo_zatca_run, demo_zatca_statuses
from wasla.storefront.models import Product
from wasla.tenants.context import platform_access
from wasla.tenants.models import ApiToken, Tenant, TenantMember
from wasla.tenants.services import api_token_create, api_token_revoke
from wasla.tenants.tax_profile import TAX_PROFILE_FIELDS, tenant_tax_profile_problems

TENANTS = [
    {
        "slug": "nakheel",
        "name": "Nakheel Dates",
        "legal_name_en": "Nakheel Dates Trading Co.",
        "legal_name_ar": "شركة نخيل للتمور التجارية",
        "vat_number": "302118475600003",
        "cr_number": "1010567893",
        "building_number": "2741",
        "street": "King Fahd Road",
        "district": "Al Olaya",
        "city": "Riyadh",
        "postal_code": "12214",
        "address": "2741 King Fahd Road, Al Olaya, Riyadh 12214",
        "products": [
            ("Sukkari dates, 1 kg", "Soft Qassim Sukkari, gift box.", "85.00"),
            ("Ajwa dates, 500 g", "Madinah Ajwa, premium grade.", "120.00"),
        ],
    },
    {
        "slug": "qahwa",
        "name": "Qahwa House",
        "legal_name_en": "Qahwa House Est.",
        "legal_name_ar": "مؤسسة بيت القهوة",
        "vat_number": "310458219300003",
        "cr_number": "4030284517",
        "building_number": "8217",
        "street": "Prince Mohammed bin Abdulaziz Street (Tahlia)",
        "district": "Al Andalus",
        "city": "Jeddah",
        "postal_code": "23326",
        "address": "8217 Tahlia Street, Al Andalus, Jeddah 23326",
        "products": [
            ("Saudi coffee blend, 250 g", "Light roast with cardamom and saffron.", "45.50"),
            ("Dallah set", "Brass dallah with four finjan cups.", "199.00"),
        ],
    },
]
DEMO_TOKEN_NAME = "demo"
CARD_TENANT = "nakheel"  # pays its invoices by card; the other leaves them outstanding
# Webhook URLs the demo registered with the sandbox providers, by gateway webhook token.
_REGISTERED_FILE = Path(settings.VAR_DIR) / "demo-webhooks.json"
_registered: dict[str, str] = {}


def _read_registered() -> dict[str, str]:
    try:
        return dict(json.loads(_REGISTERED_FILE.read_text()))
    except (OSError, ValueError):
        return {}


PROVIDERS = ("tap", "stripe", "paypal", "cod")
STAFF_USERNAME = "staff"
MERCHANT_OWNER_SUFFIX = "owner"


class Command(BaseCommand):
    help = "Create (or reuse) the demo tenants, gateways, products, tokens and staff user."
    _staff_totp_url = ""

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--json", action="store_true", help="print the result as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        now = timezone.now()  # the one clock of the run: the past months and the invoices
        months = demo_months(now=now)
        # Creating tenants and their data is a platform act (audited).
        with platform_access(reason="seed demo data", actor="manage.py seed_demo"):
            result: dict[str, Any] = {
                "tenants": [],
                "merchant_users": [],
                "staff": self._staff(),
            }
            tenants = []
            for spec in TENANTS:
                tenant, entry = self._tenant(spec, now=now)
                tenants.append(tenant)
                result["tenants"].append(entry)
                result["merchant_users"].append(self._merchant_owner(tenant))
            try:
                demo_invoices_generate(slugs=[t.slug for t in tenants], months=months, now=now)
            except DemoInvoicingFailed as error:
                raise CommandError(f"demo invoicing failed: {error}") from error
            # nakheel's invoices are collected by card (paid through the billing webhook);
            # qahwa saves no card, so its invoices stay outstanding.
            try:
                card_tenant = next(t for t in tenants if t.slug == CARD_TENANT)
                demo_collection_run(card_tenant=card_tenant, now=now)
            except DemoCollectionFailed as error:
                raise CommandError(f"demo collection failed: {error}") from error
            # Wasla's EGS unit onboarded with the ZATCA simulator; the invoices stamped, cleared.
            try:
                demo_zatca_run(now=now)
            except DemoZatcaFailed as error:
                raise CommandError(f"demo ZATCA clearance failed: {error}") from error
            result["invoices"] = demo_invoices_summary(tenants=tenants, months=months)
            statuses = demo_zatca_statuses(invoice_ids=[i["id"] for i in result["invoices"]])
            for row in result["invoices"]:
                row["zatca_status"] = statuses.get(row["id"], "none")
        if options["json"]:
            self.stdout.write(json.dumps(result, indent=2, ensure_ascii=False))
            return
        staff = result["staff"]
        self.stdout.write(f"Staff login: {staff['username']} / {staff['password']}")
        self.stdout.write(
            f"  and the code of an authenticator app with the TOTP secret {staff['totp_secret']}"
            f"\n  ({self._staff_totp_url}); or print the current code with:"
            '\n  .venv/bin/python -c "import base64,sys; from django_otp.oath import TOTP;'
            " print(f'{TOTP(base64.b32decode(sys.argv[1])).token():06d}')\" "
            f"{staff['totp_secret']}"
        )
        logins = {m["tenant"]: m for m in result["merchant_users"]}
        for t in result["tenants"]:
            self.stdout.write(f"\n{t['name']}  store: {t['store_url']}")
            login = logins[t["slug"]]
            self.stdout.write(
                f"  Merchant portal: {login['login_url']}  login:"
                f" {login['username']} / {login['password']}"
            )
            self.stdout.write(f"  API token: {t['api_token']}")
            for g in t["gateways"]:
                self.stdout.write(f"  {g['provider']} ({g['mode']}) webhook: {g['webhook_url']}")
        self.stdout.write("\nInvoices (GET <pdf> with the tenant's API token):")
        for i in result["invoices"]:
            self.stdout.write(
                f"  {i['tenant']} {i['year']}-{i['month']:02d} {i['number']}: total"
                f" {i['total']} {i['currency']}, due {i['amount_due']} by {i['due_date']}"
                f" ({i['status']}, ZATCA {i['zatca_status']})  pdf: {i['pdf_url']}"
            )

    def _staff(self) -> dict[str, str]:
        user, _ = get_user_model().objects.get_or_create(
            username=STAFF_USERNAME, defaults={"is_staff": True, "is_superuser": True}
        )
        password = settings.WASLA_DEMO_STAFF_PASSWORD
        user.set_password(password)
        user.save()
        # Staff sign in with a second factor: the demo's device keeps its secret across runs,
        # so an authenticator app set up once keeps working.
        totp = staff_totp_ensure(user=user)
        self._staff_totp_url = totp.url
        return {
            "username": STAFF_USERNAME,
            "password": password,
            "login_url": "/admin/",
            "totp_secret": totp.secret,
        }

    def _merchant_owner(self, tenant: Tenant) -> dict[str, str]:
        """The tenant's owner login for the portal, with a new password on every run."""
        username = f"{tenant.slug}-{MERCHANT_OWNER_SUFFIX}"
        user, _ = get_user_model().objects.get_or_create(
            username=username, defaults={"email": f"owner@{tenant.slug}.example.sa"}
        )
        password = secrets.token_urlsafe(12)
        user.set_password(password)
        user.is_active = True
        user.save()
        TenantMember.objects.update_or_create(
            user=user, defaults={"tenant": tenant, "role": TenantMember.Role.OWNER}
        )
        return {
            "tenant": tenant.slug,
            "username": username,
            "password": password,
            "email": user.email,
            "login_url": settings.WASLA_PUBLIC_BASE_URL + "/merchant/login/",
        }

    def _tenant(self, spec: dict[str, Any], *, now: datetime) -> tuple[Tenant, dict[str, Any]]:
        _registered.update(_read_registered())
        tenant, _ = Tenant.objects.update_or_create(
            slug=spec["slug"],
            defaults={k: spec[k] for k in ("name", "address", *TAX_PROFILE_FIELDS) if k in spec},
        )
        problems = tenant_tax_profile_problems(tenant)
        if problems:
            raise CommandError(f"demo tenant {tenant.slug}: {'; '.join(problems)}")
        for name, description, price in spec["products"]:
            Product.objects.get_or_create(
                tenant=tenant,
                name=name,
                defaults={"description": description, "price": Decimal(price)},
            )
        for provider, public_key, secret_key in _sandbox_credentials(tenant.slug):
            existing = (
                PaymentGatewayConfig.objects.for_tenant(tenant)
                .filter(provider=provider, mode=PaymentGatewayConfig.Mode.SANDBOX)
                .first()
            )
            moved = existing is not None and _registered.get(str(existing.webhook_token)) != (
                webhook_url(existing)
            )
            if existing is None or not existing.webhook_secret or moved:
                # Connecting registers our webhook URL with the provider's sandbox over HTTP
                # (Stripe, PayPal); keys already issued are kept. The demo served on another
                # PORT than last time registers again, since the old URL no longer answers.
                if moved and existing is not None:
                    PaymentGatewayConfig.objects.filter(pk=existing.pk).update(webhook_secret="")
                config = gateway_config_connect(
                    tenant=tenant,
                    provider=provider,
                    mode=PaymentGatewayConfig.Mode.SANDBOX,
                    public_key=existing.public_key if existing else public_key,
                    secret_key=existing.secret_key if existing else secret_key,
                )
                _registered[str(config.webhook_token)] = webhook_url(config)
                _REGISTERED_FILE.parent.mkdir(parents=True, exist_ok=True)
                _REGISTERED_FILE.write_text(json.dumps(_registered))
        # After the gateways: the past orders are paid through them.
        demo_history_seed(
            tenant=tenant, prices=[Decimal(price) for _, _, price in spec["products"]], now=now
        )
        for token in ApiToken.objects.for_tenant(tenant).filter(
            name=DEMO_TOKEN_NAME, revoked_at__isnull=True
        ):
            api_token_revoke(token=token)
        _, plaintext = api_token_create(tenant=tenant, name=DEMO_TOKEN_NAME)
        gateways = []
        for gw in PaymentGatewayConfig.objects.for_tenant(tenant).order_by("provider", "mode"):
            entry: dict[str, Any] = {
                "provider": gw.provider,
                "mode": gw.mode,
                "is_active": gw.is_active,
                "webhook_url": webhook_url(gw),
            }
            if gw.mode == PaymentGatewayConfig.Mode.SANDBOX:
                # Sandbox credentials only: acceptance checks sign test webhooks with them.
                entry.update(
                    public_key=gw.public_key,
                    secret_key=gw.secret_key,
                    webhook_secret=gw.webhook_secret,
                )
            gateways.append(entry)
        return tenant, {
            "slug": tenant.slug,
            "name": tenant.name,
            "store_url": settings.WASLA_PUBLIC_BASE_URL + f"/store/{tenant.slug}/",
            "api_token": plaintext,
            "gateways": gateways,
        }


def _sandbox_credentials(slug: str) -> list[tuple[str, str, str]]:
    """Fresh random sandbox keys, used only when a gateway is first connected."""
    token = secrets.token_hex
    return [
        ("tap", "pk_test_" + token(12), "sk_test_" + token(16)),
        ("stripe", "pk_test_" + token(12), "sk_test_" + token(16)),
        ("paypal", f"demo-{slug}-" + token(8), "paypal-secret-" + token(16)),
        ("cod", "", ""),
    ]
