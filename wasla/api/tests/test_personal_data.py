"""`manage.py purge_personal_data`: shoppers' personal data older than the period is gone (read
back with raw SQL), newer data is kept, every financial row is unchanged and the books still
verify; a second run changes nothing; a dry run changes nothing; bad arguments are refused."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from testsupport.invoicing import clock_at, ledger_verified, paid_payment_at
from testsupport.payments import paid_payment, refunded
from wasla.api.models import IdempotencyRecord
from wasla.api.personal_data import REMOVED, anonymised, anonymised_text
from wasla.api.tasks import purge_personal_data as purge_personal_data_task
from wasla.payments.models import PaymentAttempt, PaymentDispute, WebhookEvent

pytestmark = pytest.mark.django_db

EMAIL = "buyer@example.com"
PHONE = "557877988"
NAME = "Noura Al-Qahtani"
ADDRESS = "12 King Fahd Road, Al Olaya, Riyadh 12211"


def tap_charge(charge_id: str, amount: str) -> dict:
    """A Tap charge as its API answers it: the shopper echoed under `customer`."""
    return {
        "id": charge_id,
        "object": "charge",
        "status": "CAPTURED",
        "amount": float(Decimal(amount)),  # Tap's own JSON number, as stored
        "currency": "SAR",
        "reference": {"transaction": "txn_1", "order": "ORD-1"},
        "customer": {
            "first_name": NAME,
            "email": EMAIL,
            "phone": {"country_code": "966", "number": PHONE},
        },
        "source": {"id": "src_sa.mada"},
        "description": f"Order for {EMAIL}",
    }


def stripe_dispute(amount_minor: int) -> dict:
    return {
        "id": "dp_1",
        "object": "dispute",
        "amount": amount_minor,
        "currency": "sar",
        "status": "needs_response",
        "evidence": {
            "customer_email_address": EMAIL,
            "customer_name": NAME,
            "billing_address": ADDRESS,
        },
    }


def seed(tenant, moment: dt.datetime, tag: str) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """A paid, partly refunded, disputed payment at `moment`, with its webhook delivery and the
    API's stored answer, each carrying the shopper's e-mail, phone, name and address."""
    attempt = paid_payment_at(tenant, moment, amount="85.00")
    order = attempt.order
    order.customer_name = NAME
    order.delivery_address = ADDRESS
    order.save(update_fields=["customer_name", "delivery_address"])
    charge = tap_charge(attempt.provider_reference or "", "85.00")
    PaymentAttempt.objects.filter(pk=attempt.pk).update(raw_response=charge)
    with clock_at(moment):
        refund = refunded(attempt, "20.00")
        refund.raw_response = {"id": "re_1", "amount": 20.0, "status": "REFUNDED", **charge}
        refund.save(update_fields=["raw_response"])
        PaymentDispute.objects.create(
            tenant=tenant,
            provider="stripe",
            provider_reference=f"dp_{tag}",
            payment_attempt=attempt,
            amount=Decimal("85.00"),
            currency="SAR",
            raw=stripe_dispute(8500),
        )
        event = WebhookEvent.objects.create(
            tenant=tenant,
            gateway_config=attempt.gateway_config,
            provider="tap",
            event_id=f"evt_{tag}",
            headers={"hashstring": "abc"},
            body=json.dumps(charge),
            signature_valid=True,
            status="processed",
        )
        record = IdempotencyRecord.objects.create(
            tenant=tenant,
            key=f"key-{tag}",
            method="POST",
            path="/api/v1/orders/",
            fingerprint="f" * 64,
            state="done",
            response_status=201,
            response_body={
                "id": str(order.pk),
                "amount": "85.00",
                "customer_email": EMAIL,
                "customer_phone": "+966" + PHONE,
            },
        )
    return {"order": order.pk, "attempt": attempt.pk, "event": event.pk, "record": record.pk}


PERSONAL_SQL = {
    "orders": "SELECT customer_email || customer_phone || customer_name || delivery_address "
    "FROM orders_order WHERE id = %s",
    "attempts": "SELECT raw_response::text FROM payments_paymentattempt WHERE id = %s",
    "refunds": "SELECT raw_response::text FROM payments_refundrecord WHERE payment_attempt_id = %s",
    "disputes": "SELECT raw::text FROM payments_paymentdispute WHERE payment_attempt_id = %s",
    "webhooks": "SELECT body FROM payments_webhookevent WHERE id = %s",
    "idempotency": "SELECT response_body::text FROM api_idempotencyrecord WHERE id = %s",
}
KEY_OF = {
    "orders": "order",
    "attempts": "attempt",
    "refunds": "attempt",
    "disputes": "attempt",
    "webhooks": "event",
    "idempotency": "record",
}


def stored_text(ids: dict[str, object]) -> dict[str, str]:
    found = {}
    with connection.cursor() as cursor:
        for name, sql in PERSONAL_SQL.items():
            cursor.execute(sql, [ids[KEY_OF[name]]])
            found[name] = cursor.fetchone()[0]
    return found


# Everything that is money or identity of a record, as the database holds it.
FINANCIAL_SQL = [
    "SELECT id, reference, amount, currency, status, created_at, paid_at FROM orders_order",
    "SELECT id, order_id, provider, method, amount, currency, status, provider_reference, "
    "provider_payment_reference, refunded_amount, paid_at, created_at FROM payments_paymentattempt",
    "SELECT id, amount, currency, status, provider_reference, created_at "
    "FROM payments_refundrecord",
    "SELECT id, amount, currency, status, provider_reference FROM payments_paymentdispute",
    "SELECT id, event_id, status, signature_valid, received_at FROM payments_webhookevent",
    "SELECT * FROM settlement_settlementrecord",
    "SELECT * FROM ledger_ledgertransaction",
    "SELECT * FROM ledger_financialledgerentry",
    "SELECT * FROM ledger_ledgeraccount",
]


def financial_rows() -> list[list[tuple]]:
    with connection.cursor() as cursor:
        tables = []
        for sql in FINANCIAL_SQL:
            cursor.execute(sql + " ORDER BY 1")
            tables.append(cursor.fetchall())
    return tables


def purge(*args: str) -> str:
    out = StringIO()
    call_command("purge_personal_data", *args, stdout=out)
    return out.getvalue()


def assert_personal_data(texts: dict[str, str], *, present: bool) -> None:
    for name, text in texts.items():
        for value in (EMAIL, PHONE, NAME):
            if (name, value) in (("idempotency", NAME), ("disputes", PHONE)):
                continue  # never there: the API's answer has no name, the dispute no phone
            assert (value in text) is present, (name, value, text)


def test_old_personal_data_is_removed_new_kept_money_untouched(tenant):
    now = timezone.now()
    old = [seed(tenant, now - dt.timedelta(days=400 + n), f"old{n}") for n in range(3)]
    new = seed(tenant, now - dt.timedelta(days=10), "new")
    paid_payment(tenant)  # today's, from make_order's customer
    for ids in [*old, new]:
        assert_personal_data(stored_text(ids), present=True)
    money_before = financial_rows()

    report = purge("--older-than", "365", "--batch-size", "2")

    assert "orders: 3 anonymised of 3 examined" in report
    assert "webhook events: 3 anonymised of 3 examined" in report
    assert "total: 18 anonymised" in report
    for ids in old:
        texts = stored_text(ids)
        assert_personal_data(texts, present=False)
        assert texts["orders"] == ""
        assert REMOVED in texts["attempts"]
    assert_personal_data(stored_text(new), present=True)
    # What the provider said about the money is still there, unchanged.
    attempt = PaymentAttempt.objects.get(pk=old[0]["attempt"])
    assert attempt.raw_response["amount"] == 85.0
    assert attempt.raw_response["status"] == "CAPTURED"
    assert attempt.raw_response["id"] == attempt.provider_reference
    assert attempt.raw_response["customer"]["phone"] == REMOVED
    assert json.loads(WebhookEvent.objects.get(pk=old[0]["event"]).body)["amount"] == 85.0
    assert financial_rows() == money_before
    assert "ledger ok" in ledger_verified()

    after_first = {n: stored_text(ids) for n, ids in enumerate(old)}
    again = purge("--older-than", "365")
    assert "total: 0 anonymised" in again
    assert {n: stored_text(ids) for n, ids in enumerate(old)} == after_first
    assert financial_rows() == money_before


def test_dry_run_counts_and_changes_nothing(tenant):
    ids = seed(tenant, timezone.now() - dt.timedelta(days=40), "dry")
    before = stored_text(ids)
    report = purge("--older-than", "30", "--dry-run")
    assert "orders: 1 would be anonymised of 1 examined" in report
    assert "total: 6 would be anonymised (dry run: nothing changed)" in report
    assert stored_text(ids) == before


def test_the_default_period_comes_from_the_setting(tenant, settings):
    ids = seed(tenant, timezone.now() - dt.timedelta(days=40), "setting")
    settings.WASLA_PERSONAL_DATA_RETENTION_DAYS = 50
    assert "total: 0 anonymised" in purge()
    assert_personal_data(stored_text(ids), present=True)
    settings.WASLA_PERSONAL_DATA_RETENTION_DAYS = 30
    assert "older than 30 days" in purge()
    assert_personal_data(stored_text(ids), present=False)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--older-than", "-5"], "-5 is negative"),
        (["--older-than", "abc"], "'abc' is not a whole number of days"),
        (["--older-than", "1.5"], "'1.5' is not a whole number of days"),
        (["--older-than", ""], "is not a whole number of days"),
        (["--older-than", "99999999999"], "99999999999 days is more than 36500"),
        (["--batch-size", "0"], "the batch size must be at least 1"),
        (["--batch-size", str(10**30)], "the batch size must be at most 100000"),
    ],
)
def test_bad_arguments_are_refused_and_change_nothing(tenant, args, message):
    ids = seed(tenant, timezone.now() - dt.timedelta(days=4000), "bad")
    before = stored_text(ids)
    with pytest.raises(CommandError, match=message):
        purge(*args)
    assert stored_text(ids) == before


def test_anonymised_keeps_everything_but_personal_values():
    payload = {
        "id": "chg_1",
        "amount": 85.5,
        "status": "CAPTURED",
        "payer": {"name": {"given_name": "Noura", "surname": "Q"}, "payer_id": "P1"},
        "shipping": {"address": {"address_line_1": "x"}},
        "customer": {"email": None, "phone": "", "id": "cus_1"},
        "receipt": {"email": False, "sms": False},
        "links": [{"href": "https://example.com/x", "note": "mail a@b.co now"}],
    }
    cleaned = anonymised(payload)
    assert cleaned == {
        "id": "chg_1",
        "amount": 85.5,
        "status": "CAPTURED",
        "payer": {"name": REMOVED, "payer_id": "P1"},
        "shipping": REMOVED,
        "customer": {"email": None, "phone": "", "id": "cus_1"},
        "receipt": {"email": False, "sms": False},
        "links": [{"href": "https://example.com/x", "note": f"mail {REMOVED} now"}],
    }
    assert anonymised(cleaned) == cleaned
    assert anonymised_text("not json, from a@b.co") == f"not json, from {REMOVED}"
    assert anonymised_text('{"a": 1}') == '{"a": 1}'


def test_beats_daily_task_purges_with_the_setting(tenant, settings):
    old = seed(tenant, timezone.now() - dt.timedelta(days=100), "beat-old")
    new = seed(tenant, timezone.now() - dt.timedelta(days=20), "beat-new")
    settings.WASLA_PERSONAL_DATA_RETENTION_DAYS = 60
    counts = purge_personal_data_task.apply().get()
    assert counts["orders"] == 1
    assert sum(counts.values()) == 6
    assert_personal_data(stored_text(old), present=False)
    assert_personal_data(stored_text(new), present=True)
