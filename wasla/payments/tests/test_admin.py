"""The payments admin: amounts to the currency's exponent, provider answers and webhook bodies
readable, secrets never shown, money state read-only."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from testsupport.factories import make_attempt, make_order, make_refund, make_tap_config
from testsupport.payments import paid_payment, refunded
from wasla.payments.models import PaymentAttempt, WebhookEvent
from wasla.tenants.models import Tenant

pytestmark = pytest.mark.django_db


def in_english(client: Client) -> Client:
    client.cookies["wasla_language"] = "en"
    return client


def test_attempt_amounts_have_the_currency_decimals_in_list_and_detail(admin_client, tenant):
    config = make_tap_config(tenant)
    sar = make_attempt(config, make_order(tenant, "120.00"))
    kwd = make_attempt(config, make_order(tenant, "7.125", currency="KWD"))
    in_english(admin_client)

    listing = admin_client.get("/admin/payments/paymentattempt/").text
    sar_page = admin_client.get(f"/admin/payments/paymentattempt/{sar.pk}/change/").text
    kwd_page = admin_client.get(f"/admin/payments/paymentattempt/{kwd.pk}/change/").text

    assert "SAR\xa0120.00" in listing
    assert "KWD\xa07.125" in listing
    assert "120.000" not in listing
    assert "SAR\xa0120.00" in sar_page
    assert "120.000" not in sar_page
    assert "KWD\xa07.125" in kwd_page


def test_the_admin_speaks_arabic_by_default(admin_client, tenant):
    attempt = make_attempt(make_tap_config(tenant), make_order(tenant, "120.00"))

    page = admin_client.get(f"/admin/payments/paymentattempt/{attempt.pk}/change/").text

    assert 'lang="ar"' in page
    assert 'dir="rtl"' in page
    assert "120.00\xa0ر.س." in page
    assert "محاولة دفع" in page  # the model's verbose name in Arabic
    assert 'name="language" value="en"' in page  # the switch to English


def test_refunds_have_their_own_admin_and_show_on_the_attempt(admin_client, tenant):
    attempt = paid_payment(tenant, "120.00")
    refund = refunded(attempt, "20.50")
    pending = make_refund(PaymentAttempt.objects.get(pk=attempt.pk), "5.00")
    in_english(admin_client)

    listing = admin_client.get("/admin/payments/refundrecord/").text
    detail = admin_client.get(f"/admin/payments/refundrecord/{refund.pk}/change/").text
    attempt_page = admin_client.get(f"/admin/payments/paymentattempt/{attempt.pk}/change/").text
    searched = admin_client.get(f"/admin/payments/refundrecord/?q={refund.provider_reference}")

    assert "SAR\xa020.50" in listing
    assert "SAR\xa05.00" in listing
    assert "SAR\xa020.50" in detail
    assert 'name="_save"' not in detail
    assert "SAR\xa020.50" in attempt_page  # the refunds inline and the refunded total
    assert str(refund.pk) in searched.text
    assert str(pending.pk) not in searched.text
    assert admin_client.post(f"/admin/payments/refundrecord/{refund.pk}/change/").status_code == 403
    assert admin_client.get(f"/admin/payments/refundrecord/{refund.pk}/delete/").status_code == 403
    assert admin_client.get("/admin/payments/refundrecord/add/").status_code == 403


def test_a_webhook_body_is_pretty_printed_and_wraps(admin_client, tenant):
    config = make_tap_config(tenant)
    body = {"id": "chg_1", "object": "charge", "amount": 120, "note": "x" * 400}
    event = WebhookEvent.objects.create(
        tenant=tenant,
        gateway_config=config,
        provider="tap",
        event_id="chg_1",
        event_type="charge.captured",
        headers={"Content-Type": "application/json"},
        body=json.dumps(body, separators=(",", ":")),
        signature_valid=True,
        status=WebhookEvent.Status.PROCESSED,
    )
    in_english(admin_client)

    page = admin_client.get(f"/admin/payments/webhookevent/{event.pk}/change/").text

    assert '<pre class="wasla-json" dir="ltr">' in page
    assert "&quot;amount&quot;: 120,\n  &quot;id&quot;: &quot;chg_1&quot;" in page
    assert "white-space: pre-wrap" in page  # long values wrap instead of running off
    assert 'name="_save"' not in page


def test_a_gateway_config_page_never_shows_a_secret(admin_client, tenant):
    config = make_tap_config(
        tenant, secret_key="sk_test_never_shown_1", webhook_secret="whsec_never_shown_2"
    )
    for language in ("ar", "en"):
        admin_client.cookies["wasla_language"] = language
        for url in (
            "/admin/payments/paymentgatewayconfig/",
            f"/admin/payments/paymentgatewayconfig/{config.pk}/change/",
            f"/admin/payments/paymentgatewayconfig/?tenant__id__exact={tenant.pk}",
        ):
            page = admin_client.get(url)
            assert page.status_code == 200
            assert b"never_shown" not in page.content


def test_gateway_configs_filter_by_tenant(admin_client, tenant, other_tenant: Tenant):
    make_tap_config(tenant)
    make_tap_config(other_tenant)
    in_english(admin_client)

    page = admin_client.get(f"/admin/payments/paymentgatewayconfig/?tenant__id__exact={tenant.pk}")

    assert "1 payment gateway" in page.text
