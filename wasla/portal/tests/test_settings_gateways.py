"""The portal's gateways pages: who may see and change them, write-only secrets, the test
connection button against the sandbox simulators over real HTTP, the sandbox/live switch, and
tenant isolation (another tenant's gateway is a 404)."""

from __future__ import annotations

import secrets

import pytest
from django.test import Client
from django.urls import reverse

from testsupport.factories import (
    make_cod_config,
    make_paypal_config,
    make_stripe_config,
    make_tap_config,
    make_tenant,
)
from wasla.payments.models import PaymentGatewayConfig
from wasla.portal.tests.settings_support import client_for, make_member


def body(response) -> str:  # type: ignore[no-untyped-def]
    return response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["owner", "finance", "viewer"])
def test_every_role_sees_the_gateways_but_never_a_secret(tenant, role):
    tap = make_tap_config(tenant)
    stripe = make_stripe_config(tenant)
    make_cod_config(tenant)
    page = client_for(tenant, role).get(reverse("portal:gateways"))
    assert page.status_code == 200
    html = body(page)
    for secret in (tap.secret_key, stripe.secret_key, stripe.webhook_secret):
        assert secret
        assert secret not in html
    assert tap.public_key in html
    assert str(tap.webhook_token) in html  # the webhook URL, with its copy button
    assert '<script src="/static/portal/copy.js"></script>' in html  # the copy button's code
    assert ("Test connection" in html) == (role == "owner")


@pytest.mark.django_db
def test_connect_a_tap_gateway_stores_the_keys_and_shows_none_back(tenant):
    client = client_for(tenant)
    secret = "sk_test_" + secrets.token_hex(16)
    response = client.post(
        reverse("portal:gateway_connect"),
        {
            "provider": "tap",
            "mode": "live",
            "public_key": "pk_live_abc",
            "secret_key": secret,
            "webhook_secret": "",
            "is_active": "on",
        },
        follow=True,
    )
    assert response.redirect_chain[-1][0] == reverse("portal:gateways")
    config = PaymentGatewayConfig.objects.get(tenant=tenant, provider="tap", mode="live")
    assert (config.secret_key, config.public_key, config.is_active) == (secret, "pk_live_abc", True)
    html = body(response)
    assert secret not in html
    assert "is connected" in html


@pytest.mark.django_db
def test_connect_without_a_secret_key_is_refused_and_nothing_is_stored(tenant):
    response = client_for(tenant).post(
        reverse("portal:gateway_connect"), {"provider": "stripe", "mode": "sandbox"}
    )
    assert response.status_code == 200
    assert "Enter the secret key" in body(response)
    assert not PaymentGatewayConfig.objects.filter(tenant=tenant).exists()


@pytest.mark.django_db
def test_an_unknown_provider_or_mode_is_a_form_error_not_a_500(tenant):
    response = client_for(tenant).post(
        reverse("portal:gateway_connect"),
        {"provider": "bitcoin", "mode": "moon", "secret_key": "x"},
    )
    assert response.status_code == 200
    assert "Select a valid choice" in body(response)
    assert not PaymentGatewayConfig.objects.filter(tenant=tenant).exists()


@pytest.mark.django_db
def test_edit_with_empty_secret_fields_keeps_the_stored_secrets(tenant):
    config = make_stripe_config(tenant, public_key="pk_test_old")
    old_secret, old_webhook = config.secret_key, config.webhook_secret
    client = client_for(tenant)
    form = client.get(reverse("portal:gateway_edit", args=[config.pk]))
    html = body(form)
    assert old_secret not in html
    assert old_webhook not in html
    assert "•••• set" in html
    response = client.post(
        reverse("portal:gateway_edit", args=[config.pk]),
        {"public_key": "pk_test_new", "secret_key": "", "webhook_secret": "", "is_active": "on"},
    )
    assert response.status_code == 302
    config.refresh_from_db()
    assert (config.public_key, config.secret_key, config.webhook_secret) == (
        "pk_test_new",
        old_secret,
        old_webhook,
    )


@pytest.mark.django_db
def test_a_new_secret_replaces_the_old_one(tenant):
    config = make_tap_config(tenant)
    new = "sk_test_" + secrets.token_hex(16)
    client_for(tenant).post(
        reverse("portal:gateway_edit", args=[config.pk]),
        {"public_key": config.public_key, "secret_key": new, "is_active": "on"},
    )
    config.refresh_from_db()
    assert config.secret_key == new


@pytest.mark.django_db
def test_switching_to_live_turns_the_sandbox_gateway_off(tenant):
    sandbox = make_tap_config(tenant)
    live = make_tap_config(tenant, mode="live", is_active=False)
    client = client_for(tenant)
    response = client.post(reverse("portal:gateway_activate", args=[live.pk]))
    assert response.status_code == 302
    sandbox.refresh_from_db()
    live.refresh_from_db()
    assert (sandbox.is_active, live.is_active) == (False, True)
    client.post(reverse("portal:gateway_activate", args=[sandbox.pk]))
    sandbox.refresh_from_db()
    live.refresh_from_db()
    assert (sandbox.is_active, live.is_active) == (True, False)


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["finance", "viewer"])
def test_finance_and_viewers_cannot_change_a_gateway(tenant, role):
    config = make_tap_config(tenant, is_active=False)
    before = (config.public_key, config.secret_key)
    client = client_for(tenant, role)
    attempts = [
        client.get(reverse("portal:gateway_connect")),
        client.post(
            reverse("portal:gateway_connect"),
            {"provider": "stripe", "mode": "sandbox", "secret_key": "sk_test_x"},
        ),
        client.post(
            reverse("portal:gateway_edit", args=[config.pk]),
            {"public_key": "pk_evil", "secret_key": "sk_test_evil", "is_active": "on"},
        ),
        client.post(reverse("portal:gateway_activate", args=[config.pk])),
        client.post(reverse("portal:gateway_test", args=[config.pk])),
    ]
    assert [r.status_code for r in attempts] == [403] * 5
    assert "Not allowed" in body(attempts[0])
    config.refresh_from_db()
    assert (config.public_key, config.secret_key, config.is_active) == (*before, False)
    assert PaymentGatewayConfig.objects.filter(tenant=tenant).count() == 1


@pytest.mark.django_db
def test_another_tenants_gateway_is_a_404(tenant):
    theirs = make_tap_config(make_tenant(), is_active=False)
    client = client_for(tenant)
    responses = [
        client.get(reverse("portal:gateway_edit", args=[theirs.pk])),
        client.post(
            reverse("portal:gateway_edit", args=[theirs.pk]),
            {"public_key": "pk_x", "secret_key": "sk_test_x"},
        ),
        client.post(reverse("portal:gateway_activate", args=[theirs.pk])),
        client.post(reverse("portal:gateway_test", args=[theirs.pk])),
    ]
    assert [r.status_code for r in responses] == [404] * 4
    listing = body(client.get(reverse("portal:gateways")))
    assert str(theirs.webhook_token) not in listing
    theirs.refresh_from_db()
    assert (theirs.public_key, theirs.is_active) != ("pk_x", True)


@pytest.mark.django_db
def test_anonymous_visitors_go_to_the_login_page(tenant):
    response = Client().get(reverse("portal:gateways"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("portal:login"))


@pytest.mark.django_db
def test_a_post_without_the_csrf_token_is_refused(tenant):
    config = make_tap_config(tenant, is_active=False)
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_member(tenant).user)
    response = client.post(reverse("portal:gateway_activate", args=[config.pk]))
    assert response.status_code == 403
    config.refresh_from_db()
    assert config.is_active is False


# --- test connection: real HTTP to the sandbox simulators ----------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("maker", [make_tap_config, make_stripe_config, make_paypal_config])
def test_test_connection_succeeds_with_good_sandbox_keys(sandbox, maker):
    tenant = make_tenant()
    config = maker(tenant)
    response = client_for(tenant).post(
        reverse("portal:gateway_test", args=[config.pk]), follow=True
    )
    html = body(response)
    assert "accepted the keys" in html, html
    assert config.secret_key not in html


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("maker", "bad_secret"),
    [
        (make_tap_config, "sk_live_" + "7" * 24),
        (make_stripe_config, "sk_live_" + "8" * 24),
        (make_paypal_config, "wrong-secret-" + "9" * 16),
    ],
)
def test_test_connection_shows_the_providers_refusal_without_the_secret(
    sandbox, maker, bad_secret, caplog
):
    tenant = make_tenant()
    client = client_for(tenant)
    config = maker(tenant)
    if config.provider == "paypal":
        # The PayPal sandbox learns a client id's secret from its first token request.
        client.post(reverse("portal:gateway_test", args=[config.pk]))
    config.secret_key = bad_secret
    config.save()
    response = client.post(reverse("portal:gateway_test", args=[config.pk]), follow=True)
    html = body(response)
    assert "refused the keys" in html, html
    assert bad_secret not in html
    assert bad_secret not in caplog.text


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("secret", "accepted"),
    [("sk_test_" + secrets.token_hex(16), True), ("sk_live_" + secrets.token_hex(12), False)],
)
def test_connect_stripe_registers_the_webhook_with_the_sandbox(sandbox, secret, accepted):
    tenant = make_tenant()
    response = client_for(tenant).post(
        reverse("portal:gateway_connect"),
        {"provider": "stripe", "mode": "sandbox", "secret_key": secret, "is_active": "on"},
        follow=True,
    )
    html = body(response)
    assert secret not in html
    config = PaymentGatewayConfig.objects.get(tenant=tenant, provider="stripe")
    if accepted:
        assert config.webhook_secret.startswith("whsec_")
        assert config.webhook_secret not in html
        assert "•••• set" in html
    else:  # the sandbox refuses live keys: said on the form, no webhook secret
        assert response.redirect_chain == []
        assert "did not accept the connection" in html
        assert "sk_live" not in html  # not even the provider's redacted echo of the key
        assert config.webhook_secret == ""


@pytest.mark.django_db
def test_cash_on_delivery_has_nothing_to_test(tenant):
    config = make_cod_config(tenant)
    response = client_for(tenant).post(
        reverse("portal:gateway_test", args=[config.pk]), follow=True
    )
    assert "needs no connection" in body(response)
