"""The merchant's billing card API: the set-up answers Stripe's hosted setup page (replayed for
the same Idempotency-Key, one Stripe Customer per tenant however often it is asked), the card
reads back without any Stripe id, another tenant sees none, Stripe unreachable is a 503 problem;
and the collect command and task refuse to run without the platform key."""

from __future__ import annotations

import json
import uuid
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from sandbox.stripe_sim.models import StripeCheckoutSession, StripeCustomer
from testsupport.billing import (
    RETURN_URL,
    VISA,
    card_saved,
    card_setup_url,
    deliver,
    event_body,
    sandbox_knobs,
    signed,
)
from testsupport.factories import api_client_for
from testsupport.invoicing import make_invoiceable_tenant
from wasla.invoicing.models import BillingCard
from wasla.invoicing.tasks import collect_invoices

pytestmark = pytest.mark.django_db(transaction=True)


def _setup(api, key: str, body: dict | None = None):  # type: ignore[no-untyped-def]
    return api.post(
        "/api/v1/billing/card/setup/",
        {"return_url": RETURN_URL} if body is None else body,
        format="json",
        HTTP_IDEMPOTENCY_KEY=key,
    )


def test_card_setup_is_idempotent_and_the_card_reads_back(billing):
    tenant, other = make_invoiceable_tenant(), make_invoiceable_tenant()
    api = api_client_for(tenant)

    first, replayed = _setup(api, "setup-1"), _setup(api, "setup-1")
    assert first.status_code == replayed.status_code == 201
    assert first.json() == replayed.json()
    assert first.json()["checkout_url"].startswith(f"{billing}/sandbox/stripe/setup/cs_test_")
    assert card_setup_url(api) != first.json()["checkout_url"]  # a new key: a new session
    assert StripeCheckoutSession.objects.count() == 2
    assert StripeCustomer.objects.count() == 1  # one Customer for the tenant
    session = StripeCheckoutSession.objects.first()
    assert session is not None
    assert (session.mode, session.client_reference_id) == ("setup", str(tenant.pk))

    missing = api.post("/api/v1/billing/card/setup/", {}, format="json")
    assert missing.status_code == 400
    misspelt = _setup(api, "setup-2", {"retrun_url": RETURN_URL})
    assert misspelt.status_code == 400
    assert "retrun_url" in misspelt.json()["errors"]
    not_found = api.get("/api/v1/billing/card/")
    assert not_found.status_code == 404
    assert not_found["Content-Type"] == "application/problem+json"

    card_saved(api, VISA)
    card = api.get("/api/v1/billing/card/")
    assert card.status_code == 200
    assert set(card.json()) == {"brand", "last4", "exp_month", "exp_year", "saved_at"}
    assert api_client_for(other).get("/api/v1/billing/card/").status_code == 404
    assert BillingCard.objects.get(tenant=tenant).stripe_customer_id.startswith("cus_")


def test_stripe_unreachable_is_a_503_problem(billing):
    api = api_client_for(make_invoiceable_tenant())
    sandbox_knobs(billing, api="error_500", api_fail_count=1)

    answer = _setup(api, f"setup-{uuid.uuid4()}")

    assert answer.status_code == 503
    assert answer["Content-Type"] == "application/problem+json"
    assert not BillingCard.objects.exists()


def test_collection_needs_the_platform_key(settings):
    settings.WASLA_BILLING_STRIPE_SECRET_KEY = ""
    with pytest.raises(CommandError, match="WASLA_BILLING_STRIPE_SECRET_KEY"):
        call_command("collect_invoices")
    assert collect_invoices() == 0  # the beat task: nothing charged, nothing failed


def test_the_billing_webhook_registers_with_its_signing_secret(billing, settings):
    out = StringIO()
    call_command("billing_webhook_register", "--json", stdout=out)
    registered = json.loads(out.getvalue())
    assert registered["url"] == f"{billing}/webhooks/billing/stripe/"
    assert registered["secret"].startswith("whsec_")

    settings.WASLA_BILLING_STRIPE_WEBHOOK_SECRET = registered["secret"]
    body = event_body("plan.created", {"id": "plan_1"}, event_id="evt_registered")
    assert deliver(billing, body, signature=signed(body, registered["secret"])).status_code == 200
