"""No double charge under load (docs/invariants.md, invariant 1): concurrent checkouts of one
order make one attempt and one provider charge; retries reuse the provider idempotency key.
Real threads, one connection each."""

from __future__ import annotations

import json

import pytest
from rest_framework.test import APIClient

from sandbox.tap_sim.models import TapCharge
from testsupport.factories import make_attempt, make_order
from testsupport.threads import in_threads
from wasla.payments.models import PaymentAttempt
from wasla.payments.orchestrator import provider_idempotency_key
from wasla.payments.services import _attempt_start
from wasla.tenants.services import api_token_create

pytestmark = pytest.mark.django_db(transaction=True)


def _client(tenant) -> APIClient:
    _, token = api_token_create(tenant=tenant, name="race")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


@pytest.mark.parametrize("repeat", range(5))
def test_twenty_concurrent_checkouts_with_different_keys_make_one_attempt(
    sandbox, tenant, tap_config, repeat
):
    order = make_order(tenant)
    token_client = _client(tenant)
    body = json.dumps({"order": str(order.id), "provider": "tap", "method": "mada"})

    def checkout(i: int) -> int:
        client = APIClient()
        client.credentials(**token_client._credentials)
        response = client.post(
            "/api/v1/payments/",
            body,
            content_type="application/json",
            HTTP_IDEMPOTENCY_KEY=f"race-{repeat}-{i}",
        )
        return response.status_code

    statuses = in_threads(20, checkout)

    assert sorted(statuses) == [201] + [409] * 19, statuses
    assert PaymentAttempt.objects.filter(order=order).count() == 1
    assert TapCharge.objects.count() == 1


@pytest.mark.parametrize("repeat", range(3))
def test_twenty_concurrent_retries_with_one_key_make_one_attempt(
    sandbox, tenant, tap_config, repeat
):
    order = make_order(tenant)
    token_client = _client(tenant)
    body = json.dumps({"order": str(order.id), "provider": "tap", "method": "card"})

    def checkout(i: int) -> tuple[int, str]:
        client = APIClient()
        client.credentials(**token_client._credentials)
        response = client.post(
            "/api/v1/payments/",
            body,
            content_type="application/json",
            HTTP_IDEMPOTENCY_KEY="one-key",
        )
        return response.status_code, response.json().get("id", "")

    results = in_threads(20, checkout)

    statuses = [status for status, _ in results]
    assert set(statuses) <= {201, 409}, statuses
    assert 201 in statuses
    assert len({pid for status, pid in results if status == 201}) == 1  # replays are the same
    assert PaymentAttempt.objects.filter(order=order).count() == 1
    assert TapCharge.objects.count() == 1


def test_re_driving_an_attempt_reuses_its_provider_idempotency_key(sandbox, tenant, tap_config):
    order = make_order(tenant)
    attempt = make_attempt(tap_config, order)
    first = _attempt_start(attempt=attempt)
    # As if our process had died after the provider call: the attempt is driven once more.
    PaymentAttempt.objects.filter(pk=attempt.pk).update(provider_reference=None)
    attempt.refresh_from_db()
    again = _attempt_start(attempt=attempt)

    assert again.provider_reference == first.provider_reference
    charge = TapCharge.objects.get()
    assert charge.ref_idempotent == provider_idempotency_key(attempt)
