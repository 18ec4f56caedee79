"""The settlement admin shows what a settlement is worth after its refunds (its own amounts
never change: each refund adds an adjustment), its fee snapshot as a table, and amounts to the
currency's exponent; settlements and frozen plan versions are read-only."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from testsupport.payments import paid_payment, refunded
from wasla.settlement.models import FeePlan, FeePlanAssignment, SettlementRecord

pytestmark = pytest.mark.django_db


def field(page: str, name: str) -> str:
    """The text of the read-only field `name` on a change page."""
    found = re.search(rf'field-{name}">.*?<div class="readonly">(.*?)</div>', page, re.S)
    assert found, f"no field {name}"
    return found.group(1).strip()


@pytest.fixture
def english(admin_client):
    admin_client.cookies["wasla_language"] = "en"
    return admin_client


def test_a_reversed_settlement_shows_its_effective_fee_and_net(english, tenant):
    attempt = paid_payment(tenant, "100.00")
    refunded(attempt, "100.00")
    settlement = SettlementRecord.objects.get(payment_attempt=attempt)
    assert settlement.status == SettlementRecord.Status.REVERSED

    page = english.get(f"/admin/settlement/settlementrecord/{settlement.pk}/change/").text
    listing = english.get("/admin/settlement/settlementrecord/").text

    assert field(page, "refunded_text") == "SAR\xa0100.00"
    assert field(page, "effective_fee_text") == "SAR\xa00.00"
    assert field(page, "effective_net_text") == "SAR\xa00.00"
    assert field(page, "wasla_fee_text") == "SAR\xa01.00"  # labelled as at confirmation
    assert "At confirmation (before any refund)" in page
    assert "99.000" not in page
    assert "1.000" not in page  # nor in the adjustment's own name
    assert "-SAR\xa01.00" in page  # the reversal adjustment's fee change, inline
    row = re.search(r"<tr>.*?field-effective_fee_text.*?</tr>", listing, re.S)
    assert row is not None
    assert "SAR\xa00.00" in row.group(0)
    assert "99.000" not in listing


def test_a_partly_refunded_settlement_keeps_its_fee_and_loses_net(english, tenant):
    attempt = paid_payment(tenant, "100.00")
    refunded(attempt, "40.00")
    settlement = SettlementRecord.objects.get(payment_attempt=attempt)

    page = english.get(f"/admin/settlement/settlementrecord/{settlement.pk}/change/").text

    assert field(page, "effective_fee_text") == "SAR\xa01.00"  # the fixed fee is kept
    assert field(page, "effective_net_text") == "SAR\xa059.00"  # 100 - 40 - 1


def test_the_fee_breakdown_is_a_table_with_amounts_in_the_currency(english, tenant):
    settlement = SettlementRecord.objects.get(payment_attempt=paid_payment(tenant, "250.00"))

    page = english.get(f"/admin/settlement/settlementrecord/{settlement.pk}/change/").text
    table = field(page, "fee_breakdown_table")

    assert table.startswith('<table class="wasla-kv">')
    assert '<th scope="row">fee (excl. VAT)</th><td>SAR\xa01.00</td>' in table
    assert '<th scope="row">payment</th><td>SAR\xa0250.00</td>' in table
    assert "{" not in table  # no raw JSON


def test_settlements_and_used_plans_are_read_only(english, tenant):
    settlement = SettlementRecord.objects.get(payment_attempt=paid_payment(tenant, "10.00"))
    plan = FeePlan.objects.get(pk=settlement.fee_plan_id)
    base = "/admin/settlement/settlementrecord"

    assert english.post(f"{base}/{settlement.pk}/change/", {}).status_code == 403
    assert english.get(f"{base}/{settlement.pk}/delete/").status_code == 403
    plan_page = english.get(f"/admin/settlement/feeplan/{plan.pk}/change/").text
    assert 'name="_save"' not in plan_page
    assert field(plan_page, "fixed_fee_text") == "SAR\xa01.00"
    listing = english.get("/admin/settlement/feeplan/").text
    assert "SAR\xa01.00" in listing


def test_a_used_assignment_shows_its_overrides_in_the_currency(english, tenant):
    assignment = FeePlanAssignment.objects.create(
        tenant=tenant,
        plan_code="standard",
        currency="SAR",
        effective_from=datetime(2025, 1, 1, tzinfo=UTC),
        fixed_fee_override=Decimal("0.5"),
    )
    paid_payment(tenant, "10.00")
    assignment.refresh_from_db()
    assert assignment.in_use

    page = english.get(f"/admin/settlement/feeplanassignment/{assignment.pk}/change/").text

    assert 'name="_save"' not in page
    assert field(page, "fixed_fee_override_text") == "SAR\xa00.50"
    assert "0.500" not in page
