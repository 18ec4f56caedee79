"""A provider package installed by pip and found through the `wasla.payment_providers` entry
point runs a whole checkout — API, webhook view, confirmation, settlement — with no edit to
the orchestrator, models, URLs or webhook views."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from testsupport.factories import api_client_for, make_gateway_config, make_order
from wasla.payments.models import PaymentAttempt, WebhookEvent
from wasla.payments.providers import registry
from wasla.settlement.models import SettlementRecord

PLUGIN = Path(__file__).parent / "plugins" / "wasla_dummy_provider"


@pytest.fixture(scope="module")
def installed_plugin(tmp_path_factory):
    target = tmp_path_factory.mktemp("site")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-index",
            "--no-build-isolation",
            "--target",
            str(target),
            str(PLUGIN),
        ],
        check=True,
    )
    sys.path.insert(0, str(target))
    registry.clear_cache()
    yield
    sys.path.remove(str(target))
    sys.modules.pop("wasla_dummy_provider", None)
    registry.clear_cache()


def test_the_plugin_is_discovered_by_its_entry_point(installed_plugin):
    assert "dummy" in registry.provider_names()
    cls = registry.provider_class("dummy")
    assert cls.__module__ == "wasla_dummy_provider"
    assert {"tap", "stripe", "paypal", "cod"} <= set(registry.provider_names())


@pytest.mark.django_db
def test_a_plugin_provider_takes_a_payment_end_to_end(
    installed_plugin, tenant, django_capture_on_commit_callbacks
):
    from wasla_dummy_provider import sign

    config = make_gateway_config(tenant, "dummy", webhook_secret="dummy-webhook-secret")
    order = make_order(tenant)
    api = api_client_for(tenant)
    created = api.post(
        "/api/v1/payments/",
        {"order": str(order.id), "provider": "dummy", "method": "card"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="plugin-1",
    )
    assert created.status_code == 201, created.content
    payment = created.json()
    assert payment["redirect_url"].startswith("https://pay.dummy.example/dmy_")

    url = reverse("webhook", kwargs={"provider": "dummy", "token": config.webhook_token})
    body = json.dumps(
        {
            "id": "evt_1",
            "reference": payment["provider_reference"],
            "status": "succeeded",
            "amount": "100.00",
            "currency": "SAR",
        }
    ).encode()
    forged = Client().post(
        url,
        body,
        content_type="application/json",
        HTTP_X_DUMMY_SIGNATURE=sign(body, "not-the-secret"),
    )
    assert forged.status_code == 401
    with django_capture_on_commit_callbacks(execute=True):
        accepted = Client().post(
            url,
            body,
            content_type="application/json",
            HTTP_X_DUMMY_SIGNATURE=sign(body, "dummy-webhook-secret"),
        )
    assert accepted.status_code == 200

    attempt = PaymentAttempt.objects.get(pk=payment["id"])
    assert attempt.status == "paid"
    assert SettlementRecord.objects.get(payment_attempt=attempt).wasla_fee == 1
    assert WebhookEvent.objects.filter(signature_valid=True).get().status == "processed"
