import json
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from django.test import Client

from testsupport.demo import seed_demo_json
from testsupport.factories import make_tap_config, make_tenant
from testsupport.staff import totp_code_for_secret
from wasla.orders.models import Order
from wasla.payments.models import PaymentAttempt, PaymentGatewayConfig, WebhookEvent
from wasla.payments.tests.hosted import parse_forms, pay_on_hosted_page
from wasla.settlement.models import SettlementRecord
from wasla.storefront.models import Product
from wasla.tenants.models import ApiToken

REPO_ROOT = Path(__file__).resolve().parents[3]

# Seeding connects the demo gateways, which registers webhooks with the sandbox over HTTP.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("sandbox")]


def test_seed_demo_prints_what_the_acceptance_checks_need_and_reuses_data():
    first = seed_demo_json()
    second = seed_demo_json()
    assert [t["slug"] for t in first["tenants"]] == ["nakheel", "qahwa"]
    assert first["staff"]["username"] == "staff"
    assert first["staff"]["password"]
    # Staff sign in with a second factor: the secret is printed, and the same on every run.
    secret = first["staff"]["totp_secret"]
    assert secret == second["staff"]["totp_secret"]
    assert set(first["staff"]) == {"username", "password", "login_url", "totp_secret"}
    staff = Client()
    signed = staff.post(
        "/admin/login/",
        {
            "username": "staff",
            "password": first["staff"]["password"],
            "otp_token": totp_code_for_secret(secret),
        },
    )
    assert signed.status_code == 302
    assert staff.get("/admin/").status_code == 200
    assert staff.get("/dashboard/").status_code == 200
    for tenant in second["tenants"]:
        assert tenant["api_token"].startswith("wsl_")
        gateways = {g["provider"]: g for g in tenant["gateways"]}
        assert set(gateways) == {"tap", "stripe", "paypal", "cod"}
        assert all(g["mode"] == "sandbox" for g in gateways.values())
        assert gateways["tap"]["secret_key"].startswith("sk_test_")
        assert gateways["stripe"]["webhook_secret"].startswith("whsec_")  # registered
        assert gateways["paypal"]["webhook_secret"]  # the PayPal webhook id
        assert "/webhooks/tap/" in gateways["tap"]["webhook_url"]
    assert PaymentGatewayConfig.objects.count() == 8  # reused, not duplicated
    assert (
        first["tenants"][0]["gateways"][0]["secret_key"]
        == second["tenants"][0]["gateways"][0]["secret_key"]
    )
    # Old demo tokens are revoked: only the newest works.
    assert ApiToken.objects.filter(revoked_at__isnull=True).count() == 2
    client = Client(HTTP_AUTHORIZATION=f"Bearer {first['tenants'][0]['api_token']}")
    assert client.get("/api/v1/orders/").status_code == 401
    client = Client(HTTP_AUTHORIZATION=f"Bearer {second['tenants'][0]['api_token']}")
    assert client.get("/api/v1/orders/").status_code == 200


def test_live_gateway_secrets_are_never_printed():
    seed_demo_json()
    config = PaymentGatewayConfig.objects.filter(tenant__slug="nakheel", provider="tap").get()
    make_tap_config(config.tenant, mode="live", public_key="", secret_key="sk_live_do_not_print")
    output = json.dumps(seed_demo_json())
    assert "sk_live_do_not_print" not in output


def test_store_pages_and_bad_choices():
    seed_demo_json()
    # The demo's past orders are there; a refused choice adds none.
    orders, attempts = Order.objects.count(), PaymentAttempt.objects.count()
    client = Client()
    home = client.get("/store/nakheel/")
    assert home.status_code == 200
    assert b"Sukkari" in home.content
    assert client.get("/store/nope/").status_code == 404
    product_url = home.content.decode().split('href="/store/nakheel/products/')[1].split('"')[0]
    page = client.get(f"/store/nakheel/products/{product_url}")
    assert page.status_code == 200
    for method in (
        b"tap:mada",
        b"tap:stcpay",
        b"tap:card",
        b"stripe:card",
        b"paypal:paypal",
        b"cod:cod",
    ):
        assert method in page.content
    bad = client.post(f"/store/nakheel/products/{product_url}", {"payment": "tap:bitcoin"})
    assert bad.status_code == 400
    no_phone = client.post(f"/store/nakheel/products/{product_url}", {"payment": "tap:stcpay"})
    assert no_phone.status_code == 422
    assert "يتطلب الدفع عبر STC Pay رقم جوالك." in no_phone.content.decode()  # Arabic first
    client.cookies["wasla_language"] = "en"
    no_phone = client.post(f"/store/nakheel/products/{product_url}", {"payment": "tap:stcpay"})
    assert b"STC Pay needs your mobile number." in no_phone.content
    assert (Order.objects.count(), PaymentAttempt.objects.count()) == (orders, attempts)


def test_demo_settings_point_every_provider_at_the_local_sandbox():
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith(("WASLA_", "DATABASE_URL"))}
    env.update(DJANGO_SETTINGS_MODULE="config.settings.demo", PORT="8123")
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print({p: u['sandbox'] for p, u in s.WASLA_PROVIDER_BASE_URLS.items()}); "
        "print(s.WASLA_PROVIDER_OPTIONS['paypal']['cert_hosts'], s.DATABASES['default']['ENGINE'])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout
    for provider in ("tap", "stripe", "paypal"):
        assert f"'{provider}': 'http://127.0.0.1:8123/sandbox/{provider}'" in out
    assert "127.0.0.1" in out
    assert "sqlite3" in out


@pytest.mark.parametrize("method", ["mada", "stcpay", "card"])
def test_storefront_tap_payment_over_real_http(sandbox, method):
    """The shopper's path without a browser: store page → product form (CSRF and all) → Tap
    sandbox hosted page (OTP for STC Pay, 3DS for cards) → signed webhook → return page "Paid",
    one settlement with the 1.00 SAR fee. Every hop is a real HTTP request to the live server."""
    tenant = make_tenant()
    make_tap_config(tenant)
    product = Product.objects.create(
        tenant=tenant, name="Sukkari dates, 1 kg", description="Soft.", price=Decimal("85.00")
    )
    product_path = f"/store/{tenant.slug}/products/{product.pk}/"
    with httpx.Client(base_url=sandbox, timeout=30) as shopper:
        home = shopper.get(f"/store/{tenant.slug}/")
        assert home.status_code == 200
        assert product_path in home.text
        page = shopper.get(product_path)
        [form] = parse_forms(page.text)
        assert form["fields"]["csrfmiddlewaretoken"]
        placed = shopper.post(
            product_path,
            data={
                **form["fields"],
                "payment": f"tap:{method}",
                "email": "buyer@example.com",
                "phone": "0557877988",
            },
        )
    assert placed.status_code == 302, placed.text
    hosted_url = placed.headers["location"]
    assert hosted_url.startswith(f"{sandbox}/sandbox/tap/pay/")
    attempt = PaymentAttempt.objects.get(tenant=tenant)
    assert (attempt.status, attempt.method) == ("pending", method)

    visited: list[str] = []
    final = pay_on_hosted_page(hosted_url, "succeed", otp="482913", visited=visited)

    assert final.status_code == 200
    assert final.url.path == f"/payments/return/{attempt.id}/"
    assert 'data-status="paid"' in final.text
    assert "مدفوع" in final.text  # the shopper sent no language cookie: Arabic
    assert any("/3ds/" in url for url in visited) == (method == "card"), visited
    attempt.refresh_from_db()
    assert attempt.status == "paid"
    assert Order.objects.get(pk=attempt.order_id).status == "paid"
    settlement = SettlementRecord.objects.get(order_id=attempt.order_id)
    assert (settlement.gross_amount, settlement.wasla_fee, settlement.net_amount) == (
        Decimal("85.00"),
        Decimal("1.00"),
        Decimal("84.00"),
    )
    event = WebhookEvent.objects.get(signature_valid=True)
    assert (event.status, event.event_type) == ("processed", "charge.captured")


def test_database_url_overrides_the_demo_database():
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith(("WASLA_", "DATABASE_URL"))}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.demo",
        DATABASE_URL="postgres://someone@db.example:5433/elsewhere",
    )
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "d = s.DATABASES['default']; print(d['ENGINE'], d['HOST'], d['PORT'], d['NAME'])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout
    # PostgreSQL goes through our backend, which hands the tenant scope to row-level security.
    assert out.split() == ["wasla.common.db.postgresql", "db.example", "5433", "elsewhere"]


DEMO_PAYMENT = """
from decimal import Decimal

import django

django.setup()
from django.core.management import call_command

call_command("migrate", verbosity=0)
from testsupport.factories import make_cod_config, make_order, make_tenant
from wasla.ledger.models import LedgerTransaction
from wasla.payments.refunds import refund_record_cash
from wasla.payments.services import payment_checkout, payment_collect

tenant = make_tenant("demo")
make_cod_config(tenant)
order = make_order(tenant, "50.00", reference="R-1", customer_phone="", customer_email="")
attempt = payment_checkout(
    tenant=tenant, order_id=order.id, provider="cod", method="cod", return_url="", client_key="k"
)
attempt = payment_collect(tenant=tenant, attempt_id=attempt.id)
refund_record_cash(
    tenant=tenant, attempt_id=attempt.id, amount=Decimal("50.00"), reason="", receipt="R-1"
)
attempt.refresh_from_db()
print(attempt.status, attempt.settlement.status, LedgerTransaction.objects.count())
call_command("verify_ledger")
"""


def test_the_demo_on_sqlite_confirms_refunds_and_books_a_payment(tmp_path):
    """The zero-setup demo runs the same money path on SQLite: no PostgreSQL-only statement
    (advisory locks, triggers, row-level security) may stand in its way."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith(("WASLA_", "DATABASE_URL"))}
    env.update(
        PYTHONPATH=str(REPO_ROOT),  # the script imports the factories from testsupport/
        DJANGO_SETTINGS_MODULE="config.settings.demo",
        DATABASE_URL=f"sqlite:///{tmp_path}/demo.sqlite3",
        CACHE_URL="locmemcache://demo-test",
    )
    done = subprocess.run(
        [sys.executable, "-c", DEMO_PAYMENT], env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.split()[-5:] == ["refunded", "reversed", "2", "ledger", "ok"]
