"""The payments list (filters into ListFilters, 400 on bad input, 50 a page, the CSV link when
the exports exist) and one payment's page (amounts, masked customer, timeline)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from testsupport.factories import make_attempt, make_order, make_stripe_config
from testsupport.invoicing import (
    clock_at,
    paid_payment_at,
    percentage_fee_plan,
    riyadh,
    run_month,
    with_tax_profile,
)
from testsupport.payments import gateway, paid_payment, refunded
from testsupport.portal import member_client, sar
from wasla.payments.models import PaymentAttempt, RefundRecord, WebhookEvent

pytestmark = pytest.mark.django_db


def listed(client, **query) -> list[str]:
    answer = client.get("/merchant/payments/", query)
    assert answer.status_code == 200, answer.content.decode()[:3000]
    return [p.order.reference for p in answer.context["page"]]


def test_filters(tenant):
    tap = gateway(tenant)
    stripe = make_stripe_config(tenant)
    with clock_at(riyadh(2026, 3, 1, 0, 30)):  # Riyadh's 1 March, UTC's 28 February
        make_attempt(tap, make_order(tenant, reference="A-1"))
    with clock_at(riyadh(2026, 3, 2)):
        make_attempt(stripe, make_order(tenant, reference="B-2"), status="failed")
    with clock_at(riyadh(2026, 3, 3, 23, 59)):
        make_attempt(tap, make_order(tenant, reference="C-3"), method="stcpay", status="paid")
    client = member_client(tenant)
    assert listed(client) == ["C-3", "B-2", "A-1"]
    assert listed(client, status="failed") == ["B-2"]
    assert listed(client, provider="tap") == ["C-3", "A-1"]
    assert listed(client, method="stcpay") == ["C-3"]
    assert listed(client, reference="A-1") == ["A-1"]
    assert listed(client, reference=" A-1 ") == ["A-1"]
    assert listed(client, date_from="2026-03-01", date_to="2026-03-01") == ["A-1"]
    assert listed(client, date_from="2026-03-02") == ["C-3", "B-2"]
    assert listed(client, date_to="2026-03-03") == ["C-3", "B-2", "A-1"]
    assert listed(client, date_to="2026-03-02", provider="stripe", status="failed") == ["B-2"]


@pytest.mark.parametrize(
    "query",
    [
        {"status": "bogus"},
        {"provider": "nope"},
        {"method": "bitcoin"},
        {"date_from": "yesterday"},
        {"date_from": "2026-03-05", "date_to": "2026-03-01"},
        {"date_from": "2000-01-01", "date_to": "2026-01-01"},
        {"reference": "x" * 65},
    ],
)
def test_bad_filters_are_the_forms_errors_with_a_400(tenant, query):
    answer = member_client(tenant).get("/merchant/payments/", query)
    assert answer.status_code == 400
    assert 'class="error" role="alert"' in answer.content.decode()


def test_fifty_a_page(tenant):
    config = gateway(tenant)
    for _ in range(55):
        make_attempt(config)
    client = member_client(tenant)
    first = client.get("/merchant/payments/", {"status": "created"})
    assert len(first.context["page"]) == 50
    assert "page=2" in first.content.decode()
    assert "status=created" in first.content.decode()
    assert len(client.get("/merchant/payments/", {"page": 2}).context["page"]) == 5
    assert len(client.get("/merchant/payments/", {"page": "999"}).context["page"]) == 5
    assert len(client.get("/merchant/payments/", {"page": "abc"}).context["page"]) == 50


def test_the_csv_link_carries_the_current_filters(tenant):
    page = member_client(tenant).get("/merchant/payments/?status=paid&provider=tap&page=2")
    html = page.content.decode()
    assert 'href="/merchant/export/payments.csv?status=paid&amp;provider=tap"' in html


def test_the_payment_page(tenant):
    attempt = paid_payment(tenant, "250.00")
    refunded(attempt, "50.00")
    WebhookEvent.objects.create(
        tenant=tenant,
        gateway_config=attempt.gateway_config,
        provider="tap",
        event_id="evt_1",
        event_type="CHARGE.CAPTURED",
        headers={"hashstring": "SECRET-HASH"},
        body=f'{{"id": "{attempt.provider_reference}", "card": "SECRET-CARD"}}',
        signature_valid=True,
        status=WebhookEvent.Status.PROCESSED,
    )
    WebhookEvent.objects.create(  # another payment's event
        tenant=tenant,
        gateway_config=attempt.gateway_config,
        provider="tap",
        event_id="evt_2",
        event_type="OTHER.EVENT",
        headers={},
        body='{"id": "chg_other"}',
        signature_valid=True,
    )
    answer = member_client(tenant).get(f"/merchant/payments/{attempt.id}/")
    html = answer.content.decode()
    assert sar("250.00") in html
    assert sar("200.00") in html
    assert attempt.order.reference in html
    assert attempt.provider_reference in html
    assert "+9665•••••988" in html
    assert "b••••@example.com" in html
    assert "+966557877988" not in html
    assert "buyer@example.com" not in html
    kinds = [entry.kind for entry in answer.context["timeline"]]
    assert kinds[0] == "created"
    assert {"event", "paid", "refund", "settlement", "adjustment"} <= set(kinds)
    assert "CHARGE.CAPTURED" in html
    assert "OTHER.EVENT" not in html
    assert "SECRET" not in html


def test_a_failed_payment_page(tenant):
    attempt = make_attempt(gateway(tenant), status=PaymentAttempt.Status.FAILED)
    answer = member_client(tenant).get(f"/merchant/payments/{attempt.id}/")
    assert [e.kind for e in answer.context["timeline"]] == ["created", "failed"]
    assert answer.context["left"] == Decimal(0)


def _statements(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/merchant/payments/", {"provider": "tap"}).status_code == 200
    return len(queries)


def test_the_list_costs_the_same_statements_for_3_and_30_rows(tenant):
    config = gateway(tenant)
    client = member_client(tenant)
    since = timezone.now() - timedelta(days=1)
    for _ in range(3):
        make_attempt(config, created_at=since)
    few = _statements(client)
    for _ in range(27):
        make_attempt(config)
    assert _statements(client) == few


def test_the_confirmation_page_says_what_happens_to_wasla_s_fee(tenant):
    with_tax_profile(tenant)
    percentage_fee_plan()  # 1.00 + 2.5 %, the percentage given back on a partial refund
    january = paid_payment_at(tenant, riyadh(2026, 1, 10), "200.00")  # fee 6.00
    february = paid_payment_at(tenant, riyadh(2026, 2, 10), "100.00")  # fee 3.50
    assert run_month(tenant, 2026, 1) is not None  # January's fee is invoiced
    client = member_client(tenant)

    def fee_says(attempt, amount: str) -> str:
        page = client.post(
            f"/merchant/payments/{attempt.id}/refund/", {"amount": amount, "reason": "x"}
        )
        assert page.status_code == 200
        return page.content.decode().split('id="confirm-fee">')[1].split("</dd>")[0].strip()

    assert fee_says(february, "40.00") == "Wasla's fee goes down by SAR\u00a01.00."
    assert fee_says(february, "") == "Wasla's fee on this payment (SAR\u00a03.50) is reversed."
    assert fee_says(january, "200.00") == (
        "The fee was already invoiced: SAR\u00a06.00 will be credited by a credit note."
    )
    assert not RefundRecord.objects.exists()  # the confirmation page changes nothing
