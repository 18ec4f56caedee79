"""The demo's past: `seed_demo` gives each demo tenant a valid tax profile and two past calendar
months (Asia/Riyadh) of paid orders confirmed at their own time, invoices those months, collects
nakheel's invoices by card (its test card saved on Wasla's Stripe account, the charges paid by
the billing webhook of the sandbox's pre-configured endpoint) and leaves qahwa's outstanding, and
adds nothing when run again; the ledger it leaves verifies."""

from __future__ import annotations

import json
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from sandbox.stripe_sim.models import StripePaymentIntent
from testsupport.demo import seed_demo_json
from testsupport.invoicing import ledger_verified
from testsupport.payments import balance
from wasla.invoicing.models import BillingCard, CollectionTry, Invoice, InvoiceSettlement
from wasla.ledger.accounts import AccountRole
from wasla.ledger.models import LedgerTransaction
from wasla.orders.models import Order
from wasla.payments.models import PaymentAttempt, RefundRecord
from wasla.settlement.models import SettlementRecord
from wasla.settlement.selectors import month_bounds
from wasla.storefront.demo_history import demo_months
from wasla.tenants.models import Tenant
from wasla.tenants.tax_profile import tenant_tax_profile_problems

# Seeding connects the demo gateways, which registers webhooks with the sandbox over HTTP.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("demo_billing")]

SLUGS = ("nakheel", "qahwa")


@pytest.fixture
def demo_billing(sandbox: str, settings) -> str:  # type: ignore[no-untyped-def]
    """Billing as the demo configures it: the sandbox's account for Wasla's key comes with the
    billing webhook endpoint (SANDBOX_STRIPE_ACCOUNTS), and try 1 is due on the day of issue."""
    settings.WASLA_BILLING_STRIPE_WEBHOOK_SECRET = "whsec_seedDemoTestBillingSecret0001"
    settings.WASLA_COLLECTION_SCHEDULE_DAYS = [0, 1, 3]
    settings.SANDBOX_STRIPE_ACCOUNTS = [
        {
            "secret_key": settings.WASLA_BILLING_STRIPE_SECRET_KEY,
            "webhook_endpoints": [
                {
                    "url": f"{sandbox}/webhooks/billing/stripe/",
                    "secret": settings.WASLA_BILLING_STRIPE_WEBHOOK_SECRET,
                    "enabled_events": ["payment_intent.succeeded"],
                }
            ],
        }
    ]
    return sandbox


def _counts() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (
            Order,
            PaymentAttempt,
            SettlementRecord,
            RefundRecord,
            Invoice,
            InvoiceSettlement,
            LedgerTransaction,
        )
    }


def test_each_demo_tenant_has_a_valid_tax_profile_in_riyadh_or_jeddah(settings):
    seed_demo_json()
    tenants = Tenant.objects.filter(slug__in=SLUGS).order_by("slug")
    assert [t.city for t in tenants] == ["Riyadh", "Jeddah"]
    for tenant in tenants:
        assert tenant_tax_profile_problems(tenant) == []
        tenant.full_clean()
        assert tenant.vat_number != settings.WASLA_SELLER["vat_number"]  # not Wasla's own
    assert len({t.vat_number for t in tenants}) == 2


def test_two_past_months_are_paid_invoiced_once_and_the_ledger_verifies():
    first = seed_demo_json()
    counts = _counts()
    second = seed_demo_json()
    assert _counts() == counts  # a second run reuses everything and adds nothing
    assert second["invoices"] == first["invoices"]

    older, newer = months = demo_months(now=timezone.now())
    assert [(i["tenant"], i["year"], i["month"]) for i in first["invoices"]] == [
        (slug, *month) for month in months for slug in SLUGS
    ]
    for row in first["invoices"]:
        if row["tenant"] == "nakheel":  # collected by card
            assert (row["status"], row["amount_due"]) == ("paid", "0.00")
        else:  # left outstanding
            assert (row["status"], row["amount_due"]) == ("issued", row["total"])
        assert row["number"].startswith("INV-")
        assert row["pdf_url"] == f"/api/v1/invoices/{row['id']}/pdf/"
        assert row["zatca_status"] == "cleared"  # onboarded with the ZATCA simulator, cleared

    for slug in SLUGS:
        tenant = Tenant.objects.get(slug=slug)
        for year, month in months:
            start, end = month_bounds(year=year, month=month)
            orders = Order.objects.filter(
                tenant=tenant, reference__startswith=f"DEMO-{year}{month:02d}-"
            )
            assert 14 <= orders.count() <= 19
            settlements = SettlementRecord.objects.filter(order__in=orders).select_related(
                "order", "payment_attempt"
            )
            assert settlements.count() == orders.count()
            for settlement in settlements:
                # Confirmed at its own time, inside its month, by the confirmation services.
                assert start <= settlement.payment_paid_at < end
                assert settlement.payment_attempt.paid_at == settlement.payment_paid_at
                assert settlement.order.paid_at == settlement.payment_paid_at
                assert settlement.order.created_at < settlement.payment_paid_at
                assert settlement.wasla_fee == Decimal("1.00")
            reversed_ = settlements.filter(status=SettlementRecord.Status.REVERSED)
            assert reversed_.count() == (1 if (year, month) == older else 0)

            invoice = Invoice.objects.get(tenant=tenant, year=year, month=month)
            billed = set(invoice.settlement_links.values_list("settlement_id", flat=True))
            standing = settlements.exclude(status=SettlementRecord.Status.REVERSED)
            assert billed == set(standing.values_list("pk", flat=True))
            assert invoice.total_operations == len(billed)
            assert invoice.subtotal == Decimal(len(billed))  # 1.00 SAR each
            assert invoice.vat_total == invoice.subtotal * Decimal("0.15")
            if slug == "nakheel":
                assert (invoice.status, invoice.amount_due) == (Invoice.Status.PAID, 0)
                (payment,) = invoice.payments.all()
                assert (payment.method, payment.amount) == ("card", invoice.total)
                assert payment.reference.startswith("pi_")
                assert payment.recorded_by == "stripe-billing-webhook"
                assert set(standing.values_list("status", flat=True)) == {"paid"}
            else:
                assert (invoice.status, invoice.amount_due) == (
                    Invoice.Status.ISSUED,
                    invoice.total,
                )
                assert not invoice.payments.exists()
                assert set(standing.values_list("status", flat=True)) == {"invoiced"}

        attempts = PaymentAttempt.objects.filter(tenant=tenant)
        assert set(attempts.values_list("provider", flat=True)) == {
            "tap",
            "stripe",
            "paypal",
            "cod",
        }
        assert {"mada", "card", "paypal", "cod"} <= set(attempts.values_list("method", flat=True))
        refunds = RefundRecord.objects.filter(tenant=tenant)
        assert sorted(refunds.values_list("status", "provider")) == [
            ("succeeded", "cod"),
            ("succeeded", "cod"),
        ]
        assert set(attempts.filter(refunded_amount__gt=0).values_list("status", flat=True)) == {
            "refunded",
            "partially_refunded",
        }
        # Everything earned is billed: nothing left unbilled; qahwa's invoices' totals are
        # receivable, nakheel's went to Stripe clearing.
        invoiced = sum(i.total for i in Invoice.objects.filter(tenant=tenant))
        assert balance(tenant, AccountRole.UNBILLED) == 0
        paid_by_card = slug == "nakheel"
        assert balance(tenant, AccountRole.RECEIVABLE) == (0 if paid_by_card else invoiced)
        assert balance(tenant, AccountRole.STRIPE_CLEARING) == (invoiced if paid_by_card else 0)

    # One card, one charge per nakheel invoice; the second run charged nothing more.
    card = BillingCard.objects.get(tenant__slug="nakheel")
    assert (card.brand, card.last4) == ("visa", "4242")
    assert not BillingCard.objects.filter(tenant__slug="qahwa").exists()
    assert list(CollectionTry.objects.values_list("invoice__tenant__slug", "number", "status")) == [
        ("nakheel", 1, "succeeded"),
        ("nakheel", 1, "succeeded"),
    ]
    assert StripePaymentIntent.objects.filter(status="succeeded").count() == 2
    assert ledger_verified().strip().endswith("ledger ok")
    out = StringIO()
    call_command("generate_invoices", "--year", newer[0], "--month", newer[1], "--json", stdout=out)
    outcomes = {t["tenant"]: t["outcome"] for t in json.loads(out.getvalue())["tenants"]}
    assert outcomes == {"nakheel": "already_invoiced", "qahwa": "already_invoiced"}


def test_each_demo_tenant_gets_an_owner_login_whose_password_each_run_resets(settings):
    from django.contrib.auth import get_user_model
    from django.test import Client

    from wasla.tenants.models import TenantMember

    first = seed_demo_json()["merchant_users"]
    assert [(m["tenant"], m["username"]) for m in first] == [
        ("nakheel", "nakheel-owner"),
        ("qahwa", "qahwa-owner"),
    ]
    for login in first:
        member = TenantMember.objects.select_related("user", "tenant").get(
            user__username=login["username"]
        )
        assert (member.tenant.slug, member.role) == (login["tenant"], "owner")
        assert member.user.email
        assert member.user.check_password(login["password"])

    out = StringIO()
    call_command("seed_demo", stdout=out)  # the plain summary prints the new password
    users = get_user_model().objects.filter(username__in=["nakheel-owner", "qahwa-owner"])
    assert users.count() == 2
    assert TenantMember.objects.filter(user__in=users).count() == 2
    printed = out.getvalue()
    for login in first:
        user = users.get(username=login["username"])
        assert not user.check_password(login["password"])  # reset
        new_password = printed.split(f"{login['username']} / ", 1)[1].split()[0]
        assert user.check_password(new_password)
    browser = Client()
    signed_in = browser.post(
        "/merchant/login/",
        {"username": "qahwa-owner", "password": new_password, "next": "/merchant/gateways/"},
    )
    assert (signed_in.status_code, signed_in["Location"]) == (302, "/merchant/gateways/")
    assert browser.session["_auth_user_id"] == str(users.get(username="qahwa-owner").pk)
