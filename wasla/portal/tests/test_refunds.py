"""Refunds from the portal, over real HTTP against the providers' sandboxes: the form, the
confirmation page (amount, fee consequence), the confirm POST through the API's idempotent
`refund_request` — a double submit refunds once — and the clear errors: more than is left,
nothing left, a provider's refusal, a stale or forged confirmation."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.core import signing

from testsupport.payments import cod_paid, paid_payment
from testsupport.portal import member_client, sar
from wasla.payments.models import PaymentAttempt, RefundRecord
from wasla.payments.tests.hosted import pay_on_hosted_page
from wasla.payments.tests.test_provider_contract import HARNESSES, checkout
from wasla.portal.payments import REFUND_TOKEN_SALT
from wasla.settlement.models import SettlementRecord
from wasla.tenants.models import TenantMember

pytestmark = pytest.mark.django_db(transaction=True)


def sandbox_paid(tenant, provider: str = "stripe") -> PaymentAttempt:
    HARNESSES[provider].connect(tenant)
    attempt = checkout(tenant, HARNESSES[provider])
    pay_on_hosted_page(attempt.redirect_url, "succeed")
    attempt.refresh_from_db()
    assert attempt.status == "paid"
    return attempt


def token_of(page) -> str:
    found = re.search(r'name="token" value="([^"]+)"', page.content.decode())
    assert found, page.content.decode()[:2000]
    return found.group(1)


def ask(client, attempt, amount: str = "", reason: str = "damaged on arrival"):
    return client.post(
        f"/merchant/payments/{attempt.id}/refund/", {"amount": amount, "reason": reason}
    )


def confirm(client, attempt, token: str):
    return client.post(f"/merchant/payments/{attempt.id}/refund/confirm/", {"token": token})


@pytest.mark.parametrize("provider", ["stripe", "tap"])
def test_partial_then_the_rest_through_the_confirmation_step(sandbox, tenant, provider):
    attempt = sandbox_paid(tenant, provider)
    client = member_client(tenant, TenantMember.Role.FINANCE)

    page = ask(client, attempt, "30.00")
    assert page.status_code == 200
    text = page.content.decode()
    assert sar("30.00") in text
    assert 'id="confirm-fee"' in text
    assert "fee does not change" in text
    assert not RefundRecord.objects.exists()  # nothing happens before the confirmation

    token = token_of(page)
    first = confirm(client, attempt, token)
    again = confirm(client, attempt, token)  # a double submit
    assert first.status_code == again.status_code == 302
    assert first["Location"] == f"/merchant/payments/{attempt.id}/"
    assert RefundRecord.objects.count() == 1
    attempt.refresh_from_db()
    assert (attempt.status, attempt.refunded_amount) == ("partially_refunded", Decimal("30.00"))
    shown = client.get(first["Location"]).content.decode()
    assert "The refund was made." in shown
    assert sar("70.00") in shown  # left to refund

    rest = ask(client, attempt)  # blank: the rest
    assert sar("70.00") in rest.content.decode()
    assert "reversed" in rest.content.decode()
    assert confirm(client, attempt, token_of(rest)).status_code == 302
    attempt.refresh_from_db()
    assert (attempt.status, attempt.refunded_amount) == ("refunded", Decimal("100.00"))
    assert SettlementRecord.objects.get(payment_attempt=attempt).status == "reversed"
    assert b"refund-form" not in client.get(f"/merchant/payments/{attempt.id}/").content


def test_errors_are_clear_and_never_a_500(sandbox, tenant):
    attempt = sandbox_paid(tenant)
    client = member_client(tenant)
    for amount, words in [
        ("100.01", "more than what is left"),
        ("0", "greater than zero"),
        ("-5", "greater than zero"),
        ("1.001", "decimal places"),
        ("abc", "Enter a number"),
    ]:
        answer = ask(client, attempt, amount)
        assert answer.status_code == 400, amount
        assert words in answer.content.decode(), amount
    assert ask(client, attempt, "5.00", reason="").status_code == 400

    forged = confirm(client, attempt, "not-a-token")
    assert forged.status_code == 400
    assert "expired or is not valid" in forged.content.decode()
    other_payment = signing.dumps(
        {"p": "00000000-0000-0000-0000-000000000000", "a": "1.00", "r": "x", "n": "n", "u": 1},
        salt=REFUND_TOKEN_SALT,
    )
    assert confirm(client, attempt, other_payment).status_code == 400
    # Another login cannot replay someone's confirmation page.
    token = token_of(ask(client, attempt, "60.00"))
    assert confirm(member_client(tenant), attempt, token).status_code == 400

    # Between the confirmation page and the click, someone else refunded 50.
    assert confirm(client, attempt, token_of(ask(client, attempt, "50.00"))).status_code == 302
    late = confirm(client, attempt, token)
    assert late.status_code == 409
    assert "more than what is left" in late.content.decode()
    assert RefundRecord.objects.count() == 1


def test_a_provider_refusal_is_shown_and_nothing_is_refunded(sandbox, tenant):
    attempt = paid_payment(tenant)  # confirmed here, unknown to the Tap sandbox
    client = member_client(tenant)
    answer = confirm(client, attempt, token_of(ask(client, attempt, "10.00")))
    assert answer.status_code == 302
    refund = RefundRecord.objects.get()
    assert refund.status in ("failed", "pending")
    page = client.get(answer["Location"]).content.decode()
    if refund.status == "failed":
        assert "refused the refund" in page
    else:
        assert "was sent to the payment provider" in page
    attempt.refresh_from_db()
    assert attempt.refunded_amount == Decimal("0")


def test_cash_on_delivery_is_not_refunded_from_the_portal(tenant):
    attempt = cod_paid(tenant)
    client = member_client(tenant)
    assert b"refund-form" not in client.get(f"/merchant/payments/{attempt.id}/").content
    answer = ask(client, attempt, "10.00")
    assert answer.status_code == 409
    assert "cannot be refunded here" in answer.content.decode()
    assert not RefundRecord.objects.exists()
